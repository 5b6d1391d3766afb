import { SwitchboardError } from '../core/errors.js'
import { FailureFlags } from '../core/failure.js'

/** Which limit a `TimeoutError` reports: the whole request, one attempt, or an incoming deadline. */
export type TimeoutKind = 'total' | 'attempt' | 'deadline'

/**
 * A request took longer than its timeout, or its deadline passed. The underlying request was
 * cancelled through its `AbortSignal` (whose reason is this error). `kind` says which limit fired:
 * `total` (the whole request including retries, Finagle's `GlobalRequestTimeoutException`), `attempt`
 * (one try, below the balancer, Finagle's `IndividualRequestTimeoutException`), or `deadline` (an
 * incoming deadline stricter than the timeout; flagged `DeadlineExceeded`). Not retryable by default:
 * opt in with a classifier.
 *
 * @example
 * ```ts
 * try { await client(req) } catch (e) { if (e instanceof TimeoutError) console.log(e.kind, e.timeoutMs) }
 * ```
 */
export class TimeoutError extends SwitchboardError {
  readonly kind: TimeoutKind
  /** The limit that was exceeded, in ms (for `deadline`, what was left of it when the request began). */
  readonly timeoutMs: number
  constructor(kind: TimeoutKind, timeoutMs: number) {
    const ms = Number.isInteger(timeoutMs) ? `${timeoutMs}` : timeoutMs.toFixed(3)
    const message =
      kind === 'total'
        ? `total timeout of ${ms} ms exceeded (including retries)`
        : kind === 'attempt'
          ? `attempt timeout of ${ms} ms exceeded`
          : `deadline exceeded (${ms} ms were left when the request started)`
    super('Timeout', message, { failureFlags: kind === 'deadline' ? FailureFlags.DeadlineExceeded : 0 })
    this.kind = kind
    this.timeoutMs = timeoutMs
  }
}

/**
 * A concurrency limit refused the request: `maxConcurrent` requests were in flight and `maxPending`
 * were already waiting. Nothing was sent, so it is flagged `Retryable | Rejected`, and a `requeues`
 * filter above the balancer may send it to another endpoint.
 *
 * @example
 * ```ts
 * try { await endpoint(req) } catch (e) { if (e instanceof RejectedError) console.log(e.code) } // 'Rejected'
 * ```
 */
export class RejectedError extends SwitchboardError {
  constructor(message: string) {
    super('Rejected', message, { failureFlags: FailureFlags.Retryable | FailureFlags.Rejected })
  }
}

/**
 * A deadline's text form (`<timestamp ns> <deadline ns>`, as in Finagle's and linkerd's
 * `l5d-ctx-deadline` header) could not be read. The message quotes the input and says what was
 * expected.
 *
 * @example
 * ```ts
 * Deadline.read('soon') // throws InvalidDeadlineError: deadline must be two integers ...
 * ```
 */
export class InvalidDeadlineError extends SwitchboardError {
  readonly input: string
  constructor(input: string, problem: string) {
    super('InvalidDeadline', `deadline ${problem}, got ${JSON.stringify(input)}`)
    this.input = input
  }
}
