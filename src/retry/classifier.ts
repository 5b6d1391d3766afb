import { FailureFlags, failureFlagsOf, isRequeueable } from '../core/failure.js'

/**
 * What a response (or error) means for the layers that count and retry: retries, requeues, failure
 * accrual and stats all read the same `ResponseClass`.
 *
 * - `success`: the request worked; `fraction` (0, 1] lets a partial success count partly.
 * - `failed`: the request failed; `retryable` says whether sending it again may help and is safe.
 * - `ignorable`: neither; never retried, earns no budget, does not move failure accrual.
 *
 * @example
 * ```ts
 * const c: ResponseClass = ResponseClass.RetryableFailure
 * ResponseClass.show(c) // 'RetryableFailure'
 * ```
 */
export type ResponseClass =
  | { readonly kind: 'success'; readonly fraction: number }
  | { readonly kind: 'failed'; readonly retryable: boolean }
  | { readonly kind: 'ignorable' }

export const ResponseClass = {
  Success: Object.freeze({ kind: 'success', fraction: 1 }) as ResponseClass,
  RetryableFailure: Object.freeze({ kind: 'failed', retryable: true }) as ResponseClass,
  NonRetryableFailure: Object.freeze({ kind: 'failed', retryable: false }) as ResponseClass,
  Ignorable: Object.freeze({ kind: 'ignorable' }) as ResponseClass,
  /**
   * A success that counts as `fraction` of one, in (0, 1].
   *
   * @example
   * ```ts
   * ResponseClass.successful(0.5) // { kind: 'success', fraction: 0.5 }
   * ```
   */
  successful(fraction: number): ResponseClass {
    if (!(fraction > 0 && fraction <= 1))
      throw new RangeError(`success fraction must be in (0, 1], got ${fraction}`)
    return fraction === 1 ? ResponseClass.Success : { kind: 'success', fraction }
  },
  /**
   * Finagle's names: `Success`, `Successful(0.5)`, `RetryableFailure`, `NonRetryableFailure`,
   * `Ignorable`.
   *
   * @example
   * ```ts
   * ResponseClass.show(ResponseClass.Ignorable) // 'Ignorable'
   * ```
   */
  show(c: ResponseClass): string {
    switch (c.kind) {
      case 'success':
        return c.fraction === 1 ? 'Success' : `Successful(${c.fraction})`
      case 'failed':
        return c.retryable ? 'RetryableFailure' : 'NonRetryableFailure'
      case 'ignorable':
        return 'Ignorable'
    }
  },
  /** Whether the class is a failure of either kind. */
  isFailure(c: ResponseClass): boolean {
    return c.kind === 'failed'
  },
} as const

/**
 * A request with its outcome: the response, or the error it failed with.
 *
 * @example
 * ```ts
 * const rr: ReqRep<string, number> = { request: 'GET /', ok: false, error: new Error('reset') }
 * ```
 */
export type ReqRep<Req, Rep> =
  | { readonly request: Req; readonly ok: true; readonly response: Rep }
  | { readonly request: Req; readonly ok: false; readonly error: unknown }

export const ReqRep = {
  /**
   * Waits for a call and returns its outcome as data, so decision code branches on a value instead of
   * on exceptions.
   *
   * @example
   * ```ts
   * const rr = await ReqRep.settle(req, service(req)) // { request, ok: true, response } or { ..., ok: false, error }
   * ```
   */
  async settle<Req, Rep>(request: Req, call: Promise<Rep>): Promise<ReqRep<Req, Rep>> {
    try {
      return { request, ok: true, response: await call }
    } catch (error) {
      return { request, ok: false, error }
    }
  },
  /**
   * The outcome as a result again: the response, or a throw of the error.
   *
   * @example
   * ```ts
   * return ReqRep.unwrap(rr)
   * ```
   */
  unwrap<Req, Rep>(rr: ReqRep<Req, Rep>): Rep {
    if (rr.ok) return rr.response
    throw rr.error
  },
} as const

/**
 * Maps a request and its outcome to a `ResponseClass`. Like Finagle's partial functions, a classifier
 * answers only for the outcomes it knows and returns `undefined` for the rest; `classify` falls back
 * to `ResponseClassifier.default`. Protocol layers supply their own (an HTTP one turns 5xx into
 * failures).
 *
 * @example
 * ```ts
 * const timeoutsRetryable: ResponseClassifier<unknown, unknown> = (rr) =>
 *   !rr.ok && rr.error instanceof TimeoutError ? ResponseClass.RetryableFailure : undefined
 * ```
 */
export type ResponseClassifier<Req, Rep> = (rr: ReqRep<Req, Rep>) => ResponseClass | undefined

