import type { Clock } from '../../core/clock.js'

/**
 * A node's load state. It lives on the node itself, so that reading a candidate's load during a
 * pick touches one object: the balancer keeps `pending`, and the metric owns three scratch numbers.
 *
 * @example
 * ```ts
 * const state: LoadState = { pending: 0, m0: 0, m1: 0, m2: 0 }
 * ```
 */
export interface LoadState {
  /** Outstanding requests on the node (maintained by the balancer). */
  readonly pending: number
  /** Scratch owned by the load metric (peak EWMA: cost). */
  m0: number
  /** Scratch owned by the load metric (peak EWMA: last observation time). */
  m1: number
  /** Scratch owned by the load metric (peak EWMA: the average's time, NaN before the first sample). */
  m2: number
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
 * const node = { pending: 0, m0: 0, m1: 0, m2: 0 }
 * meter.init(node)
 * meter.load(node) // 0
 * ```
 */
export interface LoadMeter {
  /** Sets up a new node's scratch numbers. */
  init(state: LoadState): void
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
