import { type Clock, systemScheduler } from '../core/clock.js'
import { checkNumber } from '../core/options.js'
import { slidingSum } from '../core/window.js'

/**
 * A retry budget caps retries as a fraction of traffic, so that retries cannot turn a partial outage
 * into a retry storm. Every request deposits, every retry withdraws; when the budget is empty the
 * retry is not made.
 *
 * @example
 * ```ts
 * const budget = retryBudget()
 * budget.deposit()
 * if (budget.tryWithdraw()) retry()
 * budget.balance // retries allowed right now
 * ```
 */
export interface RetryBudget {
  /** Credits one request. */
  deposit(): void
  /** Takes one retry if the budget allows it; false when it does not. */
  tryWithdraw(): boolean
  /** The number of retries the budget would allow now. */
  readonly balance: number
}

/** Options of `retryBudget`; every one has Finagle's (and linkerd's) default. */
export interface RetryBudgetOptions {
  /** How long a deposit (or withdrawal) counts, 1 s to 60 s. Default 10 000. */
  ttlMs?: number | undefined
  /** Retries allowed per second even without deposits (the reserve). Default 10. */
  minRetriesPerSec?: number | undefined
  /** Retries allowed per deposit, 0 to 1000 (1.0 = one retry per request). Default 0.2. */
  percentCanRetry?: number | undefined
  /** Where time comes from; default `systemScheduler`. */
  clock?: Clock | undefined
}

const SCALE = 1000
const SLICES = 10

/**
 * Finagle's token-bucket retry budget. Amounts are scaled integers: a deposit adds 1000, a withdrawal
 * takes `floor(1000 / percentCanRetry)` (5000 at 20 %), and a fixed reserve of
 * `minRetriesPerSec × ttl seconds` withdrawals is always added. Deposits and withdrawals are kept in a
 * sliding window of 10 slices of `ttlMs / 10`; each one ages out after 9 to 10 slices, which is how the
 * reserve refills. Net effect with the defaults: at most about 20 % of requests plus 10 retries per
 * second are retried.
 *
 * With both `minRetriesPerSec` and `percentCanRetry` at 0 the result is `RetryBudget.empty`.
 *
 * @example
 * ```ts
 * const budget = retryBudget({ ttlMs: 10_000, minRetriesPerSec: 10, percentCanRetry: 0.2 })
 * budget.balance // 100: the reserve, before any traffic
 * ```
 */
export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const ttlMs = checkNumber('retryBudget', 'ttlMs', options.ttlMs ?? 10_000, { min: 1000, max: 60_000 })
  const minPerSec = checkNumber('retryBudget', 'minRetriesPerSec', options.minRetriesPerSec ?? 10, { min: 0 })
  const percent = checkNumber('retryBudget', 'percentCanRetry', options.percentCanRetry ?? 0.2, {
    min: 0,
    max: 1000,
  })
  if (minPerSec === 0 && percent === 0) return RetryBudget.empty
  const clock = options.clock ?? systemScheduler

  const depositAmount = percent === 0 ? 0 : SCALE
  const withdrawAmount = percent === 0 ? 1 : Math.floor(SCALE / percent)
  const reserve = Math.floor(minPerSec * Math.floor(ttlMs / 1000) * withdrawAmount)

  const window = slidingSum(ttlMs / SLICES, SLICES, clock)
  const count = () => window.sum() + reserve

  return {
    deposit() {
      if (depositAmount > 0) window.add(depositAmount)
    },
    tryWithdraw() {
      if (count() < withdrawAmount) return false
      window.add(-withdrawAmount)
      return true
    },
    get balance() {
      return Math.floor(count() / withdrawAmount)
    },
  }
}

export const RetryBudget = {
  /**
   * The budget that never allows a retry (balance 0).
   *
   * @example
   * ```ts
   * RetryBudget.empty.tryWithdraw() // false
   * ```
   */
  empty: Object.freeze<RetryBudget>({ deposit() {}, tryWithdraw: () => false, balance: 0 }),
  /**
   * The budget that always allows a retry (balance 100, as Finagle reports it). For tests and for
   * callers that cap retries some other way.
   *
   * @example
   * ```ts
   * RetryBudget.infinite.tryWithdraw() // true
   * ```
   */
  infinite: Object.freeze<RetryBudget>({ deposit() {}, tryWithdraw: () => true, balance: 100 }),
  /**
   * A view of `budget` whose `deposit()` does nothing. When retries and requeues share one budget, the
   * requeue layer gets this view so that each logical request deposits once (Finagle does the same).
   *
   * @example
   * ```ts
   * const budget = retryBudget()
   * const stack = Filter.chain(retries({ budget }), requeues({ budget: RetryBudget.withdrawOnly(budget) }))
   * ```
   */
  withdrawOnly(budget: RetryBudget): RetryBudget {
    return {
      deposit() {},
      tryWithdraw: () => budget.tryWithdraw(),
      get balance() {
        return budget.balance
      },
    }
  },
} as const
