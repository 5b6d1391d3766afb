import type { Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import type { Random } from '../core/random.js'
import type { Status } from '../core/status.js'
import type { Counter, StatsReceiver } from '../stats/stats.js'
import type { LoadMetric } from './load/metric.js'

/**
 * A node as a distributor sees it: one endpoint with its health, weight and load. Distributors never
 * create or own nodes; the balancer does.
 *
 * @example
 * ```ts
 * const cheaper = (a: PickNode, b: PickNode) => (a.load() <= b.load() ? a : b)
 * ```
 */
export interface PickNode {
  /** `host:port`, unique in the balancer. */
  readonly key: string
  /** The endpoint's weight (1 when the address says nothing). */
  readonly weight: number
  /** The endpoint service's status: `open` takes requests. */
  readonly status: Status
  /** Requests dispatched to this node and not yet ended. */
  readonly pending: number
  /** A random 32-bit number drawn when the node was created (random aperture orders by it). */
  readonly token: number
  /** The load metric's current value (lower is better). */
  load(): number
  /** Scratch space owned by the current distributor (the heap keeps positions here). */
  slot: number
  /** Scratch space owned by the current distributor (the heap marks penalized nodes here). */
  mark: number
}

/**
 * A pick strategy over one immutable vector of nodes. The balancer builds a new distributor when
 * the node set changes or when `needsRebuild()` says the vector is stale; picks never see a
 * half-updated vector.
 *
 * @example
 * ```ts
 * const first: Distributor<PickNode> = { pick: () => nodes[0]!, needsRebuild: () => false }
 * ```
 */
export interface Distributor<N extends PickNode> {
  /** One candidate (called only on a non-empty vector). The balancer checks its status. */
  pick(): N
  /** The vector should be rebuilt (e.g. round robin saw a down node). */
  needsRebuild(): boolean
  /** A request was dispatched to `node` (its load has gone up). */
  acquired?(node: N): void
  /** A request on `node` ended (its load has gone down). */
  released?(node: N): void
}

/**
 * What a balancer gives its algorithm: injected time, randomness and the `loadbalancer` stats scope.
 *
 * @example
 * ```ts
 * const instantiate = (ctx: AlgorithmContext) => ({ build: (nodes) => myDistributor(nodes, ctx.random) })
 * ```
 */
export interface AlgorithmContext {
  readonly clock: Clock
  readonly random: Random
  readonly stats: StatsReceiver
  /** `p2c/zero`: both P2C candidates had load 0 (the metric told nothing). */
  readonly p2cZero: Counter
}

/**
 * One balancer's instance of an algorithm: builds distributors and keeps state across rebuilds.
 *
 * @example
 * ```ts
 * const instance: AlgorithmInstance = { build: (nodes) => ({ pick: () => nodes[0]!, needsRebuild: () => false }) }
 * ```
 */
export interface AlgorithmInstance {
  build<N extends PickNode>(nodes: readonly N[]): Distributor<N>
  /** A request was dispatched (to any node, including one being drained). */
  started?(): void
  /** A request ended (on any node, including one already removed). */
  finished?(): void
  /** Releases gauges. */
  close?(): void
}

/**
 * A balancing algorithm: a load metric plus a distributor. `p2c()`, `p2cPeakEwma()`, `aperture()`,
 * `heap()` and `roundRobin()` make one; a custom algorithm implements this interface (the simulator's
 * oracle does).
 *
 * @example
 * ```ts
 * const firstOpen: BalancerAlgorithm = {
 *   name: 'first_least_loaded', maxEffort: 1, weighted: false, load: leastLoaded(),
 *   instantiate: () => ({ build: (nodes) => ({ pick: () => nodes[0]!, needsRebuild: () => false }) }),
 * }
 * ```
 */
export interface BalancerAlgorithm {
  /** The `algorithm/<name>_weighted` gauge, e.g. `p2c_peak_ewma`. */
  readonly name: string
  /** Picks tried per request before panicking (Finagle's `PanicMode`). */
  readonly maxEffort: number
  /**
   * Whether the distributor weighs nodes itself (aperture). If not, the balancer splits nodes into
   * weight classes, one distributor each, and picks a class with probability ∝ weight × size.
   */
  readonly weighted: boolean
  readonly load: LoadMetric
  instantiate(ctx: AlgorithmContext): AlgorithmInstance
}

/**
 * The P2C comparison (Finagle's `P2CPick`, and `WeightedP2CPick` when weights are given): the
 * healthier status wins; on equal health the lower load wins, ties going to `a`. Weights that differ
 * by more than 1e-4 compare load ÷ weight instead (a zero weight counts as 1). Counts `p2c/zero`
 * when both loads are 0.
 *
 * @example
 * ```ts
 * const winner = pickOfTwo(nodes[i]!, nodes[j]!, ctx.p2cZero)
 * ```
 */
export function pickOfTwo<N extends PickNode>(a: N, b: N, zero: Counter, wa = 1, wb = 1): N {
  const sa = a.status
  const sb = b.status
  if (sa !== sb) return rank(sa) >= rank(sb) ? a : b
  const la = a.load()
  const lb = b.load()
  if (la === 0 && lb === 0) zero.incr()
  if (Math.abs(wa - wb) < 1e-4) return la <= lb ? a : b
  return la / (wa === 0 ? 1 : wa) <= lb / (wb === 0 ? 1 : wb) ? a : b
}

function rank(s: Status): number {
  return s === 'open' ? 2 : s === 'busy' ? 1 : 0
}

/**
 * Checks a `maxEffort` option: an integer ≥ 0.
 *
 * @example
 * ```ts
 * checkMaxEffort('p2c', 4) // 4
 * ```
 */
export function checkMaxEffort(owner: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new InvalidOptionError(owner, 'maxEffort', 'an integer ≥ 0', value)
  return value
}
