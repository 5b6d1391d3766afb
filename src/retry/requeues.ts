import { type Scheduler, sleep, systemScheduler } from '../core/clock.js'
import { FailureFlags, isRequeueable, withFailureFlags } from '../core/failure.js'
import { checkNumber } from '../core/options.js'
import type { Filter } from '../core/service.js'
import { Service } from '../core/service.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { Backoff } from './backoff.js'
import { type RetryBudget, retryBudget } from './budget.js'
import { classify, ReqRep, type ResponseClassifier } from './classifier.js'

/** Options of `requeues`. */
export interface RequeuesOptions<Req, Rep> {
  /**
   * The budget requeues withdraw from and successes deposit into. Default: a fresh `retryBudget()`.
   * When a `retries` filter above shares it, pass `RetryBudget.withdrawOnly(budget)` here so that each
   * request deposits once.
   */
  budget?: RetryBudget | undefined
  /**
   * Cap per request as a fraction of the budget's balance at the request's start:
   * `ceil(maxRequeuesPerRequest × balance)`. Default 0.2 (20 requeues with a full default budget).
   */
  maxRequeuesPerRequest?: number | undefined
  /** Delays between requeues. Default `Backoff.constant(0)`: at once. */
  backoff?: Backoff | undefined
  /** Decides which final outcomes are successes (and so earn a deposit). */
  classifier?: ResponseClassifier<Req, Rep> | undefined
  /**
   * Receives Finagle's names: `retries/requeues`, `retries/requeues_per_request`,
   * `retries/budget_exhausted`, `retries/request_limit`, `retries/cannot_retry`, gauge `retries/budget`.
   */
  stats?: StatsReceiver | undefined
  /** Timer for non-zero backoff delays. Default `systemScheduler`. */
  scheduler?: Scheduler | undefined
}

/**
 * Re-sends, at once, the failures known to be safe because no byte reached the server: errors flagged
 * `Retryable` (connection refused, `FailFastError`, `RejectedError`, a node that was closed when
 * picked). Sits above the balancer, so every requeue picks a node again. Finagle's `RequeueFilter`:
 *
 * - the cap per request is `ceil(maxRequeuesPerRequest × budget.balance)`, read at the request's start;
 * - a requeue withdraws from the budget; only a final outcome the classifier calls a success deposits
 *   ("credited on success"), so a dead backend does not earn its own requeues;
 * - when the service below is not `open` (every node busy) it gives up at once (`cannot_retry`);
 * - when the cap or the budget is spent, the error is returned flagged `NonRetryable`, so that no layer
 *   above retries it (`request_limit` / `budget_exhausted`);
 * - nothing is requeued after the caller's signal aborted.
 *
 * @example
 * ```ts
 * const budget = retryBudget()
 * const client = Filter.chain(
 *   retries({ budget }),
 *   requeues({ budget: RetryBudget.withdrawOnly(budget) }),
 * )(balancer)
 * ```
 */
export function requeues<Req, Rep>(options: RequeuesOptions<Req, Rep> = {}): Filter<Req, Rep> {
  const ratio = checkNumber('requeues', 'maxRequeuesPerRequest', options.maxRequeuesPerRequest ?? 0.2, {
    min: 0,
  })
  const budget = options.budget ?? retryBudget()
  const backoff = options.backoff ?? Backoff.constant(0)
  const scheduler = options.scheduler ?? systemScheduler
  const { classifier } = options
  const stats = (options.stats ?? nullStats).scope('retries')
  const requeued = stats.counter('requeues')
  const perRequest = stats.stat('requeues_per_request')
  const budgetExhausted = stats.counter('budget_exhausted')
  const requestLimit = stats.counter('request_limit')
  const cannotRetry = stats.counter('cannot_retry')

  return (next) => {
    const disposeGauge = stats.gauge('budget', () => budget.balance)
    // Plain callbacks rather than an async loop: a request that is not requeued (nearly all) costs
    // one promise and no extra turns.
    const call = (req: Req, signal?: AbortSignal): Promise<Rep> => {
      const max = Math.ceil(ratio * budget.balance)
      let walk: Iterator<number> | undefined
      let n = 0
      const fail = (error: unknown): never => {
        perRequest.add(n)
        throw error
      }
      const again = (): Promise<Rep> => {
        n++
        requeued.incr()
        return attempt()
      }
      const decide = (rr: ReqRep<Req, Rep>): Rep | Promise<Rep> => {
        if (rr.ok || !isRequeueable(rr.error) || signal?.aborted) {
          if (classify(classifier, rr).kind === 'success') budget.deposit()
          perRequest.add(n)
          return ReqRep.unwrap(rr)
        }
        if (next.status !== 'open') {
          cannotRetry.incr()
          return fail(rr.error)
        }
        if (n >= max) {
          requestLimit.incr()
          return fail(withFailureFlags(rr.error, FailureFlags.NonRetryable))
        }
        walk ??= backoff[Symbol.iterator]()
        const step = walk.next()
        if (step.done) return fail(withFailureFlags(rr.error, FailureFlags.NonRetryable))
        if (!budget.tryWithdraw()) {
          budgetExhausted.incr()
          return fail(withFailureFlags(rr.error, FailureFlags.NonRetryable))
        }
        if (step.value > 0) return sleep(scheduler, step.value, signal).then(again, fail)
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
      return attempt()
    }
    return Service.of(call, {
      status: () => next.status,
      close: async () => {
        disposeGauge()
        await next.close()
      },
    })
  }
}
