import { checkNumber } from '../core/options.js'
import { type Filter, Service } from '../core/service.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { RejectedError } from './errors.js'

/** Options of `concurrencyLimit`. */
export interface ConcurrencyLimitOptions {
  /** Requests allowed in flight at once (≥ 1). */
  maxConcurrent: number
  /** Requests allowed to wait for a slot, first come first served (≥ 0). Default 0. */
  maxPending?: number | undefined
  /**
   * Receives gauges `request_concurrency` and `request_queue_size` (removed on close) and the counter
   * `dropped_requests` (Finagle's `RequestSemaphoreFilter` names).
   */
  stats?: StatsReceiver | undefined
}

interface Waiter {
  start(): void
}

/**
 * A bulkhead: at most `maxConcurrent` requests in flight and `maxPending` waiting; beyond that a
 * request is refused at once with `RejectedError`, which is flagged `Retryable | Rejected` so a
 * `requeues` filter above the balancer may send it elsewhere. A waiting request whose signal aborts
 * leaves the queue (its slot is not taken) and rejects with the signal's reason. Per endpoint it
 * protects the endpoint; above the balancer it caps a client.
 *
 * @example
 * ```ts
 * const limited = concurrencyLimit({ maxConcurrent: 100, maxPending: 50 })(endpoint)
 * ```
 */
export function concurrencyLimit<Req, Rep>(options: ConcurrencyLimitOptions): Filter<Req, Rep> {
  const maxConcurrent = checkNumber('concurrencyLimit', 'maxConcurrent', options.maxConcurrent, {
    min: 1,
    integer: true,
  })
  const maxPending = checkNumber('concurrencyLimit', 'maxPending', options.maxPending ?? 0, {
    min: 0,
    integer: true,
    infinite: true,
  })
  const stats = options.stats ?? nullStats
  const dropped = stats.counter('dropped_requests')

  return (next) => {
    let active = 0
    const queue: Waiter[] = []
    const gauges = [
      stats.gauge('request_concurrency', () => active),
      stats.gauge('request_queue_size', () => queue.length),
    ]

    const release = () => {
      const waiter = queue.shift()
      if (waiter) waiter.start()
      else active--
    }
    const run = (req: Req, signal: AbortSignal | undefined): Promise<Rep> => {
      let call: Promise<Rep>
      try {
        call = next(req, signal)
      } catch (error) {
        call = Promise.reject(error)
      }
      return call.finally(release)
    }

    const call = (req: Req, signal?: AbortSignal): Promise<Rep> => {
      if (signal?.aborted) return Promise.reject(signal.reason)
      if (active < maxConcurrent) {
        active++
        return run(req, signal)
      }
      if (queue.length >= maxPending) {
        dropped.incr()
        return Promise.reject(
          new RejectedError(
            `concurrency limit reached: ${maxConcurrent} requests in flight and ${queue.length} waiting (maxPending ${maxPending})`,
          ),
        )
      }
      return new Promise<Rep>((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(waiter)
          if (i >= 0) queue.splice(i, 1)
          reject(signal?.reason)
        }
        // A released slot passes straight to the waiter: `active` stays the same.
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', onAbort)
            run(req, signal).then(resolve, reject)
          },
        }
        queue.push(waiter)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }

    return Service.of(call, {
      status: () => next.status,
      close: async () => {
        for (const dispose of gauges) dispose()
        await next.close()
      },
    })
  }
}
