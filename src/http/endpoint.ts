import { readFileSync } from 'node:fs'
import { checkServerIdentity, type PeerCertificate } from 'node:tls'
import { type Dispatcher, Pool } from 'undici'
import { InvalidOptionError } from '../core/errors.js'
import { Service } from '../core/service.js'
import type { Disposer } from '../core/var.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { type BodySource, ResponseBody } from './body.js'
import { classifyTransportError, TooManyWaitersError } from './errors.js'
import type { ClientTlsParams } from './params.js'
import type { HttpHeaders, HttpRequest } from './request.js'

/**
 * A response as it comes off the wire: status, headers (lower-case names) and a body that is still
 * streaming. Whoever ends up with it must consume or `discard()` the body, or the connection stays
 * busy.
 *
 * @example
 * ```ts
 * const rep = await endpoint(req)
 * rep.statusCode         // 200
 * await rep.body.text()  // the body
 * ```
 */
export interface HttpResponse {
  readonly statusCode: number
  readonly statusMessage: string
  readonly headers: HttpHeaders
  readonly body: ResponseBody
}

/** Connection pool settings of one endpoint (linkerd's `hostConnectionPool` and `clientSession`). */
export interface ConnectionPoolOptions {
  /** Most connections to the endpoint; `undefined` for no limit (linkerd's `maxSize`). */
  readonly maxSize?: number | undefined
  /** Requests allowed to wait for a connection before new ones are rejected (`maxWaiters`). */
  readonly maxWaiters?: number | undefined
  /** How long an idle connection is kept (`idleTimeMs`). Default 4000 (undici's). */
  readonly idleTimeMs?: number | undefined
  /** Requests pipelined on one connection. Default 1. */
  readonly pipelining?: number | undefined
  /** Connect timeout. Default 10000 (undici's). */
  readonly connectTimeoutMs?: number | undefined
}

/** Options of `httpEndpoint`. */
export interface HttpEndpointOptions extends ConnectionPoolOptions {
  /** Receives the gauges `connections` and `pending` (summed over endpoints sharing a scope). */
  readonly stats?: StatsReceiver | undefined
  /** Speak TLS to the endpoint (linkerd's client `tls`). */
  readonly tls?: ClientTlsParams | undefined
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new InvalidOptionError(
      'httpEndpoint',
      `tls.${what}`,
      'a readable PEM file',
      `${path} (${(error as Error).message})`,
    )
  }
}

/** undici `connect` options for linkerd's client TLS settings. */
function tlsConnect(tls: ClientTlsParams): Record<string, unknown> {
  const ca: Buffer[] = []
  for (const p of tls.trustCerts ?? []) ca.push(readPem('trustCerts', p))
  if (tls.trustCertsBundle !== undefined) ca.push(readPem('trustCertsBundle', tls.trustCertsBundle))
  const name = tls.commonName
  return {
    ...(ca.length > 0 ? { ca } : {}),
    ...(name !== undefined ? { servername: name } : {}),
    rejectUnauthorized: !tls.disableValidation,
    ...(tls.disableValidation || name === undefined
      ? {}
      : { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert) }),
    ...(tls.clientAuth
      ? {
          cert: readPem('clientAuth.certPath', tls.clientAuth.certPath),
          key: readPem('clientAuth.keyPath', tls.clientAuth.keyPath),
        }
      : {}),
  }
}

/** One endpoint's service, with its pool's live numbers. */
export interface HttpEndpoint extends Service<HttpRequest, HttpResponse> {
  /** `host:port`. */
  readonly address: string
  /** Requests sent and not yet over (response body included). */
  readonly pending: number
  /** Open connections. */
  readonly connections: number
}

function checkPositiveInt(option: string, v: number | undefined): void {
  if (v === undefined) return
  if (!Number.isInteger(v) || v < 1)
    throw new InvalidOptionError('httpEndpoint', option, 'an integer >= 1', v)
}

function checkNonNegative(option: string, v: number | undefined): void {
  if (v === undefined) return
  if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v)))
    throw new InvalidOptionError('httpEndpoint', option, 'a number >= 0', v)
}

/**
 * A `Service` that sends requests to one endpoint address over an undici `Pool` (one pool per
 * endpoint). It resolves when the response head arrives, with the body still streaming.
 *
 * - Aborting the signal aborts the request on the wire (the socket is closed) and rejects with the
 *   signal's reason, even while the request still waits for a connection.
 * - Connect failures reject with `ConnectionFailedError` (requeue-safe), resets and premature closes
 *   with `ChannelClosedError`; other errors (undici's timeouts, parser errors) as they are.
 * - `close()` lets requests in flight finish, then closes every connection.
 *
 * @example
 * ```ts
 * const endpoint = httpEndpoint({ host: '127.0.0.1', port: 8080 })
 * const rep = await endpoint({ method: 'GET', path: '/', version: '1.1', headers: { host: 'users' }, body: null })
 * console.log(rep.statusCode, await rep.body.text())
 * await endpoint.close()
 * ```
 */
