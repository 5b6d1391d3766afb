import type { Clock } from '../../core/clock.js'
import { InvalidOptionError } from '../../core/errors.js'
import type { LoadMeter, LoadMetric, LoadState } from './metric.js'

/**
 * The load of a node that has requests in flight but no latency sample yet: Finagle's
 * `Long.MaxValue >> 16` nanoseconds (≈ 39 h), here in milliseconds. Larger than any real cost, so a
 * new node gets one probe and is then avoided until that probe returns.
 *
 * @example
 * ```ts
 * lb.endpoints().some((e) => e.load >= PEAK_EWMA_PENALTY_MS) // a probe is in flight
 * ```
 */
export const PEAK_EWMA_PENALTY_MS = 2 ** 47 / 1e6

/**
 * The options of `peakEwma`.
 *
 * @example
 * ```ts
 * const options: PeakEwmaOptions = { decayTimeMs: 30_000 } // forgive a slow node more slowly
 * ```
 */
export interface PeakEwmaOptions {
  /** τ, the mean lifetime of a latency sample, in ms (default 10 000; half-life = τ·ln 2). */
  readonly decayTimeMs?: number | undefined
}

// Per node, three numbers in one Float64Array owned by the meter, at offset metricSlot: cost (ms), stamp
// (last observation), time of the average (NaN: none yet). Unboxed and contiguous, so reading a
// candidate's load touches the node and one cache line, at any number of nodes.
class PeakEwmaMeter implements LoadMeter {
  private readonly clock: Clock
  private readonly decayTimeMs: number
  private data = new Float64Array(48)
  private next = 0
  private readonly free: number[] = []
  constructor(clock: Clock, decayTimeMs: number) {
    this.clock = clock
    this.decayTimeMs = decayTimeMs
  }
  init(s: LoadState): void {
    let at = this.free.pop()
    if (at === undefined) {
      at = this.next
      this.next += 3
    }
    if (this.next > this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data)
      this.data = grown
    }
    s.metricSlot = at
    this.data[at] = 0
    this.data[at + 1] = this.clock.now()
    this.data[at + 2] = Number.NaN
  }
  dispose(s: LoadState): void {
    this.free.push(s.metricSlot)
  }
  private observe(at: number, rtt: number): void {
    const d = this.data
    const t = this.clock.now()
    if (t > d[at + 1]!) d[at + 1] = t
    const stamp = d[at + 1]!
    const cost = d[at]!
    const since = d[at + 2]!
    if (rtt > cost || Number.isNaN(since)) {
      // A peak is adopted at once: the average restarts from this sample.
      d[at] = rtt
      d[at + 2] = stamp
      return
    }
    const w = Math.exp(-(stamp - since) / this.decayTimeMs)
    d[at + 2] = stamp
    d[at] = rtt * (1 - w) + cost * w
  }
  load(s: LoadState): number {
    // Reading mixes in a zero sample: with no traffic the cost decays as cost·e^(−Δt/τ).
    const at = s.metricSlot
    this.observe(at, 0)
    const cost = this.data[at]!
    if (cost === 0 && s.pending !== 0) return PEAK_EWMA_PENALTY_MS + s.pending
    return cost * (s.pending + 1)
  }
  start(_s: LoadState): number {
    return this.clock.now()
  }
  end(s: LoadState, stamp: number): void {
    this.observe(s.metricSlot, Math.max(this.clock.now() - stamp, 0))
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
