import type { LoadMeter, LoadMetric } from './metric.js'

// Least loaded keeps no state beyond the outstanding count the balancer maintains.
const METER: LoadMeter = {
  init: () => {},
  dispose: () => {},
  load: (state) => state.pending,
  start: () => 0,
  end: () => {},
}

const LEAST_LOADED: LoadMetric = { name: 'least_loaded', create: () => METER }

/**
 * Least loaded (Finagle's `LeastLoaded`): a node's load is its number of outstanding requests, +1
 * when one is dispatched to it and −1 when it ends, successfully or not. Latency counts only through
 * the requests a slow node holds on to.
 *
 * @example
 * ```ts
 * const lb = balancer({ addresses, connect, algorithm: p2c({ load: leastLoaded() }) })
 * ```
 */
export function leastLoaded(): LoadMetric {
  return LEAST_LOADED
}
