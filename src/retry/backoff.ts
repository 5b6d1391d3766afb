import { checkNumber } from '../core/options.js'
import { type Random, systemRandom } from '../core/random.js'

/**
 * A backoff schedule: the delays (ms) to wait before each retry, probe or reconnect. A `Backoff` is an
 * immutable value describing a lazy, possibly infinite sequence; iterating it computes the delays one
 * by one. Jittered schedules draw from their `Random` as they are walked, so two walks of the same
 * schedule (two endpoints sharing one policy) get independent jitter, while a `seededRandom` makes a
 * run reproducible.
 *
 * Consumers keep an iterator as their position in the schedule and start a new walk to reset it.
 *
 * The jittered schedules follow the textbook formulas (AWS, "Exponential Backoff and Jitter"), not
 * Finagle's variants; `docs/compatibility.md` lists the differences.
 *
 * @example
 * ```ts
 * const schedule = Backoff.exponential(10, 2, 100).take(5)
 * [...schedule] // [10, 20, 40, 80, 100]
 * const walk = Backoff.equalJitter(100, 1000, seededRandom(1))[Symbol.iterator]()
 * walk.next().value // in [50, 100)
 * ```
 */
export class Backoff implements Iterable<number> {
  readonly #iterate: () => Iterator<number>

  private constructor(iterate: () => Iterator<number>) {
    this.#iterate = iterate
  }

  /** Starts a new walk of the schedule. */
  [Symbol.iterator](): Iterator<number> {
    return this.#iterate()
  }

  /**
   * The first `n` delays (n = 0 gives the empty schedule).
   *
   * @example
   * ```ts
   * [...Backoff.constant(5).take(3)] // [5, 5, 5]
   * ```
   */
  take(n: number): Backoff {
    checkNumber('Backoff.take', 'n', n, { min: 0, integer: true })
    const source = this
    return new Backoff(function* () {
      if (n === 0) return
      let i = 0
      for (const d of source) {
        yield d
        if (++i >= n) return
      }
    })
  }

  /**
   * The delays while their running total stays at most `totalMs` (Finagle's `takeUntil`): the first
   * delay that would push the sum over `totalMs` ends the schedule.
   *
   * @example
   * ```ts
   * [...Backoff.constant(40).takeUntil(100)] // [40, 40]
   * ```
   */
  takeUntil(totalMs: number): Backoff {
    checkNumber('Backoff.takeUntil', 'totalMs', totalMs, { min: 0, infinite: true })
    const source = this
    return new Backoff(function* () {
      let sum = 0
      for (const d of source) {
        sum += d
        if (sum > totalMs) return
        yield d
      }
    })
  }

  /**
   * This schedule, then `that` one once this is exhausted.
   *
   * @example
   * ```ts
   * [...Backoff.of(1, 2).concat(Backoff.constant(10)).take(4)] // [1, 2, 10, 10]
   * ```
   */
  concat(that: Backoff): Backoff {
    const source = this
    return new Backoff(function* () {
      yield* source
      yield* that
    })
  }

  /**
   * This schedule, then `padMs` forever once it runs out. Used where a
   * finite user schedule must keep answering (failure accrual pads with 300 s, as Finagle does).
   *
   * @example
   * ```ts
   * [...Backoff.of(1).padded(9).take(3)] // [1, 9, 9]
   * ```
   */
  padded(padMs: number): Backoff {
    return this.concat(Backoff.constant(padMs))
  }

  /**
   * The schedule with no delays: a retry loop that uses it never retries.
   *
   * @example
   * ```ts
   * [...Backoff.empty] // []
   * ```
   */
  static readonly empty: Backoff = new Backoff(function* () {})

  /**
   * A finite schedule of the given delays.
   *
   * @example
   * ```ts
   * [...Backoff.of(10, 20)] // [10, 20]
   * ```
   */
  static of(...delaysMs: number[]): Backoff {
    delaysMs.forEach((d, i) => {
      checkNumber('Backoff.of', `delaysMs[${i}]`, d, { min: 0 })
    })
    const copy = [...delaysMs]
    return new Backoff(() => copy[Symbol.iterator]())
  }

  /**
   * The delays `f(0), f(1), ...` (attempt numbers from 0), for schedules none of the others express.
   * A non-finite or negative result ends the schedule.
   *
   * @example
   * ```ts
   * [...Backoff.fromFunction((k) => 100 * (k + 1) ** 2).take(3)] // [100, 400, 900]
   * ```
   */
  static fromFunction(f: (attempt: number) => number): Backoff {
    return new Backoff(function* () {
      for (let k = 0; ; k++) {
        const d = f(k)
        if (!(d >= 0) || !Number.isFinite(d)) return
        yield d
      }
    })
  }

