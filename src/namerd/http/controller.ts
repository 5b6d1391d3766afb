import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { isLeft } from 'fp-ts/lib/Either.js'
import { type Clock, systemScheduler } from '../../core/clock.js'
import type { Dtab } from '../../naming/dtab.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { DtabStoreUnavailable } from '../store/health.js'
import { InvalidDtabNamespace } from '../store/namespace.js'
import {
  DtabNamespaceDoesNotExist,
  DtabNamespaceExists,
  type DtabStore,
  DtabStoreForbidden,
  DtabVersionMismatch,
  type VersionedDtab,
} from '../store/store.js'
import { Version } from '../store/version.js'
import { DEFAULT_MAX_BODY_BYTES, RequestBodyTooLarge, readBody } from './body.js'
import { type DtabMediaType, dtabContentType, negotiateDtabType, readDtabBody, renderDtab } from './codec.js'
import { messageOf, respond } from './respond.js'
import { DtabParamTooLong, namespaceFromPath } from './url.js'
import { streamActivity, type WatchRegistry, watchRegistry } from './watch.js'

/** A parsed API request, handed to the name endpoints. */
export interface ApiRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The raw (undecoded) request path. */
  readonly path: string
  readonly params: URLSearchParams
  /** `watch=true|1|t` (any case). */
  readonly watch: boolean
  readonly watches: WatchRegistry
  /** The interface's limit on a `dtab` query parameter, in bytes (the name endpoints' default when absent). */
  readonly maxDtabParamBytes?: number | undefined
}

/**
 * The name endpoints of the API (`bind`, `addr`, `resolve`, `delegate`, `bound-names`), kept apart
 * from the dtab endpoints because they need the naming layer and the configured namers.
 */
export interface NameEndpoints {
  /** Handles a request whose path starts with `/api/1/bind`, `/api/1/addr`, `/api/1/resolve`, `/api/1/delegate`. */
  handle(route: 'bind' | 'addr' | 'resolve' | 'delegate', request: ApiRequest): Promise<void>
  /** `GET /api/1/bound-names`. */
  boundNames(request: ApiRequest): Promise<void>
}

/** Options of `httpController`. */
export interface HttpControllerOptions {
  readonly store: DtabStore
  /** The name endpoints; without them those routes answer 404. */
  readonly names?: NameEndpoints | undefined
  readonly stats?: StatsReceiver | undefined
  readonly clock?: Clock | undefined
  /** Larger request bodies are refused with 413 (default 1 MiB). */
  readonly maxBodyBytes?: number | undefined
  /**
   * When set, requests that change a dtab (`PUT`, `POST`, `DELETE` on `/api/1/dtabs/<ns>`) must
   * carry `Authorization: Bearer <token>`, else 401. Reads stay open. (Beyond namerd.)
   */
  readonly authToken?: string | undefined
  /**
   * Told about every dtab write, after it succeeded or was refused: the namespace, the action, the
   * new version (etag), the caller's address. Never the token. (Beyond namerd: an audit log.)
   */
  readonly audit?: ((event: DtabAuditEvent) => void) | undefined
  /** The longest `dtab` query parameter in bytes, passed to the name endpoints (414 beyond; default 8 KiB). */
  readonly maxDtabParamBytes?: number | undefined
}

/** One dtab write, for an audit log. */
export interface DtabAuditEvent {
  readonly action: 'create' | 'update' | 'delete'
  readonly namespace: string
  /** The version after the write (its etag), when it succeeded and the dtab exists. */
  readonly version: string | undefined
  readonly remoteAddress: string | undefined
  /** `ok`, or why it was refused: `unauthorized`, or the store error's code. */
  readonly outcome: string
}

/** namerd's HTTP API as a request handler, with its open watch streams. */
export interface HttpController {
  readonly handler: RequestListener
  /** The open `watch` streams. */
  readonly watches: WatchRegistry
  /** Ends every open watch stream. */
  close(): void
}

/** `watch` is true when its value, lower-cased, is `1`, `t` or `true` (Finagle's boolean param). */
export function isWatch(params: URLSearchParams): boolean {
  const v = params.get('watch')
  if (v === null) return false
  const l = v.toLowerCase()
  return l === '1' || l === 't' || l === 'true'
}