export function httpEndpoint(
  address: { readonly host: string; readonly port: number },
  options: HttpEndpointOptions = {},
): HttpEndpoint {
  checkPositiveInt('maxSize', options.maxSize)
  checkPositiveInt('pipelining', options.pipelining)
  checkNonNegative('maxWaiters', options.maxWaiters)
  checkNonNegative('idleTimeMs', options.idleTimeMs)
  checkNonNegative('connectTimeoutMs', options.connectTimeoutMs)
  const host = address.host.includes(':') ? `[${address.host}]` : address.host
  const shown = `${host}:${address.port}`
  const secure = options.tls !== undefined && options.tls.enabled !== false
  const pool = new Pool(`${secure ? 'https' : 'http'}://${shown}`, {
    ...(secure ? { connect: tlsConnect(options.tls!) } : {}),
    connections: options.maxSize ?? null,
    pipelining: options.pipelining ?? 1,
    ...(options.idleTimeMs === undefined
      ? {}
      : { keepAliveTimeout: options.idleTimeMs, keepAliveMaxTimeout: options.idleTimeMs }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeout: options.connectTimeoutMs }),
  })
  const counts: Counts = { pending: 0, waiting: 0 }
  const maxWaiters = options.maxWaiters ?? Number.POSITIVE_INFINITY
  const stats = options.stats ?? nullStats
  const gauges: Disposer[] = [
    stats.gauge('connections', () => pool.stats.connected),
    stats.gauge('pending', () => counts.pending),
  ]

  const call = (req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> => {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (counts.waiting >= maxWaiters) return Promise.reject(new TooManyWaitersError(shown, maxWaiters))
    return new Promise<HttpResponse>((resolve, reject) => {
      const exchange = new Exchange(shown, counts, signal, resolve, reject)
      pool.dispatch(
        {
          path: req.path,
          method: req.method,
          headers: req.headers,
          body: req.body as string | null,
          ...(req.headersTimeout === undefined ? {} : { headersTimeout: req.headersTimeout }),
          ...(req.bodyTimeout === undefined ? {} : { bodyTimeout: req.bodyTimeout }),
        },
        exchange,
      )
    })
  }

  const service = Service.of<HttpRequest, HttpResponse>(call, {
    close: async () => {
      for (const d of gauges) d()
      await pool.close()
    },
  })
  Object.defineProperties(service, {
    address: { value: shown, enumerable: true },
    pending: { get: () => counts.pending, enumerable: true },
    connections: { get: () => pool.stats.connected, enumerable: true },
  })
  return service as HttpEndpoint
}

/** Requests of one endpoint: sent and not over, and waiting for a connection. */
interface Counts {
  pending: number
  waiting: number
}

/**
 * One request to one endpoint, as undici's handler: a class rather than closures, because one is made
 * per request. Resolves with the response head, then feeds the body; aborting the caller's signal
 * aborts the request on the wire.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private readonly address: string
  private readonly counts: Counts
  private readonly signal: AbortSignal | undefined
  private readonly resolve: (rep: HttpResponse) => void
  private readonly reject: (error: unknown) => void
  private controller: Dispatcher.DispatchController | undefined = undefined
  private body: ResponseBody | undefined = undefined
  private settled = false
  private started = false
  private over = false
  private readonly onAbort: (() => void) | undefined
  private readonly done = () => this.finish()

  constructor(
    address: string,
    counts: Counts,
    signal: AbortSignal | undefined,
    resolve: (rep: HttpResponse) => void,
    reject: (error: unknown) => void,
  ) {
    this.address = address
    this.counts = counts
    this.signal = signal
    this.resolve = resolve
    this.reject = reject
    counts.pending++
    counts.waiting++
    if (signal) {
      this.onAbort = () => this.aborted()
      signal.addEventListener('abort', this.onAbort, { once: true })
    } else this.onAbort = undefined
  }

  private aborted(): void {
    const reason = this.signal!.reason
    this.controller?.abort(reason)
    if (!this.settled) {
      this.settled = true
      this.reject(reason)
    }
    this.body?.fail(reason)
  }

  private finish(): void {
    if (this.over) return
    this.over = true
    this.counts.pending--
    if (!this.started) this.counts.waiting--
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort)
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c
    if (!this.started) {
      this.started = true
      this.counts.waiting--
    }
    if (this.signal?.aborted) c.abort(this.signal.reason)
  }

  onResponseStart(
    c: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (this.settled) {
      c.abort(new Error('response abandoned'))
      return
    }
    this.settled = true
    const body = new ResponseBody(c as BodySource, this.done)
    this.body = body
    this.resolve({ statusCode, statusMessage: statusMessage ?? '', headers: headers as HttpHeaders, body })
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.body?.push(chunk)
  }

  onResponseEnd(
    _c: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.body) this.body.end(trailers as HttpHeaders)
    else this.finish()
  }

  onResponseError(_c: Dispatcher.DispatchController | null, error: Error): void {
    if (!this.settled) {
      this.settled = true
      this.finish()
      this.reject(this.signal?.aborted ? this.signal.reason : classifyTransportError(this.address, error))
    } else if (this.body) this.body.fail(classifyTransportError(this.address, error) as Error)
    else this.finish()
  }
}
