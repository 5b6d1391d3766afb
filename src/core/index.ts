export { Activity, ActivityPendingError, type ActivityState, type ActivityWitness } from './activity.js'
export {
  type Cancel,
  type Clock,
  type ManualClock,
  manualClock,
  type Scheduler,
  sleep,
  systemScheduler,
  type Timer,
} from './clock.js'
export { InvalidOptionError, ServiceClosedError, SwitchboardError } from './errors.js'
export { FailureFlags, failureFlagsOf, hasFailureFlags, isRequeueable, withFailureFlags } from './failure.js'
export { importOptional, MissingDependencyError } from './optional.js'
export { type Random, seededRandom, systemRandom } from './random.js'
export { Filter, Service, type ServiceHooks } from './service.js'
export { Status } from './status.js'
export { type Disposer, reportObserverError, type UpdatableVar, Var } from './var.js'
