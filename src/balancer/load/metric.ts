import type { Clock } from '../../core/clock.js'

/**
 * A node's load state, as a load metric sees it: the outstanding count (kept by the balancer) and
 * one number the metric owns. Peak EWMA keeps its per-node numbers in one array of its own and
 * stores the node's offset here, so that reading a candidate's load touches little memory.
 *
 * @example
 * ```ts
 * const state: LoadState = { pending: 0, metricSlot: 0 }
 * ```
 */
export interface LoadState {
  /** Outstanding requests on the node (maintained by the balancer). */
  readonly pending: number
  /** Owned by the load metric: set by `init`, given back by `dispose`. */
  metricSlot: number
}

/**
 * One balancer's instance of a load metric: reads and updates nodes' `LoadState`. `load` is what P2C
 * and the heap compare (lower is better); `start`/`end` bracket one request (one session, in
 * Finagle's words); the balancer has already counted the request in `pending` when it calls
 * `start`, and already uncounted it when it calls `end`.
 *
 * @example
 * ```ts
 * const meter = peakEwma().create(clock)
 * const node = { pending: 0, metricSlot: 0 }
 * meter.init(node)
 * meter.load(node) // 0
 * ```
 */
export interface LoadMeter {
  /** Sets up a new node. */
  init(state: LoadState): void
  /** The node is gone for good (closed): the metric may reuse what it held for it. */
  dispose(state: LoadState): void
  /** The value compared when picking; may decay the state (peak EWMA). */
  load(state: LoadState): number
  /** A request starts; returns a stamp to hand back to `end`. */
  start(state: LoadState): number
  /** The request started with `stamp` ended, successfully or not. */
  end(state: LoadState, stamp: number): void
}

/**
 * A load metric: how a node's load is measured. `leastLoaded()` counts outstanding requests;
 * `peakEwma()` weighs them by a peak-sensitive moving average of round-trip time.
 *
 * @example
 * ```ts
 * const metric: LoadMetric = peakEwma({ decayTimeMs: 10_000 })
 * metric.name // 'peak_ewma'
 * ```
 */
export interface LoadMetric {
  /** `least_loaded` or `peak_ewma`: the second half of the `algorithm/...` gauge name. */
  readonly name: string
  /** The meter one balancer uses for all its nodes. */
  create(clock: Clock): LoadMeter
}
