import type { Clock } from '../core/clock.js'
import { type Filter, Service } from '../core/service.js'
import type { Disposer } from '../core/var.js'
import type { ReqRep } from '../retry/classifier.js'
import type { Counter, StatsReceiver } from '../stats/stats.js'
import type { ClassifiedRequest, ClassifiedResponse, HttpClassifier } from './classifiers.js'
import { errorCode } from './errors.js'

/** Finagle's name for a response the classifier calls a failure. */
export const SYNTHETIC_FAILURE = 'ResponseClassificationSyntheticException'

/**
 * How busy something is, for caches that close what is idle: requests in flight and when the last
 * one started or ended (by the filter's clock).
 */
export interface Usage {
  inflight: number
  lastUsed: number
}

/** The class of a failure for `failures/<class>`: the error's `code`, else its name. */
export function failureClass(error: unknown): string {
  const code = errorCode(error)
  if (code !== '') return code
  if (error instanceof Error) return error.name
  return 'unknown'
}

/**
 * Counts requests the way Finagle's `StatsFilter` does, classifying each outcome with the request's
 * classifier: `requests`, `success`, `failures`, `failures/<class>` (an error's `code`, or
 * `ResponseClassificationSyntheticException` for a response classified as a failure),
 * `request_latency_ms` (to the response head), `pending` (gauge), and linkerd's HTTP `status/<code>`
 * and `status/<N>XX`.
 *
 * @example
 * ```ts
 * const counted = httpStats(stats.scope('service', 'svc/users'), clock, () => retryableRead5xx)(service)
 * ```
 */
export function httpStats<Req extends ClassifiedRequest, Rep extends ClassifiedResponse>(
  stats: StatsReceiver,
  clock: Clock,
  classifierOf: (req: Req) => HttpClassifier,
  usage: Usage = { inflight: 0, lastUsed: 0 },
): Filter<Req, Rep> {
  const requests = stats.counter('requests')
  const success = stats.counter('success')
  const failures = stats.counter('failures')
  const latency = stats.stat('request_latency_ms')
  const byClass = new Map<string, Counter>()
  const byStatus = new Map<number, Counter>()
  const failureOf = (cls: string) => {
    let c = byClass.get(cls)
    if (!c) {
      c = stats.counter(`failures/${cls}`)
      byClass.set(cls, c)
    }
    return c
  }
  const status = (code: number) => {
    let c = byStatus.get(code)
    if (!c) {
      const exact = stats.counter(`status/${code}`)
      const range = stats.counter(`status/${Math.floor(code / 100)}XX`)
      c = {
        incr: () => {
          exact.incr()
          range.incr()
        },
      }
      byStatus.set(code, c)
    }
    return c
  }
  return (next) => {
    const gauge: Disposer = stats.gauge('pending', () => usage.inflight)
    const record = (rr: ReqRep<Req, Rep>, started: number) => {
      usage.inflight--
      const now = clock.now()
      usage.lastUsed = now
      latency.add(now - started)
      if (rr.ok) status(rr.response.statusCode).incr()
      const cls = classifierOf(rr.request)(rr)
      if (cls.kind === 'success') success.incr()
      else if (cls.kind === 'failed') {
        failures.incr()
        failureOf(rr.ok ? SYNTHETIC_FAILURE : failureClass(rr.error)).incr()
      }
    }
    return Service.of<Req, Rep>(
      (req, signal) => {
        requests.incr()
        usage.inflight++
        const started = clock.now()
        usage.lastUsed = started
        return next(req, signal).then(
          (response) => {
            record({ request: req, ok: true, response }, started)
            return response
          },
          (error: unknown) => {
            record({ request: req, ok: false, error }, started)
            throw error
          },
        )
      },
      {
        status: () => next.status,
        close: () => {
          gauge()
          return next.close()
        },
      },
    )
  }
}