  /**
   * The same delay forever: `d, d, d, ...`.
   *
   * @example
   * ```ts
   * [...Backoff.constant(0).take(2)] // [0, 0] (requeues: at once)
   * ```
   */
  static constant(delayMs: number): Backoff {
    checkNumber('Backoff.constant', 'delayMs', delayMs, { min: 0 })
    return new Backoff(function* () {
      for (;;) yield delayMs
    })
  }

  /**
   * `start, start + step, start + 2·step, ...`, each at most `capMs`.
   *
   * @example
   * ```ts
   * [...Backoff.linear(10, 5, 22).take(4)] // [10, 15, 20, 22]
   * ```
   */
  static linear(startMs: number, stepMs: number, capMs = Number.POSITIVE_INFINITY): Backoff {
    checkNumber('Backoff.linear', 'startMs', startMs, { min: 0 })
    checkNumber('Backoff.linear', 'stepMs', stepMs, { min: 0 })
    checkNumber('Backoff.linear', 'capMs', capMs, { min: 0, infinite: true })
    return new Backoff(function* () {
      for (let d = startMs; ; d += stepMs) yield Math.min(capMs, d)
    })
  }

  /**
   * `start, start·m, start·m², ...`, each at most `capMs`.
   *
   * @example
   * ```ts
   * [...Backoff.exponential(100, 3, 1000).take(4)] // [100, 300, 900, 1000]
   * ```
   */
  static exponential(startMs: number, multiplier = 2, capMs = Number.POSITIVE_INFINITY): Backoff {
    checkNumber('Backoff.exponential', 'startMs', startMs, { min: 0 })
    checkNumber('Backoff.exponential', 'multiplier', multiplier, { min: 1 })
    checkNumber('Backoff.exponential', 'capMs', capMs, { min: 0, infinite: true })
    return new Backoff(function* () {
      for (let d = startMs; ; d *= multiplier) yield Math.min(capMs, d)
    })
  }

  /**
   * Exponential backoff with full jitter: the k-th delay (k from 0) is uniform in
   * `[0, min(cap, base·2^k))`. Spreads retries of many clients the most; the mean halves.
   *
   * @example
   * ```ts
   * const [a, b] = Backoff.fullJitter(100, 1000, seededRandom(3)).take(2) // a in [0,100), b in [0,200)
   * ```
   */
  static fullJitter(baseMs: number, capMs: number, random: Random = systemRandom): Backoff {
    checkNumber('Backoff.fullJitter', 'baseMs', baseMs, { min: 0 })
    checkNumber('Backoff.fullJitter', 'capMs', capMs, { min: baseMs })
    return new Backoff(function* () {
      for (let ceiling = Math.min(capMs, baseMs); ; ceiling = Math.min(capMs, ceiling * 2))
        yield random.next() * ceiling
    })
  }

  /**
   * Exponential backoff with equal jitter ("keep half, jitter half"): with `t = min(cap, base·2^k)`,
   * the k-th delay (k from 0) is uniform in `[t/2, t)`. Never shorter than half the exponential value.
   *
   * @example
   * ```ts
   * const [a, b] = Backoff.equalJitter(10_000, 300_000).take(2) // a in [5 s, 10 s), b in [10 s, 20 s)
   * ```
   */
  static equalJitter(baseMs: number, capMs: number, random: Random = systemRandom): Backoff {
    checkNumber('Backoff.equalJitter', 'baseMs', baseMs, { min: 0 })
    checkNumber('Backoff.equalJitter', 'capMs', capMs, { min: baseMs })
    return new Backoff(function* () {
      for (let t = Math.min(capMs, baseMs); ; t = Math.min(capMs, t * 2))
        yield t / 2 + random.next() * (t / 2)
    })
  }

  /**
   * Decorrelated jitter: starting from `prev = base`, each delay is `min(cap, U[base, 3·prev))`.
   * Grows about as fast as exponential backoff but stays spread out, and can shrink again.
   *
   * @example
   * ```ts
   * const retryDelays = Backoff.decorrelatedJitter(5, 200) // the default of `retries()`
   * ```
   */
  static decorrelatedJitter(baseMs: number, capMs: number, random: Random = systemRandom): Backoff {
    checkNumber('Backoff.decorrelatedJitter', 'baseMs', baseMs, { min: 0 })
    checkNumber('Backoff.decorrelatedJitter', 'capMs', capMs, { min: baseMs })
    return new Backoff(function* () {
      for (let prev = baseMs; ; ) {
        prev = Math.min(capMs, baseMs + random.next() * (3 * prev - baseMs))
        yield prev
      }
    })
  }
}
