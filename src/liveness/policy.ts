import type { Clock } from '../core/clock.js'
import { checkNumber } from '../core/options.js'
import { type Random, systemRandom } from '../core/random.js'
import { slidingSum } from '../core/window.js'
import { Backoff } from '../retry/backoff.js'

/**
 * The per-endpoint state a policy keeps: it hears every success and failure and decides when the
 * endpoint should be marked dead, and for how long.
 */
export interface AccrualState {
  /** A request succeeded. */
  recordSuccess(): void
  /** A request failed: the mark-dead duration (ms) if the endpoint should now be marked dead. */
  markDeadOnFailure(): number | undefined
  /** A probe succeeded: forget the history and restart the mark-dead schedule. */
  revived(): void
}

/**
 * A failure-accrual policy: an immutable description, shared by all endpoints of a client, from which
 * each endpoint makes its own `AccrualState`. Combine two with `orElse`.
 *
 * @example
 * ```ts
 * const policy = successRateWindowed(0.8, 30_000).orElse(consecutiveFailures(5)) // the default
 * ```
 */
export interface FailureAccrualPolicy {
  /** Makes one endpoint's state; `clock` measures windows. */
  create(clock: Clock): AccrualState
  /**
   * Both policies hear every event; the endpoint is marked dead when either says so, for the longer of
   * the two durations when both do.
   */
  orElse(that: FailureAccrualPolicy): FailureAccrualPolicy
  /** A description, e.g. `consecutiveFailures(5)`. */
  show(): string
}

/** Mark-dead durations after a schedule runs out (Finagle pads with 300 s). */
const PAD_MS = 300_000

/**
 * The default mark-dead schedule: `Backoff.equalJitter(10 s, 300 s)`, i.e. a first period in
 * [5 s, 10 s), doubling up to [150 s, 300 s). Finagle uses `equalJittered(5 s, 300 s)` (5 s, then
 * [5, 10), [10, 20), ...); see `docs/compatibility.md`.
 *
 * @example
 * ```ts
 * consecutiveFailures(5, markDeadSchedule(seededRandom(1)))
 * ```
 */
export function markDeadSchedule(random: Random = systemRandom): Backoff {
  return Backoff.equalJitter(10_000, PAD_MS, random)
}

/**
 * A constant mark-dead period with jitter added: every delay is `ms × (1 + U[0, 1) × fraction)`, so
 * endpoints marked dead together do not all come back in the same instant (Finagle's
 * `FailureAccrualFactory.perturb`, default fraction 0.1, used when a constant period is configured).
 *
 * @example
 * ```ts
 * consecutiveFailures(5, perturb(10_000)) // each period in [10 s, 11 s)
 * ```
 */
export function perturb(ms: number, fraction = 0.1, random: Random = systemRandom): Backoff {
  checkNumber('perturb', 'ms', ms, { min: 0 })
  checkNumber('perturb', 'fraction', fraction, { min: 0 })
  return Backoff.fromFunction(() => Math.floor(ms + ms * random.next() * fraction))
}

function policy(describe: string, create: (clock: Clock) => AccrualState): FailureAccrualPolicy {
  const self: FailureAccrualPolicy = {
    create,
    orElse: (that) => either(self, that),
    show: () => describe,
  }
  return self
}

/** Walks a mark-dead schedule, padded with 300 s once it runs out, and restarts it on `reset()`. */
function schedule(markDeadFor: Backoff) {
  const padded = markDeadFor.padded(PAD_MS)
  let walk = padded[Symbol.iterator]()
  return {
    next: (): number => walk.next().value as number,
    reset: () => {
      walk = padded[Symbol.iterator]()
    },
  }
}

/**
 * Marks the endpoint dead on the n-th failure in a row (and on every further one while it keeps
 * failing); any success resets the count. Default n = 5.
 *
 * @example
 * ```ts
 * failureAccrual({ policy: consecutiveFailures(5) })
 * ```
 */
export function consecutiveFailures(n = 5, markDeadFor: Backoff = markDeadSchedule()): FailureAccrualPolicy {
  checkNumber('consecutiveFailures', 'n', n, { min: 1, integer: true })
  return policy(`consecutiveFailures(${n})`, () => {
    let failures = 0
    const durations = schedule(markDeadFor)
    return {
      recordSuccess() {
        failures = 0
      },
      markDeadOnFailure() {
        failures++
        return failures >= n ? durations.next() : undefined
      },
      revived() {
        failures = 0
        durations.reset()
      },
    }
  })
}

