import { FailureFlags } from './failure.js'

/**
 * The base of every error switchboard throws. Each subclass carries a stable `code` string, so
 * callers can branch on `err.code` without `instanceof` across package copies, and `failureFlags`
 * (see `FailureFlags`) that tell retry layers whether the failure is safe to re-send.
 *
 * @example
 * ```ts
 * try { Dtab.read('/a=>') } catch (e) { if (e instanceof SwitchboardError) console.log(e.code) }
 * ```
 */
export class SwitchboardError extends Error {
  readonly code: string
  /** A bit set of `FailureFlags`; 0 for an ordinary failure. */
  readonly failureFlags: number
  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; failureFlags?: number | undefined },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.failureFlags = options?.failureFlags ?? 0
    this.name = new.target.name
  }
}

/**
 * A service or filter was used after `close()`. Flagged `Retryable`: nothing was sent, so a requeue
 * layer above a balancer may re-send the request to another node (Finagle requeues a session that
 * was closed when picked).
 *
 * @example
 * ```ts
 * await service.close(); await service(req) // rejects with ServiceClosedError
 * ```
 */
export class ServiceClosedError extends SwitchboardError {
  constructor(message = 'service is closed') {
    super('ServiceClosed', message, { failureFlags: FailureFlags.Retryable })
  }
}

/**
 * An option given to a constructor or factory is out of range or of the wrong kind. Thrown eagerly,
 * when the component is built, never on the request path. The message names the component, the
 * option, what was expected and what was found.
 *
 * @example
 * ```ts
 * retryBudget({ ttlMs: 10 })
 * // InvalidOptionError: retryBudget: ttlMs must be between 1000 and 60000 (ms), got 10
 * ```
 */
export class InvalidOptionError extends SwitchboardError {
  /** The option's name, e.g. `ttlMs`. */
  readonly option: string
  constructor(component: string, option: string, expected: string, found: unknown) {
    super('InvalidOption', `${component}: ${option} must be ${expected}, got ${showFound(found)}`)
    this.option = option
  }
}

function showFound(found: unknown): string {
  if (typeof found === 'string') return JSON.stringify(found)
  if (typeof found === 'function') return 'a function'
  return String(found)
}
