import { type Clock, type Scheduler, systemScheduler } from '../core/clock.js'
import { checkNumber } from '../core/options.js'
import { type Filter, Service } from '../core/service.js'
import { Deadline } from './deadline.js'
import { TimeoutError, type TimeoutKind } from './errors.js'

/** Options of `attemptTimeout`. */
export interface AttemptTimeoutOptions<Rep> {
  /** The limit for one try, ms. */
  timeoutMs: number
  /** Timer and clock. Default `systemScheduler`. */
  scheduler?: Scheduler | undefined
  /** Called with a response that arrives after the timeout, so its resources (an HTTP body) are released. */
  discard?: ((rep: Rep) => void) | undefined
}

/** Options of `totalTimeout`. */
export interface TotalTimeoutOptions<Req, Rep> {
  /** The limit for the whole request including retries, ms; `Infinity` to apply only deadlines. */
  timeoutMs: number
  /** Timer. Default `systemScheduler`. */
  scheduler?: Scheduler | undefined
  /** Wall time for deadlines, epoch ms (deadlines cross processes). Default `Date.now`. */
  wallClock?: Clock | undefined
  /** Reads the deadline a request arrived with (e.g. from a header); the stricter one wins. */
  deadline?: ((req: Req) => Deadline | undefined) | undefined
  /** Writes the combined deadline into the request sent down (propagation). */
  withDeadline?: ((req: Req, deadline: Deadline) => Req) | undefined
  /** Called with a response that arrives after the timeout, so its resources are released. */
  discard?: ((rep: Rep) => void) | undefined
}

const dateClock: Clock = { now: () => Date.now() }

/**
 * Limits one try: below the balancer and below failure accrual, so that a timeout counts as a failure
 * of that endpoint and each retry gets its own timer (Finagle's per-request `TimeoutFilter`). On
 * expiry the request is cancelled through the `AbortSignal` passed down (its reason is the
 * `TimeoutError`) and the call rejects with `TimeoutError` (`kind: 'attempt'`) at once, even if the
 * service below ignores the signal. The timer and the listener on the caller's signal are removed when
 * the call settles.
 *
 * @example
 * ```ts
 * const connect = (address) => Filter.chain(failureAccrual(), attemptTimeout({ timeoutMs: 500 }))(endpoint(address))
 * ```
 */
export function attemptTimeout<Req, Rep>(options: AttemptTimeoutOptions<Rep>): Filter<Req, Rep> {
  const timeoutMs = checkNumber('attemptTimeout', 'timeoutMs', options.timeoutMs, { min: 0 })
  const scheduler = options.scheduler ?? systemScheduler
  const { discard } = options
  return (next) =>
    Service.of(
      (req: Req, signal?: AbortSignal) =>
        race(next, req, signal, timeoutMs, 'attempt', timeoutMs, scheduler, discard),
      {
        status: () => next.status,
        close: () => next.close(),
      },
    )
}

/**
 * Limits the whole request, retries included: put it above `retries` (Finagle's MethodBuilder total
 * timeout). It respects deadlines: if the request arrived with a `deadline` stricter than
 * `now + timeoutMs`, that one is used (`Deadline.combined`), the combined deadline is written into the
 * request sent down when `withDeadline` is given, and a deadline already past rejects at once without
 * calling the service (`kind: 'deadline'`, flagged `DeadlineExceeded`). On expiry the request below is
 * cancelled through its `AbortSignal` and the call rejects with `TimeoutError`.
 *
 * @example
 * ```ts
 * const client = Filter.chain(
 *   totalTimeout({ timeoutMs: 2000, deadline: (req) => readDeadlineHeader(req) }),
 *   retries({ budget }),
 * )(balancer)
 * ```
 */
export function totalTimeout<Req, Rep>(options: TotalTimeoutOptions<Req, Rep>): Filter<Req, Rep> {
  const timeoutMs = checkNumber('totalTimeout', 'timeoutMs', options.timeoutMs, { min: 0, infinite: true })
  const scheduler = options.scheduler ?? systemScheduler
  const wallClock = options.wallClock ?? dateClock
  const { deadline: incomingOf, withDeadline, discard } = options
  return (next) =>
    Service.of(
      (req: Req, signal?: AbortSignal) => {
        const now = wallClock.now()
        const own = Deadline.ofTimeout(now, timeoutMs)
        const incoming = incomingOf?.(req)
        const effective = incoming ? Deadline.combined(own, incoming) : own
        const stricter = incoming !== undefined && incoming.deadline < own.deadline
        const ms = effective.remaining(now)
        if (stricter && ms <= 0) return Promise.reject(new TimeoutError('deadline', ms))
        const sent = withDeadline && Number.isFinite(effective.deadline) ? withDeadline(req, effective) : req
        return race(
          next,
          sent,
          signal,
          ms,
          stricter ? 'deadline' : 'total',
          stricter ? ms : timeoutMs,
          scheduler,
          discard,
        )
      },
      { status: () => next.status, close: () => next.close() },
    )
}

/**
 * Calls `next` with a child signal and settles with the first of: the response, its error, the timer
 * (→ `TimeoutError`, and the child is aborted with it), or the caller's abort (→ the caller's reason,
 * and the child is aborted with it). Whatever settles first removes the timer and the listener.
 */
function race<Req, Rep>(
  next: Service<Req, Rep>,
  req: Req,
  signal: AbortSignal | undefined,
  ms: number,
  kind: TimeoutKind,
  reportedMs: number,
  scheduler: Scheduler,
  discard: ((rep: Rep) => void) | undefined,
): Promise<Rep> {
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise<Rep>((resolve, reject) => {
    const child = new AbortController()
    let settled = false
    const settle = () => {
      settled = true
      cancelTimer?.()
      signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      if (settled) return
      settle()
      child.abort(signal?.reason)
      reject(signal?.reason)
    }
    const cancelTimer = Number.isFinite(ms)
      ? scheduler.setTimeout(() => {
          if (settled) return
          settle()
          const error = new TimeoutError(kind, reportedMs)
          child.abort(error)
          reject(error)
        }, ms)
      : undefined
    signal?.addEventListener('abort', onAbort, { once: true })
    let call: Promise<Rep>
    try {
      call = next(req, child.signal)
    } catch (error) {
      call = Promise.reject(error)
    }
    call.then(
      (rep) => {
        if (settled) return discard?.(rep)
        settle()
        resolve(rep)
      },
      (error: unknown) => {
        if (settled) return
        settle()
        reject(error)
      },
    )
  })
}
