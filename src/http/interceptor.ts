import { AsyncLocalStorage } from 'node:async_hooks'
import type { Dispatcher } from 'undici'
import { SwitchboardError } from '../core/errors.js'
import type { HttpResponse } from './endpoint.js'
import { type HttpHeaders, type HttpRequest, normalizeHeaders, type RequestBody } from './request.js'

/**
 * The request cannot go through a switchboard client: an `https:` origin (endpoints are reached over
 * plain HTTP), a `CONNECT` or an upgrade.
 *
 * @example
 * ```ts
 * await client.fetch('https://users/') // rejects with UnsupportedRequestError
 * ```
 */
export class UnsupportedRequestError extends SwitchboardError {
  constructor(message: string) {
    super('UnsupportedRequest', message)
  }
}

/**
 * Bodies that `client.fetch` can send again: undici's fetch hands dispatchers a one-shot stream even
 * for a string body, so `client.fetch` keeps the original here for the dispatch it makes.
 */
export const replayableBodies = new AsyncLocalStorage<RequestBody>()

function authorityOf(origin: unknown): { authority: string; https: boolean } {
  const text = typeof origin === 'string' ? origin : origin instanceof URL ? origin.origin : String(origin)
  const sep = text.indexOf('://')
  const scheme = sep < 0 ? 'http' : text.slice(0, sep)
  const rest = sep < 0 ? text : text.slice(sep + 3)
  const slash = rest.indexOf('/')
  return { authority: slash < 0 ? rest : rest.slice(0, slash), https: scheme === 'https' }
}

/** `path` with `query` (undici's `query` option) appended. */
export function withQuery(path: string, query: unknown): string {
  if (query === undefined || query === null) return path
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
    if (v === undefined || v === null) continue
    if (Array.isArray(v)) for (const x of v) params.append(k, String(x))
    else params.append(k, String(v))
  }
  const q = params.toString()
  if (q === '') return path
  return `${path}${path.includes('?') ? '&' : '?'}${q}`
}

/** Turns undici's dispatch options into the stack's `HttpRequest`. Throws `UnsupportedRequestError`. */
export function toHttpRequest(opts: Dispatcher.DispatchOptions): HttpRequest {
  const { authority, https } = authorityOf(opts.origin)
  if (https)
    throw new UnsupportedRequestError(
      `https is not supported: a switchboard client reaches endpoints over plain HTTP (${authority})`,
    )
  if (opts.method === 'CONNECT' || opts.upgrade)
    throw new UnsupportedRequestError(`${opts.method} and protocol upgrades are not supported`)
  const headers: HttpHeaders = normalizeHeaders(opts.headers)
  if (headers['host'] === undefined && authority !== '') headers['host'] = authority
  let body = (opts.body ?? null) as RequestBody
  if (body !== null) {
    const replay = replayableBodies.getStore()
    if (replay !== undefined) body = replay
  }
  return {
    method: opts.method,
    path: withQuery(opts.path, (opts as { query?: unknown }).query),
    version: '1.1',
    headers,
    body,
    headersTimeout: opts.headersTimeout ?? undefined,
    bodyTimeout: opts.bodyTimeout ?? undefined,
  }
}

/**
 * The undici interceptor that hands every request to `route` (the switchboard stack) instead of the
 * agent's own connection pools, and streams the response back to undici's handler. Works with
 * `undici.request`, `undici.fetch`, Node's global `fetch` and `stream`/`pipeline` alike. Aborting
 * from the caller's side (a fetch `AbortSignal`, destroying a response body) aborts the request in
 * the stack and on the wire.
 *
 * @example
 * ```ts
 * const dispatcher = new Agent().compose(routingInterceptor((req, signal) => stack(req, signal)))
 * ```
 */
export function routingInterceptor(
  route: (req: HttpRequest, signal: AbortSignal) => Promise<HttpResponse>,
): Dispatcher.DispatcherComposeInterceptor {
  return (_dispatch) => (opts, handler) => {
    start(route, opts, handler)
    return true
  }
}

function start(
  route: (req: HttpRequest, signal: AbortSignal) => Promise<HttpResponse>,
  opts: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
): void {
  const ac = new AbortController()
  let response: HttpResponse | undefined
  let aborted = false
  let paused = false
  let reason: Error | null = null
  let over = false
  const controller: Dispatcher.DispatchController = {
    get aborted() {
      return aborted
    },
    get paused() {
      return paused
    },
    get reason() {
      return reason
    },
    abort(why: Error) {
      if (aborted) return
      aborted = true
      reason = why
      ac.abort(why)
      response?.body.abort(why)
    },
    pause() {
      paused = true
      response?.body.pause()
    },
    resume() {
      paused = false
      response?.body.resume()
    },
  }
  const fail = (error: unknown) => {
    if (over) return
    over = true
    handler.onResponseError?.(controller, error instanceof Error ? error : new Error(String(error)))
  }
  try {
    handler.onRequestStart?.(controller, {})
  } catch (error) {
    fail(error)
    return
  }
  if (aborted) {
    fail(reason)
    return
  }
  let req: HttpRequest
  try {
    req = toHttpRequest(opts)
  } catch (error) {
    fail(error)
    return
  }
  route(req, ac.signal).then(
    (rep) => {
      if (aborted || over) {
        rep.body.abort(reason ?? new Error('request abandoned'))
        fail(reason)
        return
      }
      response = rep
      try {
        handler.onResponseStart?.(controller, rep.statusCode, rep.headers, rep.statusMessage)
      } catch (error) {
        rep.body.abort(error instanceof Error ? error : new Error(String(error)))
        fail(error)
        return
      }
      if (paused) rep.body.pause()
      rep.body.attach({
        onData: (chunk) => {
          if (!over) handler.onResponseData?.(controller, chunk)
        },
        onEnd: (trailers) => {
          if (over) return
          over = true
          handler.onResponseEnd?.(controller, trailers)
        },
        onError: fail,
      })
    },
    (error: unknown) => fail(aborted && reason ? reason : error),
  )
}
