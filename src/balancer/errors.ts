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

/**
 * A balancer option is out of range. The message names the option, what was expected and what was
 * found, e.g. `aperture: lowLoad must be a number in (0, highLoad), found 2`.
 *
 * @example
 * ```ts
 * aperture({ lowLoad: 2, highLoad: 1 }) // throws BalancerConfigError
 * ```
 */
export class BalancerConfigError extends SwitchboardError {
  constructor(message: string) {
    super('BalancerConfig', message)
  }
}
