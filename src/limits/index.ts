/**
 * Limits on a request's time and on concurrency: `totalTimeout` (the whole request, retries
 * included, respecting an incoming `Deadline`), `attemptTimeout` (one try, below the balancer), the
 * `Deadline` value with Finagle's combination rule and wire form, and `concurrencyLimit` (in flight
 * plus waiting, then `RejectedError`). Timeouts really cancel the request through its `AbortSignal`
 * and leave no timer or listener behind.
 *
 * @example
 * ```ts
 * import { attemptTimeout, concurrencyLimit, totalTimeout } from 'switchboard/limits'
 * const client = totalTimeout({ timeoutMs: 2000 })(service)
 * ```
 */
export { type ConcurrencyLimitOptions, concurrencyLimit } from './concurrency.js'
export { Deadline } from './deadline.js'
export { InvalidDeadlineError, RejectedError, TimeoutError, type TimeoutKind } from './errors.js'
export {
  type AttemptTimeoutOptions,
  attemptTimeout,
  type TotalTimeoutOptions,
  totalTimeout,
} from './timeout.js'