const DTABS = '/api/1/dtabs'
const DTABS_SLASH = '/api/1/dtabs/'
const NAME_ROUTES = ['bind', 'addr', 'resolve', 'delegate'] as const

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false
  const m = /^Bearer[ \t]+(.+)$/i.exec(header.trim())
  if (!m) return false
  const given = Buffer.from(m[1]!.trim())
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

/**
 * namerd's `io.l5d.httpController`: linkerd's namerd HTTP API (`/api/1/...`) over a `DtabStore`,
 * byte for byte where linkerd's routers and namerctl rely on it: bodies and their trailing
 * newlines, content types and `Accept` negotiation, `ETag`/`If-Match` versions, status codes,
 * and `watch` streaming.
 *
 * @example
 * ```ts
 * const api = httpController({ store: inMemoryDtabStore(), names: nameEndpoints({ store, namers }) })
 * const server = await listen(api.handler, '127.0.0.1', 4180)
 * // curl -X PUT -H 'Content-Type: application/dtab' -d '/svc=>/#/io.l5d.fs' localhost:4180/api/1/dtabs/default
 * ```
 */
export function httpController(options: HttpControllerOptions): HttpController {
  const { store } = options
  const stats = options.stats ?? nullStats
  const clock = options.clock ?? systemScheduler
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const watches = watchRegistry()
  const requests = stats.counter('requests')
  const latency = stats.stat('request_latency_ms')
  const unGauge = stats.gauge('watches', () => watches.size)

  const listNamespaces = async ({ res, watch }: ApiRequest) => {
    if (watch) {
      streamActivity(
        res,
        store.list(),
        {
          key: (ns) => JSON.stringify(ns),
          render: (ns) => `${JSON.stringify(ns)}\n`,
          errorLine: (e) => `${messageOf(e)}\n`,
        },
        watches,
        'application/json',
      )
      return
    }
    const names = await store.list().toPromise()
    respond(res, 200, `${JSON.stringify([...names].sort())}\n`, 'application/json')
  }

  // Every watcher of a namespace renders the same dtab value: render it once per media type.
  const renders = new WeakMap<Dtab, Map<DtabMediaType, string>>()
  const rendered = (dtab: Dtab, type: DtabMediaType): string => {
    let byType = renders.get(dtab)
    if (!byType) {
      byType = new Map()
      renders.set(dtab, byType)
    }
    let text = byType.get(type)
    if (text === undefined) {
      text = renderDtab(dtab, type)
      byType.set(type, text)
    }
    return text
  }

  const storeError = (res: ServerResponse, error: unknown) => {
    if (error instanceof DtabNamespaceDoesNotExist) return respond(res, 404)
    if (error instanceof DtabNamespaceExists) return respond(res, 409)
    if (error instanceof DtabVersionMismatch) return respond(res, 412)
    if (error instanceof DtabStoreForbidden) return respond(res, 403)
    if (error instanceof DtabStoreUnavailable) return respond(res, 503, `${error.message}\n`, 'text/plain')
    if (error instanceof InvalidDtabNamespace) return respond(res, 400, `${error.message}\n`, 'text/plain')
    if (error instanceof DtabParamTooLong) return respond(res, 414, `${error.message}\n`, 'text/plain')
    if (error instanceof RequestBodyTooLarge) {
      res.setHeader('connection', 'close')
      return respond(res, 413, `${error.message}\n`, 'text/plain')
    }
    return respond(res, 500, `${messageOf(error)}\n`, 'text/plain')
  }

  const readDtab = async (request: ApiRequest, type: DtabMediaType) => {
    const body = await readBody(request.req, maxBody)
    return readDtabBody(body.toString('utf8'), type)
  }

  const dtabRoute = async (rawNs: string, request: ApiRequest) => {
    const { req, res } = request
    const method = req.method ?? 'GET'
    if (!['HEAD', 'GET', 'PUT', 'POST', 'DELETE'].includes(method)) return respond(res, 404)
    const decoded = namespaceFromPath(rawNs)
    if (isLeft(decoded)) {
      req.resume()
      return storeError(res, decoded.left)
    }
    const ns = decoded.right
    const audit = options.audit
    const action = method === 'POST' ? 'create' : method === 'PUT' ? 'update' : 'delete'
    const remoteAddress = req.socket.remoteAddress
    /** Tells the audit log; only a successful write waits, for the version it made. */
    const audited = (outcome: string): Promise<void> | undefined => {
      if (!audit || method === 'GET' || method === 'HEAD') return undefined
      if (outcome !== 'ok' || action === 'delete') {
        audit({ action, namespace: ns, version: undefined, remoteAddress, outcome })
        return undefined
      }
      return store
        .observe(ns)
        .toPromise()
        .then(
          (current) => (current ? Version.toEtag(current.version) : undefined),
          () => undefined,
        )
        .then((version) => audit({ action, namespace: ns, version, remoteAddress, outcome }))
    }
    if (method !== 'GET' && method !== 'HEAD' && options.authToken !== undefined) {
      if (!tokenMatches(req.headers.authorization, options.authToken)) {
        void audited('unauthorized')
        return respond(res, 401, 'a valid bearer token is required to change dtabs\n', 'text/plain', {
          'www-authenticate': 'Bearer realm="namerd"',
        })
      }
    }
    try {
      switch (method) {
        case 'GET':
        case 'HEAD': {
          const type = negotiateDtabType(req.headers.accept)
          if (request.watch && method === 'GET') {
            streamActivity<VersionedDtab | undefined>(
              res,
              store.observe(ns),
              {
                key: (v) => (v === undefined ? undefined : rendered(v.dtab, type)),
                render: (v) => `${rendered(v!.dtab, type)}\n`,
                errorLine: (e) => `${messageOf(e)}\n`,
              },
              watches,
              type,
            )
            return
          }
          const current = await store.observe(ns).toPromise()
          if (current === undefined) return respond(res, 404)
          const etag = Version.toEtag(current.version)
          if (method === 'HEAD') {
            res.writeHead(200, { etag })
            res.end()
            return
          }
          return respond(res, 200, `${renderDtab(current.dtab, type)}\n`, type, { etag })
        }
        case 'POST': {
          const type = dtabContentType(req.headers['content-type'])
          if (type === undefined) {
            req.resume()
            return respond(res, 400)
          }
          const dtab = await readDtab(request, type)
          if (isLeft(dtab))
            return respond(res, 400, dtab.left.message, dtab.left.message ? 'text/plain' : undefined)
          await store.create(ns, dtab.right)
          await audited('ok')
          return respond(res, 204)
        }
        case 'PUT': {
          const raw = req.headers['content-type']
          const type = dtabContentType(raw)
          if (type === undefined) {
            req.resume()
            return respond(res, 400, `Invalid Content-Type "${raw ?? ''}". `, 'text/plain')
          }
          const dtab = await readDtab(request, type)
          if (isLeft(dtab))
            return respond(res, 400, dtab.left.message, dtab.left.message ? 'text/plain' : undefined)
          const ifMatch = req.headers['if-match']
          if (ifMatch !== undefined) await store.update(ns, dtab.right, Version.fromEtag(ifMatch))
          else await store.put(ns, dtab.right)
          await audited('ok')
          return respond(res, 204)
        }
        case 'DELETE':
          await store.delete(ns)
          await audited('ok')
          return respond(res, 204)
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code
      void audited(typeof code === 'string' ? code : 'error')
      return storeError(res, error)
    }
  }

  const route = async (request: ApiRequest): Promise<void> => {
    const { path, req, res } = request
    if (path === DTABS || path === DTABS_SLASH) return listNamespaces(request)
    if (path.startsWith(DTABS_SLASH)) return dtabRoute(path.slice(DTABS_SLASH.length), request)
    for (const name of NAME_ROUTES) {
      if (path.startsWith(`/api/1/${name}`)) {
        if (!options.names) return respond(res, 404)
        return options.names.handle(name, request)
      }
    }
    if (path === '/api/1/bound-names' && req.method === 'GET') {
      if (!options.names) return respond(res, 404)
      return options.names.boundNames(request)
    }
    return respond(res, 404)
  }

  const handler: RequestListener = (req, res) => {
    const started = clock.now()
    requests.incr()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
    const request: ApiRequest = {
      req,
      res,
      path,
      params,
      watch: isWatch(params),
      watches,
      maxDtabParamBytes: options.maxDtabParamBytes,
    }
    res.once('finish', () => {
      stats.counter(`status/${res.statusCode}`).incr()
      // A watch lasts as long as the client stays: its duration is not a request latency.
      if (!request.watch) latency.add(clock.now() - started)
    })
    route(request).catch((error: unknown) => {
      if (res.headersSent) res.destroy()
      else respond(res, 500, `${messageOf(error)}\n`, 'text/plain')
    })
  }

  return {
    handler,
    watches,
    close() {
      unGauge()
      watches.closeAll()
    },
  }
}
