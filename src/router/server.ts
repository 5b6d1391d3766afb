import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { isLeft } from 'fp-ts/lib/Either.js'
import { createClientFromConfig, type RouterSpec, readRouterConfig } from '../config/router.js'
import { type Scheduler, systemScheduler } from '../core/clock.js'
import { type Random, systemRandom } from '../core/random.js'
import type { Client, ClientOptions, RouteInfo } from '../http/client.js'
import type { HttpResponse } from '../http/endpoint.js'
import type { HttpHeaders, HttpRequest, RequestBody } from '../http/request.js'
import { Dtab } from '../naming/dtab.js'
import { type InMemoryStats, inMemoryStats, type StatsReceiver } from '../stats/stats.js'
import { type Tracing, tracedHandler } from '../telemetry/tracing.js'
import { accessLogLine } from './access-log.js'
import { errorResponseOf, RouterRejection, routerError } from './errors.js'
import { appendVia, stripHopByHop, stripL5dHeaders, viaDepth } from './headers.js'

/** linkerd's `Forwarded` labeler kinds (spec router §3.5). */
export type ForwardedLabeler =
  | { readonly kind: 'requestRandom' }
  | { readonly kind: 'connectionRandom' }
  | { readonly kind: 'ip' }
  | { readonly kind: 'ip:port' }
  | { readonly kind: 'router' }
  | { readonly kind: 'static'; readonly label: string }

/** Settings of one server of a router (linkerd's `servers:` entries). */
export interface RouterServerOptions {
  /** Stats scope under `rt/<router>/server/`: linkerd uses `<ip>/<port>`. Default `default`. */
  readonly label?: string | undefined
  /** Strip every inbound `l5d-*` header and every outbound `l5d-*` response header. Default false. */
  readonly clearContext?: boolean | undefined
  /** Requests in flight beyond this are refused at once with 503 (no queue). Default unlimited. */
  readonly maxConcurrentRequests?: number | undefined
  /** Requests whose `Via` lists more hops are refused with 400. Default 1000. */
  readonly maxCallDepth?: number | undefined
  /** Add an RFC 7239 `Forwarded` header (`{}` = random `by` and `for`). Default off. */
  readonly addForwardedHeader?:
    | { readonly by?: ForwardedLabeler | undefined; readonly for?: ForwardedLabeler | undefined }
    | undefined
  /** A header set to the epoch milliseconds on each forwarded request. */
  readonly timestampHeader?: string | undefined
}

/** Options of `createRouter`: the HTTP router keys of linkerd (spec router §2.4) and the plumbing. */
export interface CreateRouterOptions {
  /** The router's label: stats under `rt/<label>/`. Default `http`. */
  readonly label?: string | undefined
  /** Where stats go (default a new `inMemoryStats()`). */
  readonly stats?: InMemoryStats | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  /** Problems that do not stop the router (a namer's bad file). Default `console.error`. */
  readonly log?: ((message: string) => void) | undefined
  /** Fixed-length request bodies up to this size are read whole (and so can be retried). Default 5. */
  readonly streamAfterContentLengthKB?: number | undefined
  /** Requests with a larger `Content-Length` are refused with 413. Default: no limit. */
  readonly maxRequestKB?: number | undefined
  /** Responses with a larger `Content-Length` are answered 502. Default: no limit. */
  readonly maxResponseKB?: number | undefined
  /** Longest request target. Default 4. */
  readonly maxInitialLineKB?: number | undefined
  /** Longest `l5d-err` value (and header block, enforced by the listener). Default 8. */
  readonly maxHeadersKB?: number | undefined
  /** Longest error body. Default 5120. */
  readonly maxErrResponseKB?: number | undefined
  /** Receives one access-log line per routed request (linkerd's `httpAccessLog`). */
  readonly accessLog?: ((line: string) => void) | undefined
  /** Settings of the server the returned handler is (a linker makes one handler per server). */
  readonly server?: RouterServerOptions | undefined
  /** Settings that override the config's client options (e.g. `endpoint` in tests). */
  readonly overrides?: Partial<ClientOptions> | undefined
  /**
   * Traces every request (`openTelemetryTracing()`, or a linker's tracing telemeters): a `server` span
   * per request that continues its `traceparent` / `l5d-ctx-trace`, parenting the routing client's
   * spans (the logical request, binding, each attempt), whose trace headers go to the next hop.
   */
  readonly tracing?: Tracing | undefined
}

