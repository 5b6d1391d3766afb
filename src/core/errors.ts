/**
 * The base of every error switchboard throws. Each subclass carries a stable `code` string, so
 * callers can branch on `err.code` without `instanceof` across package copies.
 *
 * @example
 * ```ts
 * try { Dtab.read('/a=>') } catch (e) { if (e instanceof SwitchboardError) console.log(e.code) }
 * ```
 */
export class SwitchboardError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/**
 * A service or filter was used after `close()`.
 *
 * @example
 * ```ts
 * await service.close(); await service(req) // rejects with ServiceClosedError
 * ```
 */
export class ServiceClosedError extends SwitchboardError {
  constructor(message = 'service is closed') {
    super('ServiceClosed', message)
  }
}
