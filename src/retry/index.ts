/**
 * Retries that cannot become a retry storm: backoff schedules, retry budgets, response classification,
 * the `retries` filter (classified failures, with backoff and budget) and the `requeues` filter
 * (failures that never reached the server, at once). Generic over request and response types; a
 * protocol layer plugs in its classifier and its "can this body be replayed" check.
 *
 * @example
 * ```ts
 * import { Backoff, retries, retryBudget } from 'switchboard/retry'
 * const client = retries({ budget: retryBudget(), backoff: Backoff.decorrelatedJitter(5, 200) })(service)
 * ```
 */
export { Backoff } from './backoff.js'
export { RetryBudget, type RetryBudgetOptions, retryBudget } from './budget.js'
export { classify, ReqRep, ResponseClass, ResponseClassifier } from './classifier.js'
export { type RequeuesOptions, requeues } from './requeues.js'
export { type RetriesOptions, retries } from './retries.js'
