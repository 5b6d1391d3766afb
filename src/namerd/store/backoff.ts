import { type Random, systemRandom } from '../../core/random.js'

/**
 * How long to wait before the next reconnection attempt: decorrelated jitter between `minMs` and
 * `maxMs` (each delay uniform in [min, 3 × previous], capped), so replicas that lost their store at
 * the same moment do not all come back at the same moment.
 *
 * @example
 * ```ts
 * let b = reconnectBackoff({ minMs: 50, maxMs: 2000 }, seededRandom(1))
 * b.duration      // 50
 * b = b.next()    // somewhere in [50, 150]
 * ```
 */
export interface ReconnectBackoff {
  readonly duration: number
  next(): ReconnectBackoff
}

/**
 * Bounds of a `ReconnectBackoff`, in milliseconds.
 *
 * @example
 * ```ts
 * const bounds: BackoffBounds = { minMs: 50, maxMs: 2000 }
 * ```
 */
export interface BackoffBounds {
  readonly minMs: number
  readonly maxMs: number
}

/**
 * The first step of a decorrelated-jitter backoff.
 *
 * @example
 * ```ts
 * reconnectBackoff({ minMs: 50, maxMs: 2000 }).next().duration // between 50 and 150
 * ```
 */
export function reconnectBackoff(bounds: BackoffBounds, random: Random = systemRandom): ReconnectBackoff {
  const step = (duration: number): ReconnectBackoff => ({
    duration,
    next: () => {
      const upper = Math.min(bounds.maxMs, duration * 3)
      return step(Math.min(bounds.maxMs, bounds.minMs + random.next() * Math.max(0, upper - bounds.minMs)))
    },
  })
  return step(bounds.minMs)
}
