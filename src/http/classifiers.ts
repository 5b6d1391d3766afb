import { FailureFlags, failureFlagsOf, isRequeueable } from '../core/failure.js'
import { type ReqRep, ResponseClass, type ResponseClassifier } from '../retry/classifier.js'
import { errorCode } from './errors.js'
import { type HttpHeaders, headerValue, isReplayableBody, type RequestBody } from './request.js'

/** What an HTTP classifier reads of a request. */
export interface ClassifiedRequest {
  readonly method: string
  readonly body?: RequestBody | undefined
}

/** What an HTTP classifier reads of a response. */
export interface ClassifiedResponse {
  readonly statusCode: number
  readonly headers: Readonly<HttpHeaders>
}

/**
 * A response classifier for HTTP: `(request, response or error) → ResponseClass`. Unlike the generic
 * `ResponseClassifier` it always answers (it is total), so it can be composed with `withL5dRules`.
 *
 * @example
 * ```ts
 * const c: HttpClassifier = retryableRead5xx
 * c({ request: { method: 'GET' }, ok: true, response: { statusCode: 503, headers: {} } }) // RetryableFailure
 * ```
 */
export type HttpClassifier = (rr: ReqRep<ClassifiedRequest, ClassifiedResponse>) => ResponseClass

/** `GET HEAD OPTIONS TRACE`. */
export const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
/** The read methods plus `PUT DELETE`. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([...READ_METHODS, 'PUT', 'DELETE'])
/** The idempotent methods plus `POST PATCH`. */
export const ALL_METHODS: ReadonlySet<string> = new Set([...IDEMPOTENT_METHODS, 'POST', 'PATCH'])

/** 500 to 599 inclusive. */
export function isServerError(status: number): boolean {
  return status >= 500 && status <= 599
}

