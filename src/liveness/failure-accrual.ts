import { type Cancel, type Scheduler, systemScheduler } from '../core/clock.js'
import { SwitchboardError } from '../core/errors.js'
import { type Random, systemRandom } from '../core/random.js'
import { type Filter, Service } from '../core/service.js'
import { Status } from '../core/status.js'
import { classify, type ReqRep, type ResponseClassifier } from '../retry/classifier.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { type AccrualState, defaultAccrualPolicy, type FailureAccrualPolicy } from './policy.js'

/** Options of `failureAccrual`. */
export interface FailureAccrualOptions<Req, Rep> {
  /** When to mark the endpoint dead and for how long. Default `defaultAccrualPolicy(random)`. */
  policy?: FailureAccrualPolicy | undefined
  /** What counts as success and failure; falls back to `ResponseClassifier.default`. */
  classifier?: ResponseClassifier<Req, Rep> | undefined
  /** Time for the mark-dead periods and windows. Default `systemScheduler`. */
  scheduler?: Scheduler | undefined
  /** Jitter of the default policy's schedule. Default `systemRandom`. */
  random?: Random | undefined
  /** Receives `failure_accrual/{removals, revivals, probes, removed_for_ms}`. */
  stats?: StatsReceiver | undefined
  /**
   * Whether a request abandoned because a timeout above this filter fired (the signal was aborted
   * with a `TimeoutError`: a total timeout, a deadline) counts as a failure of this endpoint, as
   * Finagle's stack sees it (the endpoint never answered in time). Default true: an endpoint that
   * accepts and never answers is marked dead like one that fails. A caller's own abort (any other
   * reason) is ignored either way.
   */
  countAbandoned?: boolean | undefined
}

/** An abort caused by a timeout of the stack (`TimeoutError`, code `Timeout`), not by the caller. */
function isTimeout(reason: unknown): boolean {
  return reason instanceof SwitchboardError && reason.code === 'Timeout'
}

/**
 * Where one endpoint's breaker is: serving (`alive`), marked dead until a timer fires (`dead`), let one
 * probe through (`probeOpen`), or waiting for that probe's outcome (`probeClosed`).
 */
type AccrualPhase = 'alive' | 'dead' | 'probeOpen' | 'probeClosed'

/**
 * Finagle's request-driven circuit breaker, one per endpoint, below the balancer. Every outcome is
 * classified; the policy decides when the endpoint is marked dead and for how long. A dead endpoint
 * reports `busy`, so the balancer sends it nothing unless every node is unhealthy (it "fails open":
 * a request that still arrives goes through). When the mark-dead period ends the first request is a
 * probe (status `busy` again while it is in flight): a success revives the endpoint and resets the
 * policy, a failure marks it dead for the next period of the schedule.
 *
 * - Failures while dead are ignored; an `Ignorable` outcome of a probe lets another probe through.
 * - A request the caller aborted says nothing about the endpoint and is ignored; one abandoned because
 *   a timeout above fired (total timeout, deadline) is a failure of the endpoint (`countAbandoned`).
 * - Put the per-attempt timeout below this filter, so timeouts count as failures.
 *
 * @example
 * ```ts
 * const connect = (address) => failureAccrual({ policy: consecutiveFailures(5) })(endpoint(address))
 * const lb = balancer({ addresses, connect })
 * ```
 */
export function failureAccrual<Req, Rep>(options: FailureAccrualOptions<Req, Rep> = {}): Filter<Req, Rep> {
  const scheduler = options.scheduler ?? systemScheduler
  const policy = options.policy ?? defaultAccrualPolicy(options.random ?? systemRandom)
  const { classifier } = options
  const countAbandoned = options.countAbandoned ?? true
  const stats = (options.stats ?? nullStats).scope('failure_accrual')
  const removals = stats.counter('removals')
  const revivals = stats.counter('revivals')
  const probes = stats.counter('probes')
  const removedFor = stats.counter('removed_for_ms')

  return (next) => {
    const accrual: AccrualState = policy.create(scheduler)
    let phase: AccrualPhase = 'alive'
    let cancelTimer: Cancel | undefined

    const markDeadFor = (ms: number) => {
      if (phase === 'alive') removals.incr()
      phase = 'dead'
      removedFor.incr(Math.round(ms))
      cancelTimer?.()
      cancelTimer = scheduler.setTimeout(() => {
        cancelTimer = undefined
        if (phase === 'dead') phase = 'probeOpen'
      }, ms)
    }
    const didSucceed = () => {
      if (phase === 'probeClosed') {
        revivals.incr()
        accrual.revived()
        phase = 'alive'
      }
      accrual.recordSuccess()
    }
    const didFail = () => {
      if (phase !== 'alive' && phase !== 'probeClosed') return
      const ms = accrual.markDeadOnFailure()
      if (ms !== undefined) markDeadFor(ms)
      else if (phase === 'probeClosed') phase = 'probeOpen'
    }

    const observe = (rr: ReqRep<Req, Rep>, signal: AbortSignal | undefined) => {
      const cls =
        signal?.aborted !== true
          ? classify(classifier, rr)
          : countAbandoned && isTimeout(signal.reason)
            ? classify(classifier, { request: rr.request, ok: false, error: signal.reason })
            : undefined
      if (cls?.kind === 'success') didSucceed()
      else if (cls?.kind === 'failed') didFail()
      else if (phase === 'probeClosed') phase = 'probeOpen'
    }

    // Plain callbacks rather than an async function: one promise per request, no extra turns.
    const call = (req: Req, signal?: AbortSignal): Promise<Rep> => {
      if (phase === 'probeOpen') {
        phase = 'probeClosed'
        probes.incr()
      }
      let pending: Promise<Rep>
      try {
        pending = next(req, signal)
      } catch (error) {
        pending = Promise.reject(error)
      }
      return pending.then(
        (response) => {
          observe({ request: req, ok: true, response }, signal)
          return response
        },
        (error: unknown) => {
          observe({ request: req, ok: false, error }, signal)
          throw error
        },
      )
    }

    return Service.of(call, {
      status: () =>
        phase === 'dead' || phase === 'probeClosed' ? Status.worst('busy', next.status) : next.status,
      close: async () => {
        cancelTimer?.()
        cancelTimer = undefined
        await next.close()
      },
    })
  }
}