/**
 * A router made by `createRouter`: a Node `http` request handler (for the default server), more
 * handlers for other servers, the routing client, the stats and `close()`.
 */
export interface Router extends RequestListener {
  readonly label: string
  readonly client: Client
  readonly stats: InMemoryStats
  /** A handler for another server of this router (its own stats, `clearContext`, limits). */
  serverHandler(options: RouterServerOptions): RequestListener
  /** Requests being handled, over every server. */
  readonly pending: number
  /** Closes the routing client (its pools and bindings); requests in flight finish first. */
  close(): Promise<void>
}

/** An `InMemoryStats` whose `rt` scope is `rt/<label>`, so that several routers share one receiver. */
function labelled(root: InMemoryStats, label: string): InMemoryStats {
  return {
    ...root,
    scope: (...names: string[]): StatsReceiver =>
      names[0] === 'rt' ? root.scope('rt', label, ...names.slice(1)) : root.scope(...names),
  }
}

const RANDOM_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
function randomLabel(random: Random): string {
  let s = '_'
  for (let i = 0; i < 6; i++) s += RANDOM_CHARS[random.int(RANDOM_CHARS.length)]
  return s
}
const connectionLabels = new WeakMap<object, { by: string; for: string }>()

function ipLabel(ip: string | undefined, port: number | undefined, withPort: boolean): string {
  if (ip === undefined || ip === '' || ip === '0.0.0.0' || ip === '::') return 'unknown'
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip
  const isV6 = v4.includes(':')
  if (!withPort) return isV6 ? `"[${v4}]"` : v4
  return isV6 ? `"[${v4}]:${port}"` : `"${v4}:${port}"`
}

/** Node's raw header list, lower-cased into `HttpHeaders` (repeats kept as arrays, none joined). */
function headersOf(raw: readonly string[]): HttpHeaders {
  const out: HttpHeaders = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase()
    const v = raw[i + 1]!
    const prev = out[k]
    if (prev === undefined) out[k] = v
    else if (typeof prev === 'string') out[k] = [prev, v]
    else prev.push(v)
  }
  return out
}

const first = (v: string | string[] | undefined) => (v === undefined || typeof v === 'string' ? v : v[0])

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
    req.on('aborted', () => reject(new Error('request aborted')))
  })
}

/**
 * A routing proxy as a Node `http` request handler (linkerd's HTTP router behind one server): each
 * request is identified, bound through the dtab, balanced and sent by the same client stack as
 * `createClient`, and the response streams back. The server floor adds what a proxy needs: server
 * stats (`rt/<label>/server/<server>/…`), `maxConcurrentRequests`, `clearContext`, the `Via` loop
 * check, hop-by-hop stripping, absolute-form requests (`http_proxy`), `Forwarded`, linkerd's
 * `l5d-*` headers, and its error responses (400/502/503 with `l5d-err`).
 *
 * `config` is a router config (YAML text of one router object, or a decoded `RouterSpec`).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { createRouter } from 'switchboard/router'
 *
 * const router = createRouter('dtab: /svc/web => /$/inet/127.1/8080')
 * // requireHostHeader: false lets the router answer a Host-less request itself (400, as linkerd).
 * createServer({ requireHostHeader: false }, router).listen(4140) // curl -H 'Host: web' localhost:4140
 * ```
 */