export const ResponseClassifier = {
  /**
   * Finagle's default: any response is a `Success`; an error flagged `Ignorable` is `Ignorable`; an
   * error that is safe to re-send (`isRequeueable`: flagged `Retryable`, not `Interrupted` or
   * `NonRetryable`) is a `RetryableFailure`; any other error is a `NonRetryableFailure`. So a protocol
   * error status is a success unless a protocol classifier says otherwise, and timeouts are not
   * retried unless a classifier opts in.
   *
   * @example
   * ```ts
   * ResponseClassifier.default({ request: 1, ok: true, response: 2 }) // Success
   * ```
   */
  default(rr: ReqRep<unknown, unknown>): ResponseClass {
    if (rr.ok) return ResponseClass.Success
    if (failureFlagsOf(rr.error) & FailureFlags.Ignorable) return ResponseClass.Ignorable
    return isRequeueable(rr.error) ? ResponseClass.RetryableFailure : ResponseClass.NonRetryableFailure
  },
  /**
   * Tries `classifiers` in order; the first answer wins.
   *
   * @example
   * ```ts
   * const classifier = ResponseClassifier.orElse(serverErrorsAsFailures, ResponseClassifier.retryOnThrows)
   * ```
   */
  orElse<Req, Rep>(...classifiers: ResponseClassifier<Req, Rep>[]): ResponseClassifier<Req, Rep> {
    return (rr) => {
      for (const c of classifiers) {
        const out = c(rr)
        if (out !== undefined) return out
      }
      return undefined
    }
  },
  /**
   * Every error is a `RetryableFailure` unless flagged `Interrupted` or `NonRetryable` (Finagle's
   * `RetryOnThrows`). Only for idempotent requests: the server may have seen the first try.
   *
   * @example
   * ```ts
   * retries({ classifier: ResponseClassifier.retryOnThrows })
   * ```
   */
  retryOnThrows(rr: ReqRep<unknown, unknown>): ResponseClass | undefined {
    if (rr.ok) return undefined
    if (failureFlagsOf(rr.error) & (FailureFlags.Interrupted | FailureFlags.NonRetryable))
      return ResponseClass.NonRetryableFailure
    return ResponseClass.RetryableFailure
  },
  /**
   * Errors that are safe to re-send (`isRequeueable`: flagged `Retryable`, not `Interrupted` or
   * `NonRetryable`) are a `RetryableFailure`; no answer for anything else (Finagle's
   * `RetryOnWriteExceptions`).
   *
   * @example
   * ```ts
   * ResponseClassifier.retryOnWriteExceptions({ request: 1, ok: false, error: new ServiceClosedError() }) // RetryableFailure
   * ```
   */
  retryOnWriteExceptions(rr: ReqRep<unknown, unknown>): ResponseClass | undefined {
    return !rr.ok && isRequeueable(rr.error) ? ResponseClass.RetryableFailure : undefined
  },
  /**
   * A timeout (`TimeoutError` of `switchboard/limits`, recognised by its code `Timeout`) is a
   * `RetryableFailure`, unless flagged `Interrupted` or `NonRetryable`; no answer for anything else
   * (Finagle's `RetryOnTimeout`). Only for idempotent requests: the server may have seen the first try.
   *
   * @example
   * ```ts
   * retries({ classifier: ResponseClassifier.retryOnTimeout })
   * ```
   */
  retryOnTimeout(rr: ReqRep<unknown, unknown>): ResponseClass | undefined {
    if (rr.ok || codeOf(rr.error) !== 'Timeout') return undefined
    if (failureFlagsOf(rr.error) & (FailureFlags.Interrupted | FailureFlags.NonRetryable))
      return ResponseClass.NonRetryableFailure
    return ResponseClass.RetryableFailure
  },
  /**
   * A per-attempt timeout (`TimeoutError` of kind `attempt`) is `Ignorable`: it neither moves failure
   * accrual nor counts as a failure; no answer for anything else (Finagle's `IgnoreIRTEs`).
   *
   * @example
   * ```ts
   * failureAccrual({ classifier: ResponseClassifier.ignoreIRTEs })
   * ```
   */
  ignoreIRTEs(rr: ReqRep<unknown, unknown>): ResponseClass | undefined {
    if (rr.ok || codeOf(rr.error) !== 'Timeout') return undefined
    return (rr.error as { kind?: unknown }).kind === 'attempt' ? ResponseClass.Ignorable : undefined
  },
  /**
   * Errors that match `predicate` are a `RetryableFailure` (e.g. a per-attempt `TimeoutError`, Finagle's
   * `RetryOnTimeout`), unless flagged `Interrupted` or `NonRetryable`.
   *
   * @example
   * ```ts
   * const retryOnTimeout = ResponseClassifier.retryOnErrors((e) => e instanceof TimeoutError)
   * ```
   */
  retryOnErrors(predicate: (error: unknown) => boolean): ResponseClassifier<unknown, unknown> {
    return (rr) => {
      if (rr.ok || !predicate(rr.error)) return undefined
      if (failureFlagsOf(rr.error) & (FailureFlags.Interrupted | FailureFlags.NonRetryable))
        return ResponseClass.NonRetryableFailure
      return ResponseClass.RetryableFailure
    }
  },
} as const

/**
 * Classifies with `classifier`, falling back to `ResponseClassifier.default` where it has no answer.
 *
 * @example
 * ```ts
 * classify(undefined, { request: 'x', ok: false, error: new Error() }) // NonRetryableFailure
 * ```
 */
export function classify<Req, Rep>(
  classifier: ResponseClassifier<Req, Rep> | undefined,
  rr: ReqRep<Req, Rep>,
): ResponseClass {
  return classifier?.(rr) ?? ResponseClassifier.default(rr)
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
}
