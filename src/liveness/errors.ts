import { SwitchboardError } from '../core/errors.js'
import { FailureFlags } from '../core/failure.js'

/**
 * The endpoint was marked down by `failFast` after a connection failure, and the request was refused
 * without being sent. Flagged `Retryable | Rejected`: nothing reached the server, so a `requeues`
 * filter above the balancer sends the request to another endpoint (Finagle's `FailedFastException`).
 *
 * @example
 * ```ts
 * try { await endpoint(req) } catch (e) { if (e instanceof FailFastError) console.log(e.code) } // 'FailFast'
 * ```
 */
export class FailFastError extends SwitchboardError {
  constructor(
    message = 'endpoint is marked down after a connection failure (fail fast); the request was not sent',
  ) {
    super('FailFast', message, { failureFlags: FailureFlags.Retryable | FailureFlags.Rejected })
  }
}
