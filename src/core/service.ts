import { ServiceClosedError } from './errors.js'
import type { Status } from './status.js'

/**
 * A `Service` turns a request into a promised response. It is a plain function (so it can be called
 * like one) with a `status` a balancer reads to skip unhealthy endpoints, and a `close()` that
 * releases whatever it holds. The optional `AbortSignal` cancels the request.
 *
 * @example
 * ```ts
 * const echo = Service.of(async (req: string) => req.toUpperCase())
 * await echo('hi')  // 'HI'
 * echo.status       // 'open'
 * await echo.close()
 * echo.status       // 'closed'
 * ```
 */
export interface Service<Req, Rep> {
  (req: Req, signal?: AbortSignal): Promise<Rep>
  /** The health a balancer reads; `closed` after `close()`. */
  readonly status: Status
  /** Releases timers, sockets and watchers. Idempotent. */
  close(): Promise<void>
}

/** What `Service.of` needs beyond the function. */
export interface ServiceHooks {
  /** The status while the service is not closed; `open` by default. */
  status?: (() => Status) | undefined
  /** Called once by the first `close()`. */
  close?: (() => Promise<void> | void) | undefined
}

function make<Req, Rep>(
  call: (req: Req, signal?: AbortSignal) => Promise<Rep>,
  hooks: ServiceHooks,
): Service<Req, Rep> {
  let closing: Promise<void> | undefined
  const fn = (req: Req, signal?: AbortSignal): Promise<Rep> => {
    if (closing) return Promise.reject(new ServiceClosedError())
    try {
      return call(req, signal)
    } catch (error) {
      return Promise.reject(error)
    }
  }
  Object.defineProperty(fn, 'status', {
    get: (): Status => (closing ? 'closed' : (hooks.status?.() ?? 'open')),
    enumerable: true,
  })
  Object.defineProperty(fn, 'close', {
    value: (): Promise<void> => {
      closing ??= Promise.resolve().then(() => hooks.close?.())
      return closing
    },
  })
  return fn as Service<Req, Rep>
}

export const Service = {
  /**
   * Makes a service of an async function. A synchronous throw becomes a rejected promise; calls after
   * `close()` reject with `ServiceClosedError`.
   */
  of<Req, Rep>(
    call: (req: Req, signal?: AbortSignal) => Promise<Rep>,
    hooks: ServiceHooks = {},
  ): Service<Req, Rep> {
    return make(call, hooks)
  },
  /**
   * A service that always answers with `rep`.
   *
   * @example
   * ```ts
   * await Service.const(42)('anything') // 42
   * ```
   */
  const<Rep>(rep: Rep): Service<unknown, Rep> {
    return make(() => Promise.resolve(rep), {})
  },
  /**
   * A service that always fails with `error`.
   *
   * @example
   * ```ts
   * await Service.failed(new Error('down'))('x') // rejects with Error('down')
   * ```
   */
  failed(error: unknown): Service<unknown, never> {
    return make(() => Promise.reject(error), {})
  },
} as const

/**
 * A `Filter` wraps a service into a service: it sees the request on the way down and the response
 * (or error) on the way up. A filter built with `Filter.of` passes `status` and `close()` through to
 * the service it wraps.
 *
 * Composition order: `Filter.chain(a, b, c)` puts `a` outermost, so a request meets `a`, then `b`,
 * then `c`, then the service (the first filter added is the outermost, as in tower's builder).
 *
 * @example
 * ```ts
 * const log: Filter<string, string> = Filter.of(async (req, signal, next) => {
 *   console.log('>', req); const rep = await next(req, signal); console.log('<', rep); return rep
 * })
 * const svc = log(Service.of(async (s: string) => s + '!'))
 * await svc('hi') // logs "> hi", "< hi!"
 * ```
 */
export type Filter<ReqIn, RepOut, ReqOut = ReqIn, RepIn = RepOut> = (
  next: Service<ReqOut, RepIn>,
) => Service<ReqIn, RepOut>

export const Filter = {
  /**
   * A filter from a function of (request, signal, next). `status` and `close()` pass through to the
   * wrapped service unless `hooks` say otherwise.
   */
  of<ReqIn, RepOut, ReqOut = ReqIn, RepIn = RepOut>(
    apply: (req: ReqIn, signal: AbortSignal | undefined, next: Service<ReqOut, RepIn>) => Promise<RepOut>,
  ): Filter<ReqIn, RepOut, ReqOut, RepIn> {
    return (next) =>
      Service.of<ReqIn, RepOut>((req, signal) => apply(req, signal, next), {
        status: () => next.status,
        close: () => next.close(),
      })
  },
  /** The filter that changes nothing. */
  identity<Req, Rep>(): Filter<Req, Rep> {
    return (next) => next
  },
  /**
   * Composes filters, the first outermost.
   *
   * @example
   * ```ts
   * const stack = Filter.chain(timeout, retries, stats) // timeout sees the request first
   * const client = stack(endpoint)
   * ```
   */
  chain<Req, Rep>(...filters: Filter<Req, Rep>[]): Filter<Req, Rep> {
    return (service) => filters.reduceRight<Service<Req, Rep>>((svc, f) => f(svc), service)
  },
} as const