export function createRouter(config: string | RouterSpec, options: CreateRouterOptions = {}): Router {
  const label = options.label ?? 'http'
  const root = options.stats ?? inMemoryStats()
  const stats = labelled(root, label)
  const scheduler = options.scheduler ?? systemScheduler
  const random = options.random ?? systemRandom
  let spec: RouterSpec
  if (typeof config === 'string') {
    const r = readRouterConfig(config)
    if (isLeft(r)) throw r.left
    spec = r.right
  } else spec = config
  const client = createClientFromConfig(spec, {
    stats,
    scheduler,
    random,
    log: options.log,
    overrides: {
      ...options.overrides,
      ...(options.tracing ? { tracing: options.tracing } : {}),
      errorResponses: false,
    },
  })
  const tracing = options.tracing
  const baseDtab = (() => {
    const d = spec.options.dtab
    return d instanceof Dtab ? d : typeof d === 'string' ? Dtab.read(d) : Dtab.empty
  })()
  const streamAfter = (options.streamAfterContentLengthKB ?? 5) * 1024
  const maxRequestBytes =
    options.maxRequestKB === undefined ? Number.POSITIVE_INFINITY : options.maxRequestKB * 1024
  const maxResponseBytes =
    options.maxResponseKB === undefined ? Number.POSITIVE_INFINITY : options.maxResponseKB * 1024
  const maxLine = (options.maxInitialLineKB ?? 4) * 1024
  const maxHeaderBytes = (options.maxHeadersKB ?? 8) * 1024
  const maxErrBytes = (options.maxErrResponseKB ?? 5120) * 1024
  const accessLog = options.accessLog
  const routerStats = root.scope('rt', label)
  let pending = 0

  const serverHandler = (server: RouterServerOptions): RequestListener => {
    const h = untracedHandler(server)
    if (!tracing) return h
    const traced = tracedHandler(tracing, h)
    // clearContext: a caller's linkerd trace context is not continued (its `traceparent` is).
    return server.clearContext
      ? (req, res) => {
          delete req.headers['l5d-ctx-trace']
          traced(req, res)
        }
      : traced
  }
  const untracedHandler = (server: RouterServerOptions): RequestListener => {
    const s = routerStats.scope('server', server.label ?? 'default')
    const requests = s.counter('requests')
    const success = s.counter('success')
    const failures = s.counter('failures')
    const latency = s.stat('request_latency_ms')
    const statusCounters = new Map<number, { code: { incr(): void }; klass: { incr(): void } }>()
    let inflight = 0
    s.gauge('pending', () => inflight)
    const countStatus = (code: number) => {
      let c = statusCounters.get(code)
      if (!c) {
        c = { code: s.counter(`status/${code}`), klass: s.counter(`status/${Math.floor(code / 100)}XX`) }
        statusCounters.set(code, c)
      }
      c.code.incr()
      c.klass.incr()
    }
    const clear = server.clearContext ?? false
    const maxConcurrent = server.maxConcurrentRequests ?? Number.POSITIVE_INFINITY
    const maxDepth = server.maxCallDepth ?? 1000
    const fwd = server.addForwardedHeader
    const timestampHeader = server.timestampHeader?.toLowerCase()

    const forwardedOf = (req: IncomingMessage, headers: HttpHeaders, absoluteProto: string | undefined) => {
      const sock = req.socket
      const labelOf = (l: ForwardedLabeler | undefined, side: 'by' | 'for'): string => {
        const ip = side === 'by' ? sock.localAddress : sock.remoteAddress
        const port = side === 'by' ? sock.localPort : sock.remotePort
        switch (l?.kind ?? 'requestRandom') {
          case 'requestRandom':
            return randomLabel(random)
          case 'connectionRandom': {
            let c = connectionLabels.get(sock)
            if (!c) {
              c = { by: randomLabel(random), for: randomLabel(random) }
              connectionLabels.set(sock, c)
            }
            return c[side]
          }
          case 'ip':
            return ipLabel(ip, port, false)
          case 'ip:port':
            return ipLabel(ip, port, true)
          case 'router':
            return `_${label}`
          case 'static': {
            const t = (l as { label: string }).label
            return t.startsWith('_') ? t : `_${t}`
          }
        }
      }
      let v = `by=${labelOf(fwd?.by, 'by')};for=${labelOf(fwd?.for, 'for')}`
      const host = first(headers['host'])
      if (host !== undefined && host !== '') v += `;host=${host}`
      if (absoluteProto !== undefined) v += `;proto=${absoluteProto}`
      const prev = headers['forwarded']
      headers['forwarded'] = prev === undefined ? v : [...(typeof prev === 'string' ? [prev] : prev), v]
    }

    return (req: IncomingMessage, res: ServerResponse) => {
      const started = scheduler.now()
      requests.incr()
      inflight++
      pending++
      let done = false
      const finish = (status: number, ok: boolean) => {
        if (done) return
        done = true
        inflight--
        pending--
        countStatus(status)
        ;(ok ? success : failures).incr()
        latency.add(scheduler.now() - started)
      }
      const method = req.method ?? 'GET'
      const uri = req.url ?? '/'
      const remote = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`
      const info: RouteInfo = {}
      const ac = new AbortController()
      res.on('close', () => {
        if (!res.writableFinished) {
          ac.abort(new Error('the caller closed the connection'))
          finish(499, false)
        }
      })

      const fail = (error: unknown) => {
        if (res.headersSent) {
          res.destroy()
          finish(res.statusCode, false)
          return
        }
        const e = routerError(error, { method, uri, remote, baseDtab, info })
        const { headers, body } = errorResponseOf(e, maxErrBytes, maxHeaderBytes)
        if (clear) {
          stripL5dHeaders(headers)
          headers['content-length'] = '0'
          res.writeHead(e.status, headers)
          res.end()
        } else {
          res.writeHead(e.status, headers)
          res.end(body)
        }
        // Drop an unread request body: the connection cannot be reused in the middle of one.
        if (!req.complete) req.resume()
        finish(e.status, false)
      }

      if (inflight > maxConcurrent) {
        fail(
          new RouterRejection(
            503,
            `Too many concurrent requests: maxConcurrentRequests is ${maxConcurrent}`,
            true,
          ),
        )
        return
      }
      const headers = headersOf(req.rawHeaders)
      if (clear) stripL5dHeaders(headers)
      if (uri.length > maxLine) {
        fail(new RouterRejection(414, `An HTTP line is larger than ${maxLine} bytes.`))
        return
      }
      const depth = viaDepth(headers['via'])
      if (depth > maxDepth) {
        fail(
          new RouterRejection(
            400,
            `Maximum number of calls (${maxDepth}) has been exceeded. Please check for proxy loops.`,
          ),
        )
        return
      }
      // Absolute-form (an app using http_proxy): Host becomes the authority, the target origin-form.
      let path = uri
      let absoluteProto: string | undefined
      const scheme = uri.indexOf('://')
      if (scheme > 0 && uri.charCodeAt(0) !== 47) {
        try {
          const u = new URL(uri)
          const rest = uri.indexOf('/', scheme + 3)
          const q = uri.indexOf('?', scheme + 3)
          path = rest >= 0 && (q < 0 || rest < q) ? uri.slice(rest) : q >= 0 ? `/${uri.slice(q)}` : '/'
          headers['host'] = u.host
          absoluteProto = u.protocol.slice(0, -1)
        } catch {
          path = uri
        }
      }
      const version = req.httpVersion
      if (headers['host'] === undefined && version === '1.1') headers['host'] = ''
      // Node already answered `100 Continue`; the next hop must not wait for one.
      const expect = first(headers['expect'])
      if (expect !== undefined && expect.toLowerCase() === '100-continue') delete headers['expect']
      const cl = first(headers['content-length'])
      const chunked = headers['transfer-encoding'] !== undefined
      stripHopByHop(headers)
      appendVia(headers, version)
      if (fwd !== undefined) forwardedOf(req, headers, absoluteProto)
      if (timestampHeader !== undefined) headers[timestampHeader] = String(Date.now())
      const length = cl === undefined ? undefined : Number(cl)
      if (length !== undefined && length > maxRequestBytes) {
        fail(
          new RouterRejection(
            413,
            `Request body of ${length} bytes exceeds maxRequestKB (${maxRequestBytes / 1024})`,
          ),
        )
        return
      }

      const respond = (rep: HttpResponse, request: HttpRequest) => {
        const h = rep.headers
        stripHopByHop(h)
        appendVia(h, '1.1')
        const classifier = info.classifier
        let ok = rep.statusCode < 500
        if (classifier) {
          const c = classifier({ request, ok: true, response: rep })
          ok = c.kind !== 'failed'
          h['l5d-success-class'] =
            c.kind === 'success' ? (c.fraction === 1 ? '1.0' : String(c.fraction)) : ok ? '1.0' : '0.0'
        }
        const repLength = first(h['content-length'])
        if (repLength !== undefined && Number(repLength) > maxResponseBytes) {
          rep.body.discard()
          fail(
            new Error(
              `Response body of ${repLength} bytes exceeds maxResponseKB (${maxResponseBytes / 1024})`,
            ),
          )
          return
        }
        let emptyBody = method === 'HEAD' || rep.statusCode === 204 || rep.statusCode === 304
        if (clear) {
          if (h['l5d-err'] !== undefined) {
            emptyBody = true
            h['content-length'] = '0'
          }
          stripL5dHeaders(h)
        }
        if (accessLog)
          accessLog(
            accessLogLine({
              host: first(headers['host']),
              remoteIp: req.socket.remoteAddress ?? '-',
              method,
              uri: path,
              version,
              status: rep.statusCode,
              requestHeaders: headers,
              responseHeaders: h,
              time: new Date(),
            }),
          )
        try {
          if (rep.statusMessage !== '') res.writeHead(rep.statusCode, rep.statusMessage, h)
          else res.writeHead(rep.statusCode, h)
        } catch (error) {
          rep.body.discard()
          fail(error)
          return
        }
        if (emptyBody) {
          rep.body.discard()
          res.end()
          finish(rep.statusCode, ok)
          return
        }
        const body = rep.body
        res.on('drain', () => body.resume())
        body.attach({
          onData: (chunk) => {
            if (!res.write(chunk)) body.pause()
          },
          onEnd: () => {
            res.end()
            finish(rep.statusCode, ok)
          },
          onError: () => {
            res.destroy()
            finish(rep.statusCode, false)
          },
        })
      }

      const send = (body: RequestBody) => {
        const request: HttpRequest = { method, path, version, headers, body }
        client.route(request, ac.signal, info).then(
          (rep) => {
            if (ac.signal.aborted) rep.body.discard()
            else respond(rep, request)
          },
          (error: unknown) => {
            if (!ac.signal.aborted) fail(error)
          },
        )
      }
      if (length === undefined && !chunked) send(null)
      else if (length !== undefined && length <= streamAfter && !chunked)
        readBody(req).then(
          (b) => send(b),
          () => finish(499, false),
        )
      else send(req)
    }
  }

  const handler = serverHandler(options.server ?? {}) as Router
  Object.defineProperties(handler, {
    label: { value: label, enumerable: true },
    client: { value: client, enumerable: true },
    stats: { value: root, enumerable: true },
    pending: { get: () => pending, enumerable: true },
  })
  let closing: Promise<void> | undefined
  ;(handler as { serverHandler: Router['serverHandler'] }).serverHandler = serverHandler
  ;(handler as { close: Router['close'] }).close = () => (closing ??= client.close())
  return handler
}
