export { type AddrLike, type EndpointAddress, endpointKey, endpointWeight, WEIGHT_KEY } from './address.js'
export {
  type AlgorithmContext,
  type AlgorithmInstance,
  type BalancerAlgorithm,
  checkMaxEffort,
  type Distributor,
  type PickNode,
  pickOfTwo,
} from './algorithm.js'
export { type ApertureOptions, aperture, type ProcessCoordinate, stableHash } from './aperture.js'
export {
  type Balancer,
  type BalancerAddresses,
  type BalancerOptions,
  balancer,
  type EndpointInfo,
  type Lease,
} from './balancer.js'
export { NoBrokersAvailableError } from './errors.js'
export { heap } from './heap.js'
export { Ema } from './load/ema.js'
export { leastLoaded } from './load/leastLoaded.js'
export type { LoadMeter, LoadMetric, LoadState } from './load/metric.js'
export { PEAK_EWMA_PENALTY_MS, type PeakEwmaOptions, peakEwma } from './load/peakEwma.js'
export {
  DEFAULT_MAX_EFFORT,
  type P2COptions,
  type P2CPeakEwmaOptions,
  PanicMode,
  p2c,
  p2cPeakEwma,
} from './p2c.js'
export { type RoundRobinOptions, roundRobin } from './roundRobin.js'