/**
 * An exponential moving average where time is whatever the caller says (a request index, or ms):
 * the first sample sets the value, later ones weigh `1 − e^(−Δt/τ)`.
 */
function ema(tau: number) {
  let value = 0
  let last = 0
  let fresh = true
  return {
    update(t: number, x: number): number {
      if (fresh) {
        value = x
        fresh = false
      } else {
        const w = Math.exp(-(t - last) / tau)
        value = x * (1 - w) + value * w
      }
      last = t
      return value
    },
    reset() {
      fresh = true
      value = 0
    },
  }
}

/**
 * Marks the endpoint dead when its success rate, a moving average over about the last `requests`
 * requests, falls below `required`; only once at least `requests` requests have been seen.
 *
 * @example
 * ```ts
 * successRate(0.9, 100) // dead below 90 % over ~100 requests
 * ```
 */
export function successRate(
  required: number,
  requests: number,
  markDeadFor: Backoff = markDeadSchedule(),
): FailureAccrualPolicy {
  checkNumber('successRate', 'required', required, { min: 0, max: 1 })
  checkNumber('successRate', 'requests', requests, { min: 1, integer: true })
  return policy(`successRate(${required}, ${requests})`, () => {
    const rate = ema(requests)
    const durations = schedule(markDeadFor)
    let total = 0
    return {
      recordSuccess() {
        rate.update(++total, 1)
      },
      markDeadOnFailure() {
        const sr = rate.update(++total, 0)
        return total >= requests && sr < required ? durations.next() : undefined
      },
      revived() {
        total = 0
        rate.reset()
        durations.reset()
      },
    }
  })
}

/**
 * Marks the endpoint dead when its success rate, a moving average over about the last `windowMs` of
 * time, falls below `required`, provided (a) at least `windowMs` has passed since the endpoint was
 * created or revived and (b) at least `minRequests` requests were seen in the last `windowMs`.
 * A node that suddenly fails every request is marked after about `windowMs × ln(1/required)`
 * (6.7 s for 0.8 over 30 s).
 *
 * @example
 * ```ts
 * successRateWindowed(0.8, 30_000) // Finagle's default component, with minRequests 5
 * ```
 */
export function successRateWindowed(
  required: number,
  windowMs: number,
  markDeadFor: Backoff = markDeadSchedule(),
  minRequests = 5,
): FailureAccrualPolicy {
  checkNumber('successRateWindowed', 'required', required, { min: 0, max: 1 })
  checkNumber('successRateWindowed', 'windowMs', windowMs, { min: 1 })
  checkNumber('successRateWindowed', 'minRequests', minRequests, { min: 0, integer: true })
  return policy(`successRateWindowed(${required}, ${windowMs})`, (clock) => {
    const rate = ema(windowMs)
    const recent = slidingSum(windowMs / 5, 5, clock)
    const durations = schedule(markDeadFor)
    let since = clock.now()
    return {
      recordSuccess() {
        recent.add(1)
        rate.update(clock.now(), 1)
      },
      markDeadOnFailure() {
        const now = clock.now()
        recent.add(1)
        const sr = rate.update(now, 0)
        const eligible = now - since >= windowMs && recent.sum() >= minRequests
        return eligible && sr < required ? durations.next() : undefined
      },
      revived() {
        since = clock.now()
        rate.reset()
        recent.reset()
        durations.reset()
      },
    }
  })
}

function either(a: FailureAccrualPolicy, b: FailureAccrualPolicy): FailureAccrualPolicy {
  return policy(`${a.show()}.orElse(${b.show()})`, (clock) => {
    const sa = a.create(clock)
    const sb = b.create(clock)
    return {
      recordSuccess() {
        sa.recordSuccess()
        sb.recordSuccess()
      },
      markDeadOnFailure() {
        const da = sa.markDeadOnFailure()
        const db = sb.markDeadOnFailure()
        if (da === undefined) return db
        if (db === undefined) return da
        return Math.max(da, db)
      },
      revived() {
        sa.revived()
        sb.revived()
      },
    }
  })
}

/**
 * Finagle's default (hybrid) policy: `successRateWindowed(0.8, 30 s, minRequests 5)` or else
 * `consecutiveFailures(5)`, both with the default mark-dead schedule drawn from `random`.
 *
 * @example
 * ```ts
 * failureAccrual({ policy: defaultAccrualPolicy(seededRandom(7)) })
 * ```
 */
export function defaultAccrualPolicy(random: Random = systemRandom): FailureAccrualPolicy {
  return successRateWindowed(0.8, 30_000, markDeadSchedule(random)).orElse(
    consecutiveFailures(5, markDeadSchedule(random)),
  )
}
