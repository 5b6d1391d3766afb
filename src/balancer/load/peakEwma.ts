import type { Clock } from '../../core/clock.js'
import { InvalidOptionError } from '../../core/errors.js'
import { Ema } from './ema.js'
import type { LoadMetric, NodeLoad } from './metric.js'

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

class PeakEwmaLoad implements NodeLoad {
  pending = 0
  private cost = 0
  private stamp: number
  private readonly ema: Ema
  private readonly clock: Clock
  constructor(clock: Clock, decayTimeMs: number) {
    this.clock = clock
    this.stamp = clock.now()
    this.ema = new Ema(decayTimeMs)
  }
  private observe(rtt: number): void {
    const t = this.clock.now()
    if (t > this.stamp) this.stamp = t
    // A peak is adopted at once: forget the average so the next update sets it.
    if (rtt > this.cost) this.ema.reset()
    this.cost = this.ema.update(this.stamp, rtt)
  }
  load(): number {
    // Reading mixes in a zero sample: with no traffic the cost decays as cost·e^(−Δt/τ).
    this.observe(0)
    if (this.cost === 0 && this.pending !== 0) return PEAK_EWMA_PENALTY_MS + this.pending
    return this.cost * (this.pending + 1)
  }
  start(): number {
    this.pending++
    return this.clock.now()
  }
  end(stamp: number): void {
    const rtt = Math.max(this.clock.now() - stamp, 0)
    this.pending--
    this.observe(rtt)
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
  return { name: 'peak_ewma', create: (clock) => new PeakEwmaLoad(clock, decayTimeMs) }
}
