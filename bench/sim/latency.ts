import type { Random } from '../../src/core/random.js'

/** A service-time distribution: one draw per request, in virtual milliseconds. */
export type Latency = (random: Random) => number

/**
 * The latency quantiles of Finagle's `real_latencies.data` (86 333 samples from a production system,
 * median 167.5 ms, sd 5.4, max 200 ms), as published in benchmarks.md §1. A piecewise-linear inverse
 * CDF through these points reproduces the published runs within noise.
 */
export const FINAGLE_LATENCY_QUANTILES: ReadonlyArray<readonly [number, number]> = [
  [0, 164.1],
  [0.01, 164.9],
  [0.05, 165.4],
  [0.1, 165.8],
  [0.2, 166.2],
  [0.25, 166.4],
  [0.3, 166.6],
  [0.4, 167.0],
  [0.5, 167.5],
  [0.6, 168.2],
  [0.7, 169.4],
  [0.75, 170.3],
  [0.8, 171.5],
  [0.85, 173.5],
  [0.9, 176.7],
  [0.95, 181.7],
  [0.97, 183.9],
  [0.98, 186.4],
  [0.99, 192.3],
  [0.995, 196.2],
  [0.999, 198.8],
  [0.9999, 199.9],
  [1, 200.0],
]

/**
 * A latency drawn from a quantile table by linear interpolation (inverse transform sampling).
 *
 * @example
 * ```ts
 * const lat = quantileLatency([[0, 10], [0.5, 20], [1, 100]])
 * ```
 */
export function quantileLatency(table: ReadonlyArray<readonly [number, number]>): Latency {
  const ps = table.map(([p]) => p)
  const vs = table.map(([, v]) => v)
  const last = ps.length - 1
  return (random) => {
    const u = random.next()
    let lo = 0
    let hi = last
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1
      if (ps[mid]! <= u) lo = mid
      else hi = mid
    }
    const p0 = ps[lo]!
    const p1 = ps[hi]!
    const f = p1 > p0 ? (u - p0) / (p1 - p0) : 0
    return vs[lo]! + f * (vs[hi]! - vs[lo]!)
  }
}

/** The Finagle/Buoyant production latency distribution (p50 167.5 ms, p99 192.3 ms, max 200 ms). */
export const finagleLatency: Latency = quantileLatency(FINAGLE_LATENCY_QUANTILES)

/** Exponential service time with the given mean (the supermarket model's exp(1), scaled). */
export function exponentialLatency(meanMs: number): Latency {
  return (random) => -meanMs * Math.log(1 - random.next())
}

/** A lognormal latency given its median and 99th percentile (a heavier-tailed variant). */
export function lognormalLatency(p50: number, p99: number): Latency {
  const mu = Math.log(p50)
  const sigma = (Math.log(p99) - mu) / 2.326347874
  return (random) => {
    // Box–Muller; 1 − u keeps the log argument in (0, 1].
    const u = 1 - random.next()
    const v = random.next()
    return Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v))
  }
}

/** The same latency every time. */
export function constantLatency(ms: number): Latency {
  return () => ms
}

/** The mean of a latency distribution, estimated once from `n` draws (for the oracle). */
export function meanOf(latency: Latency, random: Random, n = 20_000): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum += latency(random)
  return sum / n
}