const TIMEOUT_CODES = new Set(['Timeout', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
const FRAMING_CODES = new Set(['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_EXCEEDED_MAX_SIZE'])

/**
 * linkerd's retryable exceptions for HTTP: the request was never sent (requeue-safe), it timed out,
 * the connection closed under it, or the response was malformed. Never an error flagged
 * `Interrupted` (the caller cancelled) or `NonRetryable` (a layer below gave up).
 *
 * @example
 * ```ts
 * isRetryableHttpError(new ChannelClosedError('10.0.0.1:80', err)) // true
 * ```
 */
export function isRetryableHttpError(error: unknown): boolean {
  const flags = failureFlagsOf(error)
  if (flags & (FailureFlags.Interrupted | FailureFlags.NonRetryable)) return false
  if (isRequeueable(error)) return true
  const code = errorCode(error)
  return (
    code === 'ChannelClosed' || TIMEOUT_CODES.has(code) || FRAMING_CODES.has(code) || code.startsWith('HPE_')
  )
}

/**
 * The rule every HTTP classifier falls back to: a 5XX response is a non-retryable failure, any other
 * response a success, any error a non-retryable failure (an error flagged `Ignorable` is ignorable).
 *
 * @example
 * ```ts
 * baseHttpRule({ request, ok: true, response: { statusCode: 404, headers: {} } }) // Success
 * ```
 */
export const baseHttpRule: HttpClassifier = (rr) => {
  if (rr.ok)
    return isServerError(rr.response.statusCode) ? ResponseClass.NonRetryableFailure : ResponseClass.Success
  if (failureFlagsOf(rr.error) & FailureFlags.Ignorable) return ResponseClass.Ignorable
  return ResponseClass.NonRetryableFailure
}

/**
 * `io.l5d.http.nonRetryable5XX`, the default: 5XX responses are non-retryable failures, except that a
 * retryable nack (an error flagged `Retryable | Rejected`: the server refused it before doing any
 * work) is a retryable failure; everything else follows the base rule.
 *
 * @example
 * ```ts
 * createClient({ ..., service: { responseClassifier: nonRetryable5xx } })
 * ```
 */
export const nonRetryable5xx: HttpClassifier = (rr) => {
  if (!rr.ok && isRetryableNack(rr.error)) return ResponseClass.RetryableFailure
  return baseHttpRule(rr)
}

function isRetryableNack(error: unknown): boolean {
  return isRequeueable(error) && (failureFlagsOf(error) & FailureFlags.Rejected) !== 0
}

function retryable5xxFor(methods: ReadonlySet<string>): HttpClassifier {
  return (rr) => {
    if (methods.has(rr.request.method.toUpperCase())) {
      if (rr.ok ? isServerError(rr.response.statusCode) : isRetryableHttpError(rr.error))
        return ResponseClass.RetryableFailure
    }
    return baseHttpRule(rr)
  }
}

/**
 * `io.l5d.http.retryableRead5XX`: a GET, HEAD, OPTIONS or TRACE request answered 5XX, or that failed
 * with a retryable error (timeout, connection closed, never sent, malformed response), is a
 * retryable failure; everything else follows the base rule.
 *
 * @example
 * ```ts
 * createClient({ ..., service: { responseClassifier: retryableRead5xx } })
 * ```
 */
export const retryableRead5xx: HttpClassifier = retryable5xxFor(READ_METHODS)

/**
 * `io.l5d.http.retryableIdempotent5XX`: as `retryableRead5xx`, for the read methods plus PUT and DELETE.
 *
 * @example
 * ```ts
 * createClient({ ..., service: { responseClassifier: retryableIdempotent5xx } })
 * ```
 */
export const retryableIdempotent5xx: HttpClassifier = retryable5xxFor(IDEMPOTENT_METHODS)

/**
 * `io.l5d.http.retryableAll5XX`: as `retryableRead5xx`, for every method including POST and PATCH.
 *
 * @example
 * ```ts
 * createClient({ ..., service: { responseClassifier: retryableAll5xx } })
 * ```
 */
export const retryableAll5xx: HttpClassifier = retryable5xxFor(ALL_METHODS)

/**
 * `io.l5d.http.allSuccessful`: every response is a success, every error a non-retryable failure.
 *
 * @example
 * ```ts
 * createClient({ ..., service: { responseClassifier: allSuccessful } })
 * ```
 */
export const allSuccessful: HttpClassifier = (rr) => {
  if (rr.ok) return ResponseClass.Success
  return ResponseClass.NonRetryableFailure
}

/**
 * The two rules linkerd applies on top of any HTTP classifier: a non-retryable failure whose response
 * carries `l5d-retryable: true` becomes retryable, and a request whose body is a stream (sent once)
 * is never retryable.
 *
 * @example
 * ```ts
 * const classify = withL5dRules(retryableRead5xx)
 * ```
 */
export function withL5dRules(classifier: HttpClassifier): HttpClassifier {
  return (rr) => {
    let out = classifier(rr)
    if (
      rr.ok &&
      out.kind === 'failed' &&
      !out.retryable &&
      headerValue(rr.response.headers, 'l5d-retryable')?.toLowerCase() === 'true'
    )
      out = ResponseClass.RetryableFailure
    if (out.kind === 'failed' && out.retryable && !isReplayableBody(rr.request.body))
      out = ResponseClass.NonRetryableFailure
    return out
  }
}

/**
 * An HTTP classifier as the generic `ResponseClassifier` the `retries` and `requeues` filters take.
 *
 * @example
 * ```ts
 * retries({ classifier: asResponseClassifier(withL5dRules(retryableRead5xx)) })
 * ```
 */
export function asResponseClassifier<Req extends ClassifiedRequest, Rep extends ClassifiedResponse>(
  classifier: HttpClassifier,
): ResponseClassifier<Req, Rep> {
  return classifier as ResponseClassifier<Req, Rep>
}

/**
 * The HTTP classifiers by their linkerd `kind` names.
 *
 * @example
 * ```ts
 * httpClassifiers['io.l5d.http.retryableRead5XX'] === retryableRead5xx // true
 * ```
 */
export const httpClassifiers: Readonly<Record<string, HttpClassifier>> = {
  'io.l5d.http.nonRetryable5XX': nonRetryable5xx,
  'io.l5d.http.retryableRead5XX': retryableRead5xx,
  'io.l5d.http.retryableIdempotent5XX': retryableIdempotent5xx,
  'io.l5d.http.retryableAll5XX': retryableAll5xx,
  'io.l5d.http.allSuccessful': allSuccessful,
}
