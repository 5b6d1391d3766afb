import type { Clock } from './clock.js'

/** A sum over a sliding time window; see `slidingSum`. */
export interface SlidingSum {
  add(amount: number): void
  /** The sum of what was added in the window. */
  sum(): number
  /** Forgets everything. */
  reset(): void
}

/**
 * A sum over a sliding time window of `slices` slices of `sliceMs` each (twitter-util's
 * `WindowedAdder`): an amount added in one slice is dropped once the window has moved `slices` slices
 * past it, i.e. between `slices − 1` and `slices` slice lengths later. O(1) memory, no timers.
 *
 * @example
 * ```ts
 * const clock = manualClock()
 * const w = slidingSum(1000, 10, clock) // a 10 s window in 1 s slices
 * w.add(5)
 * clock.advance(10_000)
 * w.sum() // 0
 * ```
 */
export function slidingSum(sliceMs: number, slices: number, clock: Clock): SlidingSum {
  const slots = new Array<number>(slices).fill(0)
  let current = 0
  let generation = Math.floor(clock.now() / sliceMs)
  let total = 0
  const roll = () => {
    const g = Math.floor(clock.now() / sliceMs)
    const steps = Math.min(slices, g - generation)
    for (let i = 0; i < steps; i++) {
      current = (current + 1) % slices
      total -= slots[current]!
      slots[current] = 0
    }
    if (g > generation) generation = g
  }
  return {
    add(amount) {
      roll()
      slots[current]! += amount
      total += amount
    },
    sum() {
      roll()
      return total
    },
    reset() {
      slots.fill(0)
      total = 0
    },
  }
}
