import type { Clock } from '../../core/clock.js'

/**
 * One node's load as a balancer sees it. `load()` is what P2C and the heap compare (lower is
 * better); `start()`/`end()` bracket one request (one session, in Finagle's words).
 *
 * @example
 * ```ts
 * const l = leastLoaded().create(manualClock())
 * const stamp = l.start(); l.load() // 1
 * l.end(stamp);            l.load() // 0
 * ```
 */
export interface NodeLoad {
  /** Requests started and not yet ended. */
  readonly pending: number
  /** The value compared when picking; reading it may decay it (peak EWMA). */
  load(): number
  /** A request starts; returns a stamp to hand back to `end`. */
  start(): number
  /** The request started with `stamp` ended (successfully or not). */
  end(stamp: number): void
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
  /** A fresh per-node load. */
  create(clock: Clock): NodeLoad
}
