import type { Clock } from '../../core/clock.js'
import { InvalidOptionError } from '../../core/errors.js'
import type { LoadMeter, LoadMetric, LoadState } from './metric.js'

/**
 * The load of a node that has requests in flight but no latency sample yet: Finagle's
 * `Long.MaxValue >> 16` nanoseconds (≈ 39 h), here in milliseconds. Larger than any real cost, so a
 * new node gets one probe and is then avoided until that probe returns.
 */
export const PEAK_EWMA_PENALTY_MS = 2 ** 47 / 1e6

/** The options of `peakEwma`. */
export interface PeakEwmaOptions {
  /** τ, the mean lifetime of a latency sample, in ms (default 10 000; half-life = τ·ln 2). */
  readonly decayTimeMs?: number | undefined
}

// Per node: m0 = cost (ms), m1 = stamp (last observation), m2 = time of the average (NaN: none yet).
class PeakEwmaMeter implements LoadMeter {
  private readonly clock: Clock
  private readonly decayTimeMs: number
  constructor(clock: Clock, decayTimeMs: number) {
    this.clock = clock
    this.decayTimeMs = decayTimeMs
  }
  init(s: LoadState): void {
    s.m0 = 0
    s.m1 = this.clock.now()
    s.m2 = Number.NaN
  }
  private observe(s: LoadState, rtt: number): void {
    const t = this.clock.now()
    if (t > s.m1) s.m1 = t
    if (rtt > s.m0 || Number.isNaN(s.m2)) {
      // A peak is adopted at once: the average restarts from this sample.
      s.m0 = rtt
      s.m2 = s.m1
      return
    }
    const w = Math.exp(-(s.m1 - s.m2) / this.decayTimeMs)
    s.m2 = s.m1
    s.m0 = rtt * (1 - w) + s.m0 * w
  }
  load(s: LoadState): number {
    // Reading mixes in a zero sample: with no traffic the cost decays as cost·e^(−Δt/τ).
    this.observe(s, 0)
    if (s.m0 === 0 && s.pending !== 0) return PEAK_EWMA_PENALTY_MS + s.pending
    return s.m0 * (s.pending + 1)
  }
  start(_s: LoadState): number {
    return this.clock.now()
  }
  end(s: LoadState, stamp: number): void {
    this.observe(s, Math.max(this.clock.now() - stamp, 0))
  }
}

/**
 * Peak EWMA (Finagle's `PeakEwma`): load = cost × (outstanding + 1), where cost is a moving
 * average of round-trip time that jumps to any sample above it at once and otherwise decays with
 * time constant `decayTimeMs`. A node with requests in flight and no sample yet gets a huge penalty,
 * so a new node is probed once and then waited for. Reading the load mixes in a zero sample, so
 * a starved node's cost decays toward 0 and it is tried again.
 *
 * @example
 * ```ts
 * const lb = balancer({ addresses, connect, algorithm: p2c({ load: peakEwma({ decayTimeMs: 10_000 }) }) })
 * ```
 */
export function peakEwma(options: PeakEwmaOptions = {}): LoadMetric {
  const decayTimeMs = options.decayTimeMs ?? 10_000
  if (!(typeof decayTimeMs === 'number' && decayTimeMs > 0 && Number.isFinite(decayTimeMs)))
    throw new InvalidOptionError('peakEwma', 'decayTimeMs', 'a finite number > 0', decayTimeMs)
  return { name: 'peak_ewma', create: (clock) => new PeakEwmaMeter(clock, decayTimeMs) }
}
