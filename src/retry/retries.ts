import { type Scheduler, sleep, systemScheduler } from '../core/clock.js'
import { FailureFlags, failureFlagsOf, withFailureFlags } from '../core/failure.js'
import { checkNumber } from '../core/options.js'
import { Filter } from '../core/service.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { Backoff } from './backoff.js'
import { type RetryBudget, retryBudget } from './budget.js'
import { classify, ReqRep, type ResponseClassifier } from './classifier.js'

/** Options of `retries`. */
export interface RetriesOptions<Req, Rep> {
  /** Which outcomes are retryable failures; falls back to `ResponseClassifier.default`. */
  classifier?: ResponseClassifier<Req, Rep> | undefined
  /** Shared by every request of one client. Default: a fresh `retryBudget()` per filter. */
  budget?: RetryBudget | undefined
  /** Delays before each retry. Default `Backoff.decorrelatedJitter(5, 200)` (Finagle's `tries`). */
  backoff?: Backoff | undefined
  /** Retries after the first attempt (so `maxRetries: 2` means at most 3 calls). Default 2. */
  maxRetries?: number | undefined
  /**
   * Whether the request can be sent again at all, checked once per request before the first attempt.
   * A request with a one-shot body (a stream) must answer false; the HTTP layer supplies this.
   * Default: every request can.
   */
  canRetry?: ((req: Req) => boolean) | undefined
  /** Called with a response that is retried over, so its resources (an HTTP body) can be released. */
  discard?: ((rep: Rep) => void) | undefined
  /** Receives `retries`, `retries/per_request`, `retries/budget_exhausted`, `retries/not_replayable`. */
  stats?: StatsReceiver | undefined
  /** Timer for the backoff delays. Default `systemScheduler`. */
  scheduler?: Scheduler | undefined
}

/**
 * Retries the requests whose outcome the classifier calls a retryable failure, waiting the backoff
 * between tries, while the retry budget allows it and at most `maxRetries` times. Put it above the
 * balancer, so each retry picks a node again.
 *
 * - Each request deposits once into the budget; each retry withdraws once. When the budget is empty
 *   the last failure is returned flagged `NonRetryable` (so no layer above retries it either) and
 *   `retries/budget_exhausted` counts it. Finagle does not wrap it in a new error, and neither do we.
 * - When the tries run out the last outcome is returned as it is: a rejected promise for an error, the
 *   response for a response the classifier called a failure.
 * - Never retried: a request `canRetry` refuses, an outcome flagged `NonRetryable` or `Interrupted`,
 *   and anything after the caller's signal aborted (a wait in progress ends with the signal's reason).
 *
 * @example
 * ```ts
 * const budget = retryBudget()                          // one per client
 * const client = Filter.chain(retries({ budget, maxRetries: 2 }), balancerFilter)(endpoints)
 * ```
 */
export function retries<Req, Rep>(options: RetriesOptions<Req, Rep> = {}): Filter<Req, Rep> {
  const maxRetries = checkNumber('retries', 'maxRetries', options.maxRetries ?? 2, { min: 0, integer: true })
  const budget = options.budget ?? retryBudget()
  const backoff = options.backoff ?? Backoff.decorrelatedJitter(5, 200)
  const scheduler = options.scheduler ?? systemScheduler
  const { classifier, canRetry, discard } = options
  const stats = options.stats ?? nullStats
  const retried = stats.counter('retries')
  const perRequest = stats.stat('retries/per_request')
  const budgetExhausted = stats.counter('retries/budget_exhausted')
  const notReplayable = stats.counter('retries/not_replayable')

  // Plain callbacks rather than an async loop: a request that is not retried (nearly all) costs one
  // promise and no extra turns.
  return Filter.of<Req, Rep>((req, signal, next) => {
    let walk: Iterator<number> | undefined
    let n = 0
    let replayable = true
    const finish = (rr: ReqRep<Req, Rep>): Rep => {
      perRequest.add(n)
      return ReqRep.unwrap(rr)
    }
    const again = (): Promise<Rep> => {
      n++
      retried.incr()
      return attempt()
    }
    const decide = (rr: ReqRep<Req, Rep>): Rep | Promise<Rep> => {
      const cls = classify(classifier, rr)
      if (cls.kind !== 'failed' || !cls.retryable || signal?.aborted) return finish(rr)
      if (!rr.ok && hasAny(rr.error, FailureFlags.NonRetryable | FailureFlags.Interrupted)) return finish(rr)
      if (!replayable) {
        notReplayable.incr()
        return finish(rr)
      }
      if (n >= maxRetries) return finish(rr)
      walk ??= backoff[Symbol.iterator]()
      const step = walk.next()
      if (step.done) return finish(rr)
      if (!budget.tryWithdraw()) {
        budgetExhausted.incr()
        perRequest.add(n)
        if (rr.ok) return rr.response
        throw withFailureFlags(rr.error, FailureFlags.NonRetryable)
      }
      if (rr.ok) discard?.(rr.response)
      if (step.value > 0)
        return sleep(scheduler, step.value, signal).then(again, (error: unknown) => {
          perRequest.add(n)
          throw error
        })
      return again()
    }
    const attempt = (): Promise<Rep> => {
      let pending: Promise<Rep>
      try {
        pending = next(req, signal)
      } catch (error) {
        pending = Promise.reject(error)
      }
      return pending.then(
        (response) => decide({ request: req, ok: true, response }),
        (error: unknown) => decide({ request: req, ok: false, error }),
      )
    }
    try {
      budget.deposit()
      replayable = canRetry?.(req) ?? true
    } catch (error) {
      return Promise.reject(error)
    }
    return attempt()
  })
}

function hasAny(error: unknown, flags: number): boolean {
  return (failureFlagsOf(error) & flags) !== 0
}
