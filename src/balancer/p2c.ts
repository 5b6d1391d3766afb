import type { Random } from '../core/random.js'
import type { Counter } from '../stats/stats.js'
import {
  type BalancerAlgorithm,
  checkMaxEffort,
  type Distributor,
  type PickNode,
  pickOfTwo,
} from './algorithm.js'
import { leastLoaded } from './load/leastLoaded.js'
import type { LoadMetric } from './load/metric.js'
import { type PeakEwmaOptions, peakEwma } from './load/peakEwma.js'

/**
 * Finagle's `PanicMode` presets: the `maxEffort` (picks tried per request before panicking) that keeps
 * panics under about 1 % of requests while at most the named fraction of nodes is unhealthy. A P2C pick
 * lands on an unhealthy node only if both samples are unhealthy (≈ u²), so the preset is the smallest
 * k with (u²)^k ≤ 1 %. `Paranoid` (0) panics on every request, for tests.
 *
 * @example
 * ```ts
 * p2c({ maxEffort: PanicMode.ThirtyPercentUnhealthy }) // 2
 * ```
 */
export const PanicMode = {
  Paranoid: 0,
  TenPercentUnhealthy: 1,
  ThirtyPercentUnhealthy: 2,
  FortyPercentUnhealthy: 3,
  FiftyPercentUnhealthy: 4,
  MajorityUnhealthy: 5,
} as const

/**
 * Finagle's default `PanicMode`: `FiftyPercentUnhealthy`, 4 picks before panicking.
 *
 * @example
 * ```ts
 * p2c({ maxEffort: DEFAULT_MAX_EFFORT + 1 }) // MajorityUnhealthy
 * ```
 */
export const DEFAULT_MAX_EFFORT = 4

/**
 * The options of `p2c`.
 *
 * @example
 * ```ts
 * const options: P2COptions = { maxEffort: 2, load: leastLoaded() }
 * ```
 */
export interface P2COptions {
  /** Picks tried before panicking (default 4: ≤ 1 % of requests panic with half the nodes down). */
  readonly maxEffort?: number | undefined
  /** The load metric (default `leastLoaded()`). */
  readonly load?: LoadMetric | undefined
}

class P2CDistributor<N extends PickNode> implements Distributor<N> {
  private readonly nodes: readonly N[]
  private readonly random: Random
  private readonly zero: Counter
  constructor(nodes: readonly N[], random: Random, zero: Counter) {
    this.nodes = nodes
    this.random = random
    this.zero = zero
  }
  pick(): N {
    const n = this.nodes.length
    if (n === 1) return this.nodes[0]!
    // Two distinct indices, uniformly: shifting the whole upper range keeps b unbiased.
    const a = this.random.int(n)
    let b = this.random.int(n - 1)
    if (b >= a) b++
    return pickOfTwo(this.nodes[a]!, this.nodes[b]!, this.zero)
  }
  needsRebuild(): boolean {
    return false
  }
}

/**
 * Power of two choices (Finagle's default balancer, `choice`): pick two distinct nodes at random,
 * take the healthier, and on equal health the less loaded (ties to the first). O(1) per pick;
 * exponentially better balance than one random choice (Mitzenmacher). The default load metric is
 * least loaded (outstanding requests).
 *
 * @example
 * ```ts
 * const lb = balancer({ addresses: [{ host: '10.0.0.1', port: 80 }, { host: '10.0.0.2', port: 80 }], connect, algorithm: p2c() })
 * ```
 */
export function p2c(options: P2COptions = {}): BalancerAlgorithm {
  const load = options.load ?? leastLoaded()
  return {
    name: `p2c_${load.name}`,
    maxEffort: checkMaxEffort('p2c', options.maxEffort ?? DEFAULT_MAX_EFFORT),
    weighted: false,
    load,
    instantiate: (ctx) => ({
      build: (nodes) => new P2CDistributor(nodes, ctx.random, ctx.p2cZero),
    }),
  }
}

/**
 * The options of `p2cPeakEwma`.
 *
 * @example
 * ```ts
 * const options: P2CPeakEwmaOptions = { decayTimeMs: 5_000 }
 * ```
 */
export interface P2CPeakEwmaOptions extends PeakEwmaOptions {
  /** Picks tried before panicking (default 4). */
  readonly maxEffort?: number | undefined
}

/**
 * P2C over peak EWMA load (Finagle's `p2cPeakEwma`): cost = round-trip time averaged with decay
 * `decayTimeMs` (default 10 s) but raised at once by any slower sample, × (outstanding + 1). Steers
 * away from a node within a request or two of it slowing down; the best tail latency of the five.
 *
 * @example
 * ```ts
 * const lb = balancer({ addresses, connect, algorithm: p2cPeakEwma({ decayTimeMs: 10_000 }) })
 * ```
 */
export function p2cPeakEwma(options: P2CPeakEwmaOptions = {}): BalancerAlgorithm {
  return p2c({ maxEffort: options.maxEffort, load: peakEwma({ decayTimeMs: options.decayTimeMs }) })
}
