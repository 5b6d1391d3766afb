/**
 * Bits an error carries to tell the layers above what kind of failure it is (Finagle's
 * `FailureFlags`, same bit positions):
 *
 * - `Retryable`: the request never reached the server's application logic (connection refused,
 *   fail-fast rejection, a node that was closed when picked, a local concurrency limit), so it is
 *   safe to send it again, even if it is not idempotent. Requeue layers re-send exactly these.
 * - `Interrupted`: the caller cancelled the request; never retried.
 * - `Rejected`: the endpoint refused the work (NACK, fail fast, limit); usually with `Retryable`.
 * - `NonRetryable`: a layer below already gave up (retry budget or per-request limit spent); no layer
 *   above may retry it. Never set together with `Retryable`.
 * - `Ignorable`: neither success nor failure for accounting (failure accrual, budgets).
 * - `DeadlineExceeded`: the request's deadline had passed.
 *
 * @example
 * ```ts
 * const err = new RejectedError('too many requests')
 * hasFailureFlags(err, FailureFlags.Retryable) // true
 * isRequeueable(withFailureFlags(err, FailureFlags.NonRetryable)) // false
 * ```
 */
export const FailureFlags = {
  Retryable: 1 << 0,
  Interrupted: 1 << 1,
  Rejected: 1 << 3,
  NonRetryable: 1 << 4,
  Ignorable: 1 << 5,
  DeadlineExceeded: 1 << 6,
} as const

/**
 * The `FailureFlags` bits of any thrown value: the `failureFlags` number property of an object, or 0.
 *
 * @example
 * ```ts
 * failureFlagsOf(new Error('x'))             // 0
 * failureFlagsOf(new ServiceClosedError())   // FailureFlags.Retryable
 * ```
 */
export function failureFlagsOf(error: unknown): number {
  if (typeof error !== 'object' || error === null) return 0
  const flags = (error as { failureFlags?: unknown }).failureFlags
  return typeof flags === 'number' ? flags : 0
}

/**
 * Whether `error` carries every bit of `flags`.
 *
 * @example
 * ```ts
 * hasFailureFlags(new ServiceClosedError(), FailureFlags.Retryable) // true
 * ```
 */
export function hasFailureFlags(error: unknown, flags: number): boolean {
  return (failureFlagsOf(error) & flags) === flags
}

/**
 * A copy of `error` with the bits of `add` set and those of `remove` cleared. The original is never
 * changed (the same error object may be thrown for many requests); the copy keeps the prototype, so
 * `instanceof`, `message`, `stack`, `code` and `cause` survive. Setting `NonRetryable` clears
 * `Retryable` and the other way round. A thrown value that is not an object is returned unchanged:
 * it cannot carry flags.
 *
 * @example
 * ```ts
 * const gaveUp = withFailureFlags(err, FailureFlags.NonRetryable)
 * gaveUp instanceof RejectedError // still true
 * ```
 */
export function withFailureFlags<E>(error: E, add: number, remove = 0): E {
  if (typeof error !== 'object' || error === null) return error
  let clear = remove
  if (add & FailureFlags.NonRetryable) clear |= FailureFlags.Retryable
  if (add & FailureFlags.Retryable) clear |= FailureFlags.NonRetryable
  const flags = (failureFlagsOf(error) & ~clear) | add
  if (flags === failureFlagsOf(error)) return error
  const copy = Object.create(Object.getPrototypeOf(error), Object.getOwnPropertyDescriptors(error))
  Object.defineProperty(copy, 'failureFlags', { value: flags, enumerable: true, configurable: true })
  return copy as E
}

/**
 * Finagle's `RetryableWriteException` rule: a failure may be re-sent to another node when it is
 * flagged `Retryable`, and neither `Interrupted` nor `NonRetryable`.
 *
 * @example
 * ```ts
 * isRequeueable(new ServiceClosedError()) // true: nothing was sent
 * isRequeueable(new Error('ECONNRESET'))  // false: the server may have seen it
 * ```
 */
export function isRequeueable(error: unknown): boolean {
  const flags = failureFlagsOf(error)
  if (flags & (FailureFlags.Interrupted | FailureFlags.NonRetryable)) return false
  return (flags & FailureFlags.Retryable) !== 0
}
