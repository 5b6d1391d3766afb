import { SwitchboardError } from '../core/errors.js'

/**
 * The balancer has no endpoint to send to: the address set is empty (`neg`, or bound to nothing),
 * or it never resolved. `cause` holds the resolution failure when there was one.
 *
 * @example
 * ```ts
 * try { await lb(req) } catch (e) { if (e instanceof NoBrokersAvailableError) console.log(e.code) } // 'NoBrokersAvailable'
 * ```
 */
export class NoBrokersAvailableError extends SwitchboardError {
  constructor(
    message = 'no brokers available: the balancer has no endpoints',
    options?: { cause?: unknown },
  ) {
    super('NoBrokersAvailable', message, options)
  }
}
