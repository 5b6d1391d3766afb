/**
 * Per-endpoint health: `failureAccrual` (a request-driven breaker: marks an endpoint dead after
 * failures, probes it after a backoff, revives it on success) with its policies, and `failFast` (a
 * connection-driven breaker: marks an endpoint down after a connection failure and reconnects in the
 * background). Both act only through the endpoint's `status`, which the balancer reads to skip it.
 *
 * @example
 * ```ts
 * import { consecutiveFailures, failFast, failureAccrual } from 'switchboard/liveness'
 * const connect = (address) =>
 *   Filter.chain(failureAccrual({ policy: consecutiveFailures(5) }), failFast())(endpoint(address))
 * ```
 */
export { FailFastError } from './errors.js'
export { type FailFastOptions, failFast, reconnectSchedule } from './fail-fast.js'
export { type FailureAccrualOptions, failureAccrual } from './failure-accrual.js'
export {
  type AccrualState,
  consecutiveFailures,
  defaultAccrualPolicy,
  type FailureAccrualPolicy,
  markDeadSchedule,
  perturb,
  successRate,
  successRateWindowed,
} from './policy.js'
