import { type Cancel, type Scheduler, systemScheduler } from '../core/clock.js'
import { isRequeueable } from '../core/failure.js'
import { type Random, systemRandom } from '../core/random.js'
import { type Filter, Service } from '../core/service.js'
import { Status } from '../core/status.js'
import { Backoff } from '../retry/backoff.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { FailFastError } from './errors.js'

/** Options of `failFast`. */
export interface FailFastOptions {
  /**
   * Which errors are connection failures. Default: errors flagged `Retryable` and not `NonRetryable`
   * or `Interrupted` (`isRequeueable`): the transport flags a refused or failed connect that way.
   */
  isConnectionFailure?: ((error: unknown) => boolean) | undefined
  /**
   * The background reconnect: resolves when a connection to the endpoint can be made again. Called
   * after each backoff delay while the endpoint is marked down. Without it, the endpoint is let back
   * in after each delay and the next request decides (a failure continues the schedule).
   */
  reconnect?: ((signal: AbortSignal) => Promise<unknown>) | undefined
  /**
   * Delays between reconnect attempts. Default `Backoff.fullJitter(1 s, 32 s).take(16)` then 32 s
   * forever. When the schedule runs out the endpoint is optimistically marked up.
   */
  backoff?: Backoff | undefined
  /**
   * How many endpoints the client has, read when it matters. With one endpoint (or none) fail fast
   * stands aside: failing closed would only fail requests that have nowhere else to go. Default: many.
   */
  endpointCount?: number | (() => number) | undefined
  /** Timer for the reconnect schedule. Default `systemScheduler`. */
  scheduler?: Scheduler | undefined
  /** Jitter of the default schedule. Default `systemRandom`. */
  random?: Random | undefined
  /**
   * Receives `failfast/{marked_dead, marked_available}` counters and `failfast/{unhealthy_for_ms,
   * unhealthy_num_tries, is_marked_dead}` gauges (removed on close).
   */
  stats?: StatsReceiver | undefined
}

/**
 * The default reconnect schedule: full jitter from 1 s up to 32 s for 16 tries, then 32 s forever.
 *
 * @example
 * ```ts
 * failFast({ backoff: reconnectSchedule(seededRandom(3)) })
 * ```
 */
export function reconnectSchedule(random: Random = systemRandom): Backoff {
  return Backoff.fullJitter(1000, 32_000, random).take(16).concat(Backoff.constant(32_000))
}

/**
 * Finagle's connection-driven breaker, one per endpoint, right above the transport. After a connection
 * failure the endpoint is marked down (status `busy`, so the balancer skips it) and new requests fail
 * at once with `FailFastError`, which a `requeues` filter sends elsewhere; requests in flight carry on.
 * In the background, `reconnect` is tried after each delay of a jittered schedule; when it succeeds
 * (or any request succeeds) the endpoint is marked up again. It "fails closed", unlike failure accrual,
 * and stands aside when the client has a single endpoint.
 *
 * @example
 * ```ts
 * const connect = (address) =>
 *   failFast({ reconnect: (signal) => tcpConnect(address, signal), endpointCount: () => lb.size })(endpoint(address))
 * ```
 */
export function failFast<Req, Rep>(options: FailFastOptions = {}): Filter<Req, Rep> {
  const scheduler = options.scheduler ?? systemScheduler
  const backoff = options.backoff ?? reconnectSchedule(options.random ?? systemRandom)
  const isConnectionFailure = options.isConnectionFailure ?? isRequeueable
  const { reconnect, endpointCount } = options
  const enabled = () => {
    const n =
      typeof endpointCount === 'function' ? endpointCount() : (endpointCount ?? Number.POSITIVE_INFINITY)
    return n > 1
  }
  const stats = (options.stats ?? nullStats).scope('failfast')
  const markedDead = stats.counter('marked_dead')
  const markedAvailable = stats.counter('marked_available')

  return (next) => {
    let down = false
    let closed = false
    let since = 0
    let tries = 0
    // The position in the reconnect schedule; kept across an optimistic revival until a success.
    let walk: Iterator<number> | undefined
    let cancelTimer: Cancel | undefined
    let probe: AbortController | undefined

    const stop = () => {
      cancelTimer?.()
      cancelTimer = undefined
      probe?.abort()
      probe = undefined
    }
    const markUp = () => {
      stop()
      walk = undefined
      if (down) markedAvailable.incr()
      down = false
    }
    const scheduleNext = () => {
      if (closed) return
      walk ??= backoff[Symbol.iterator]()
      const step = walk.next()
      if (step.done) return markUp()
      cancelTimer = scheduler.setTimeout(attempt, step.value)
    }
    const attempt = () => {
      cancelTimer = undefined
      if (!reconnect) {
        down = false // optimistic: the next request decides; `walk` remembers where we were
        return
      }
      tries++
      const ac = new AbortController()
      probe = ac
      Promise.resolve()
        .then(() => reconnect(ac.signal))
        .then(
          () => {
            if (probe !== ac) return
            probe = undefined
            markUp()
          },
          () => {
            if (probe !== ac) return
            probe = undefined
            scheduleNext()
          },
        )
    }
    const markDown = () => {
      markedDead.incr()
      down = true
      since = scheduler.now()
      tries = 0
      scheduleNext()
    }

    const gauges = [
      stats.gauge('unhealthy_for_ms', () => (down ? scheduler.now() - since : 0)),
      stats.gauge('unhealthy_num_tries', () => (down ? tries : 0)),
      stats.gauge('is_marked_dead', () => (down ? 1 : 0)),
    ]

    const call = async (req: Req, signal?: AbortSignal): Promise<Rep> => {
      if (down && enabled()) throw new FailFastError()
      try {
        const rep = await next(req, signal)
        if (down || walk) markUp()
        return rep
      } catch (error) {
        if (!down && !closed && isConnectionFailure(error) && enabled()) markDown()
        throw error
      }
    }

    return Service.of(call, {
      status: () => (down && enabled() ? Status.worst('busy', next.status) : next.status),
      close: async () => {
        closed = true
        stop()
        for (const dispose of gauges) dispose()
        await next.close()
      },
    })
  }
}
