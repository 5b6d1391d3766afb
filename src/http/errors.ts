import { SwitchboardError } from '../core/errors.js'
import { FailureFlags } from '../core/failure.js'

/**
 * Connecting to an endpoint failed (refused, unreachable, connect timeout, DNS failure): the request
 * was never written, so it is flagged `Retryable | Rejected` and a requeue layer sends it to another
 * endpoint, whatever its method and body. `cause` is the socket error; `address` the endpoint.
 *
 * @example
 * ```ts
 * err instanceof ConnectionFailedError && err.address // '127.0.0.1:8081'
 * isRequeueable(err)                                 // true
 * ```
 */
export class ConnectionFailedError extends SwitchboardError {
  readonly address: string
  constructor(address: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause)
    super('ConnectionFailed', `connection to ${address} failed: ${why}`, {
      cause,
      failureFlags: FailureFlags.Retryable | FailureFlags.Rejected,
    })
    this.address = address
  }
}

/**
 * The connection closed (reset, or ended by the peer) after the request may have been written, so
 * the server may have acted on it: not requeue-safe. The read and idempotent classifiers
 * (`retryableRead5xx`, `retryableIdempotent5xx`) still retry it, as linkerd's do.
 *
 * @example
 * ```ts
 * err instanceof ChannelClosedError // a backend died in the middle of the request
 * ```
 */
export class ChannelClosedError extends SwitchboardError {
  readonly address: string
  constructor(address: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause)
    super('ChannelClosed', `connection to ${address} closed: ${why}`, { cause })
    this.address = address
  }
}

/**
 * An endpoint already has `maxWaiters` requests waiting for a connection (linkerd's
 * `hostConnectionPool.maxWaiters`). Nothing was sent: flagged `Retryable | Rejected`.
 *
 * @example
 * ```ts
 * createClient({ ..., client: { hostConnectionPool: { maxSize: 10, maxWaiters: 100 } } })
 * ```
 */
export class TooManyWaitersError extends SwitchboardError {
  readonly address: string
  constructor(address: string, maxWaiters: number) {
    super('TooManyWaiters', `${address}: more than ${maxWaiters} requests waiting for a connection`, {
      failureFlags: FailureFlags.Retryable | FailureFlags.Rejected,
    })
    this.address = address
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
])

const CLOSED_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
])

/** The `code` of an error (Node's system errors and undici's errors both carry one), or ''. */
export function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return ''
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : ''
}

/**
 * Turns an error from undici into the error the stack reasons about: connect failures become
 * `ConnectionFailedError` (requeue-safe), resets and premature closes `ChannelClosedError`; anything
 * else (timeouts, parser errors, our own errors) is returned as it is.
 */
export function classifyTransportError(address: string, error: unknown): unknown {
  const code = errorCode(error)
  if (CONNECT_CODES.has(code)) return new ConnectionFailedError(address, error)
  if (CLOSED_CODES.has(code)) return new ChannelClosedError(address, error)
  return error
}
