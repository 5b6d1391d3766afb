import {
  Agent,
  type Dispatcher,
  type RequestInfo,
  type RequestInit,
  type Response,
  Request as UndiciRequest,
  fetch as undiciFetch,
} from 'undici'
import { Activity } from '../core/activity.js'
import { type Scheduler, systemScheduler } from '../core/clock.js'
import { InvalidOptionError, SwitchboardError } from '../core/errors.js'
import { checkNumber } from '../core/options.js'
import { type Random, systemRandom } from '../core/random.js'
import type { Service } from '../core/service.js'
import { Var } from '../core/var.js'
import { Deadline } from '../limits/deadline.js'
import type { Address } from '../naming/address.js'
import type { DelegateTree } from '../naming/delegate-tree.js'
import { Dtab } from '../naming/dtab.js'
import { configuredDtabInterpreter, type Delegator, type NameInterpreter } from '../naming/interpreter.js'
import type { NameBound } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import { Path } from '../naming/path.js'
import { type MountedNamer, NamerRegistry } from '../naming/registry.js'
import { type InMemoryStats, inMemoryStats } from '../stats/stats.js'
import { readTraceHeaders } from '../telemetry/trace-context.js'
import { currentSpan, RequestTrace, type Tracing } from '../telemetry/tracing.js'
import { type Transformer, transformInterpreter, transformNamer } from '../transformers/transformer.js'
import { ResponseBody } from './body.js'
import type { HttpClassifier } from './classifiers.js'
import { type HttpEndpointOptions, type HttpResponse, httpEndpoint } from './endpoint.js'
import { headerToken, type Identifier, identify } from './identifiers.js'
import { replayableBodies, routingInterceptor, UnsupportedRequestError, withQuery } from './interceptor.js'
import { type ClientParams, type PerName, paramsResolver, type ServiceParams } from './params.js'
import {
  currentContext,
  DEFAULT_MAX_DTAB_HEADER_LENGTH,
  DtabHeaderCache,
  L5dHeaders,
  l5dErrorResponse,
  readDeadlineHeaders,
} from './propagation.js'
import { type HttpHeaders, type HttpRequest, normalizeHeaders, type RequestBody } from './request.js'
import { ResponseStream } from './response-stream.js'
import { DEFAULT_BINDING_CACHE, type RoutedRequest, Router } from './router.js'
import { tracedEndpoint } from './tracing.js'

/** A namer with the prefix it is mounted under, and transformers for its answers (in order). */
export interface NamerMount {
  /** `/#/io.l5d.fs`, or its text. */
  readonly prefix: Path | string
  readonly namer: Namer
  readonly transformers?: readonly Transformer[] | undefined
}

/**
 * Options of `createClient`. Routing comes either from `dtab` + `namers` (+ `transformers`), or from
 * an `interpreter` (such as namerd's), to which `dtab` is then passed as a local dtab. The client and
 * service settings can be given at the top level (for every name), or by name prefix in `client` and
 * `service` (linkerd's `io.l5d.static`), which override the top level.
 *
 * @example
 * ```ts
 * const options: ClientOptions = {
 *   dtab: '/svc => /#/io.l5d.fs',
 *   namers: [fsNamer({ rootDir: './disco' })],
 *   loadBalancer: p2cPeakEwma(),
 *   responseClassifier: retryableRead5xx,
 * }
 * ```
 */
export interface ClientOptions extends ClientParams, ServiceParams {
  /** The base dtab: fixed, or live (a `Var` or `Activity` that the client follows). */
  readonly dtab?: Dtab | string | Var<Dtab> | Activity<Dtab> | undefined
  /**
   * Namers by prefix: a `NamerRegistry`, or a list of mounts (`{ prefix, namer, transformers? }`, or a
   * namer that carries its own `prefix`, as `fsNamer` does). The system namers (`/$/inet`, ...) are
   * always there.
   */
  readonly namers?: NamerRegistry | readonly (NamerMount | (Namer & { readonly prefix: Path }))[] | undefined
  /** Binds names instead of `dtab` + `namers` (e.g. `namerdInterpreter`). */
  readonly interpreter?: NameInterpreter | undefined
  /** Applied in order to everything the interpreter binds. */
  readonly transformers?: readonly Transformer[] | undefined
  /** How requests are named; a list is tried in order. Default `headerToken()` (Host → `/svc/<host>`). */
  readonly identifier?: Identifier | readonly Identifier[] | undefined
  /** Client settings by bound-name prefix (they override the top-level ones). */
  readonly client?: PerName<ClientParams> | undefined
  /** Service settings by logical-name prefix (they override the top-level ones). */
  readonly service?: PerName<ServiceParams> | undefined
  /** Where stats go. Default a fresh `inMemoryStats()`, exported by `client.stats`. */
  readonly stats?: InMemoryStats | undefined
  /**
   * Traces each request (`openTelemetryTracing()`): a span for the logical request, one for
   * identifying and binding its name, one per attempt, and `traceparent` + `l5d-ctx-trace` on what is
   * sent. The parent is the current span (`tracedHandler`), else the request's own trace headers,
   * else the tracer's active context. Default none: trace headers pass through untouched.
   */
  readonly tracing?: Tracing | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  /** How long a request waits for its name to bind. Default 10 000 (linkerd's). */
  readonly bindingTimeoutMs?: number | undefined
  /** Path stacks and bound clients unused this long are closed. Default 600 000 (linkerd's 10 min). */
  readonly idleTtlMs?: number | undefined
  /**
   * Bounds on per-name state (linkerd's `bindingCache`): at most `paths` path stacks (one per logical
   * name and local dtab) and `clients` bound clients (one per bound name, each with its connection
   * pools); the least recently used idle one is closed when a new one would exceed the bound.
   * `idleTtlSecs` is `idleTtlMs` in seconds (`idleTtlMs` wins). Defaults: 1000, 1000, 600.
   */
  readonly bindingCache?: BindingCacheOptions | undefined
  /**
   * Longest `l5d-dtab` / `l5d-ctx-dtab` text a request may carry (all values together), in UTF-16
   * code units. A longer one is refused with `DtabHeaderTooLargeError` (a 400 with `errorResponses`).
   * Default 8192.
   */
  readonly maxDtabHeaderLength?: number | undefined
  /** Set `l5d-dst-service`, `l5d-dst-client`, `l5d-dst-residual` on requests. Default true. */
  readonly dstHeaders?: boolean | undefined
  /**
   * Answer the stack's own failures as linkerd does, with a response instead of a rejection: 400 for
   * an unidentified request or a malformed or too large `l5d-dtab`, 502 otherwise, the message in `l5d-err`, and
   * `l5d-retryable: true` when nothing was sent. Default false (the call rejects with the error).
   */
  readonly errorResponses?: boolean | undefined
  /**
   * Makes the service of one endpoint address (below failure accrual and the attempt timeout).
   * Default `httpEndpoint`: one undici `Pool` per endpoint. Tests and simulations put a fake here.
   */
  readonly endpoint?:
    | ((address: Address, options: HttpEndpointOptions) => Service<HttpRequest, HttpResponse>)
    | undefined
}

/**
 * linkerd's `bindingCache` for a client: how many path stacks and bound clients it keeps.
 *
 * @example
 * ```ts
 * createClient({ dtab, namers, bindingCache: { paths: 10_000, clients: 1000, idleTtlSecs: 60 } })
 * ```
 */
export interface BindingCacheOptions {
  /** Most path stacks (logical name + local dtab). Default 1000. */
  readonly paths?: number | undefined
  /** Most bound clients (bound name). Default 1000. */
  readonly clients?: number | undefined
  /** Idle time after which an entry is closed, seconds. Default 600. */
  readonly idleTtlSecs?: number | undefined
}

/**
 * A client made by `createClient`: `fetch` with the WHATWG signature, `request` like
 * `undici.request`, the `dispatcher` for `undici.fetch` / `undici.request` / Node's global `fetch`,
 * its stats, and `close()`.
 */
export interface Client {
  /**
   * WHATWG fetch through the stack: a URL, or a `Request` (Node's global one or undici's), its
   * method, headers and body included; `init` overrides the request's fields.
   *
   * @example
   * ```ts
   * await client.fetch(new Request('http://users/api', { method: 'POST', body: '{"name":"ada"}' }))
   * ```
   */
  fetch(input: RequestInfo | globalThis.Request, init?: RequestInit): Promise<Response>
  request(
    url: string | URL,
    options?: Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> &
      Partial<Pick<Dispatcher.RequestOptions, 'method'>>,
  ): Promise<Dispatcher.ResponseData>
  readonly dispatcher: Dispatcher
  readonly stats: InMemoryStats
  /**
   * How a logical name binds right now, step by step (linkerd's dtab playground): the dentries
   * used, the namers' answers and each transformer's step as a `transformation` node. `dtab` adds
   * local rules, as an `l5d-dtab` header would. Rejects with `UnsupportedRequestError` when the
   * interpreter cannot explain itself.
   */
  delegate(path: Path | string, dtab?: Dtab | string): Promise<DelegateTree<NameBound>>
  /**
   * Routes one request as it is (the headers object becomes the stack's), answering with the
   * response head and a still-streaming body: the entry a proxy server uses (`switchboard/router`).
   * `info`, when given, is filled with what routing decided (logical name, local dtab, classifier,
   * bound name), so the caller can classify the response or explain a failure.
   */
  route(req: HttpRequest, signal?: AbortSignal, info?: RouteInfo): Promise<HttpResponse>
  /** Closes every connection pool and binding; in-flight requests finish first. */
  close(): Promise<void>
}

/**
 * What routing decided for one request, filled in by `client.route` as it goes: a request that fails
 * early leaves the later fields unset.
 *
 * @example
 * ```ts
 * const info: RouteInfo = {}
 * await client.route(req, undefined, info).catch(() => {})
 * info.dst?.show() // '/svc/users'
 * ```
 */
export interface RouteInfo {
  /** The logical name (`/svc/users`). */
  dst?: Path
  /** The request's local dtab (`l5d-ctx-dtab` ++ `l5d-dtab`). */
  local?: Dtab
  /** The service's response classifier (with linkerd's `l5d-retryable` rules). */
  classifier?: HttpClassifier
  /** The bound name the last attempt went to. */
  name?: NameBound
}

function liveDtab(dtab: ClientOptions['dtab']): Activity<Dtab> | Var<Dtab> {
  if (dtab === undefined) return Var.constant(Dtab.empty)
  if (typeof dtab === 'string') return Var.constant(Dtab.read(dtab))
  if (dtab instanceof Dtab) return Var.constant(dtab)
  return dtab
}

function currentDtab(dtab: Activity<Dtab> | Var<Dtab>): () => Dtab {
  if (dtab instanceof Activity) {
    return () => {
      const s = dtab.state()
      return s.kind === 'ok' ? s.value : Dtab.empty
    }
  }
  return () => dtab.sample()
}

function registryOf(namers: ClientOptions['namers']): NamerRegistry {
  if (namers === undefined) return NamerRegistry.create()
  if (namers instanceof NamerRegistry) return namers
  const mounts: MountedNamer[] = namers.map((n) => {
    if ('namer' in n) {
      const prefix = typeof n.prefix === 'string' ? Path.read(n.prefix) : n.prefix
      return { prefix, namer: transformNamer(n.namer, n.transformers ?? []) }
    }
    return { prefix: n.prefix, namer: n }
  })
  return NamerRegistry.of(mounts)
}

/** `http://host:port/path?query` split without a full URL parse (the common case), else with one. */
function splitUrl(url: string | URL): { authority: string; path: string; https: boolean } {
  if (typeof url === 'string') {
    const https = url.startsWith('https://')
    if (https || url.startsWith('http://')) {
      const start = https ? 8 : 7
      let end = start
      while (end < url.length) {
        const c = url.charCodeAt(end)
        if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break
        end++
      }
      const hash = url.indexOf('#', end)
      let path = hash < 0 ? url.slice(end) : url.slice(end, hash)
      if (path === '' || path.charCodeAt(0) === 63) path = `/${path}`
      return { authority: url.slice(start, end), path, https }
    }
  }
  const u = typeof url === 'string' ? new URL(url) : url
  return { authority: u.host, path: `${u.pathname}${u.search}`, https: u.protocol === 'https:' }
}

type RequestOptions = Parameters<Client['request']>[1]

function requestOf(url: string | URL, opts: NonNullable<RequestOptions>): HttpRequest {
  const { authority, path, https } = splitUrl(url)
  if (https)
    throw new UnsupportedRequestError(
      `https is not supported: a switchboard client reaches endpoints over plain HTTP (${authority})`,
    )
  const headers = normalizeHeaders(opts.headers)
  if (headers['host'] === undefined) headers['host'] = authority
  return {
    method: opts.method ?? 'GET',
    path: withQuery(path, opts.query),
    version: '1.1',
    headers,
    body: (opts.body ?? null) as RequestBody,
    headersTimeout: opts.headersTimeout ?? undefined,
    bodyTimeout: opts.bodyTimeout ?? undefined,
  }
}

function copyWithout(headers: Readonly<HttpHeaders>, drop: readonly string[]): HttpHeaders {
  const out: HttpHeaders = {}
  for (const k in headers) if (!drop.includes(k)) out[k] = headers[k]!
  return out
}

const INCOMING = [L5dHeaders.dtab, L5dHeaders.ctxDtab, L5dHeaders.ctxDeadline] as const

/**
 * A WHATWG `Request` that is not undici's own class (Node's global `Request` is a different copy of
 * undici): undici's fetch would take it for a URL string.
 */
function isForeignRequest(input: unknown): input is globalThis.Request {
  return (
    typeof input === 'object' &&
    input !== null &&
    !(input instanceof UndiciRequest) &&
    !(input instanceof URL) &&
    typeof (input as { url?: unknown }).url === 'string' &&
    typeof (input as { method?: unknown }).method === 'string' &&
    typeof (input as { arrayBuffer?: unknown }).arrayBuffer === 'function'
  )
}

/**
 * A foreign `Request` as undici's fetch arguments, `init` overriding its fields as in
 * `new Request(request, init)`. Its body is read into memory so that the stack can replay it on a
 * retry (pass a stream as `init.body` to send one without buffering).
 */
async function fromForeignRequest(
  request: globalThis.Request,
  init: RequestInit | undefined,
): Promise<[string, RequestInit]> {
  const body =
    init?.body !== undefined || request.body === null
      ? init?.body
      : new Uint8Array(await request.arrayBuffer())
  return [
    request.url,
    {
      method: request.method,
      headers: [...request.headers],
      signal: request.signal,
      redirect: request.redirect,
      keepalive: request.keepalive,
      ...init,
      ...(body !== undefined && { body }),
    },
  ]
}

function isReplayable(body: unknown): body is RequestBody {
  return typeof body === 'string' || body instanceof Uint8Array
}

/**
 * Creates an HTTP client that routes every request by name: identified (default: `Host` →
 * `/svc/<host>`), bound through the dtab and namers (live: a dtab or namer change applies to the
 * next request), balanced over the endpoints (one undici pool per endpoint), and protected by
 * failure accrual, requeues, retries within a budget and timeouts, per linkerd's client and service
 * settings. Each request is sent with the `Host` of its logical name.
 *
 * Per request, `l5d-dtab` and `l5d-ctx-dtab` headers (and the `runWithContext` context) add dtab
 * rules for that request only; `l5d-ctx-dtab`, `l5d-ctx-deadline` and `l5d-dst-*` are set on the
 * request sent on. Errors reject the call: `UnidentifiedError`, `ParseError` (a bad `l5d-dtab`),
 * `NoBrokersAvailableError`, `ConnectionFailedError`, `TimeoutError`, ...
 *
 * @example
 * ```ts
 * import { createClient, retryableRead5xx } from 'switchboard/http'
 * import { fsNamer } from 'switchboard/namers'
 *
 * const client = createClient({
 *   dtab: '/svc => /#/io.l5d.fs',
 *   namers: [fsNamer({ rootDir: './disco' })],
 *   responseClassifier: retryableRead5xx,
 *   totalTimeoutMs: 2000,
 * })
 * const rep = await client.fetch('http://users/api/42')
 * console.log(rep.status, await rep.json())
 * await client.close()
 * ```
 */
export function createClient(options: ClientOptions = {}): Client {
  const scheduler = options.scheduler ?? systemScheduler
  const random = options.random ?? systemRandom
  const stats = options.stats ?? inMemoryStats()
  const bindingTimeoutMs = checkNumber(
    'createClient',
    'bindingTimeoutMs',
    options.bindingTimeoutMs ?? 10_000,
    {
      min: 0,
    },
  )
  const cache = options.bindingCache ?? {}
  const idleTtlMs =
    options.idleTtlMs !== undefined
      ? checkNumber('createClient', 'idleTtlMs', options.idleTtlMs, { min: 0 })
      : cache.idleTtlSecs !== undefined
        ? 1000 * checkNumber('createClient', 'bindingCache.idleTtlSecs', cache.idleTtlSecs, { min: 0 })
        : 600_000
  const maxPaths = checkNumber(
    'createClient',
    'bindingCache.paths',
    cache.paths ?? DEFAULT_BINDING_CACHE.paths,
    {
      min: 1,
      integer: true,
    },
  )
  const maxClients = checkNumber(
    'createClient',
    'bindingCache.clients',
    cache.clients ?? DEFAULT_BINDING_CACHE.clients,
    { min: 1, integer: true },
  )
  if (options.interpreter !== undefined && options.namers !== undefined)
    throw new InvalidOptionError('createClient', 'namers', 'absent when an interpreter is given', 'namers')
  const identifiers: readonly Identifier[] =
    options.identifier === undefined
      ? [headerToken()]
      : typeof options.identifier === 'function'
        ? [options.identifier]
        : options.identifier
  if (identifiers.length === 0)
    throw new InvalidOptionError('createClient', 'identifier', 'at least one', 'none')

  const dtab = liveDtab(options.dtab)
  const baseDtab = currentDtab(dtab)
  let interpreter: NameInterpreter & Partial<Delegator>
  if (options.interpreter) {
    // An interpreter of its own (namerd's) has its own base dtab; ours is passed as local rules.
    const inner = options.interpreter as NameInterpreter & Partial<Delegator>
    const innerDelegate = inner.delegate
    interpreter = {
      bind: (local, path) => inner.bind(baseDtab().concat(local), path),
      ...(innerDelegate
        ? { delegate: (local: Dtab, path: Path) => innerDelegate.call(inner, baseDtab().concat(local), path) }
        : {}),
    }
  } else {
    interpreter = configuredDtabInterpreter(dtab, { namers: registryOf(options.namers) })
  }
  interpreter = transformInterpreter(interpreter, options.transformers ?? [])

  const {
    loadBalancer,
    failureAccrual,
    failFast,
    requeueBudget,
    requestAttemptTimeoutMs,
    hostConnectionPool,
    totalTimeoutMs,
    retries,
    responseClassifier,
  } = options
  const clientDefaults: ClientParams = {
    loadBalancer,
    failureAccrual,
    failFast,
    requeueBudget,
    requestAttemptTimeoutMs,
    hostConnectionPool,
  }
  const serviceDefaults: ServiceParams = { totalTimeoutMs, retries, responseClassifier }
  const clientParams = paramsResolver(clientDefaults, options.client)
  const serviceParams = paramsResolver(serviceDefaults, options.service)

  const router = new Router({
    interpreter,
    baseDtab,
    clientParams: (id) => clientParams(id ?? Path.empty),
    serviceParams,
    stats: stats.scope('rt'),
    scheduler,
    random,
    bindingTimeoutMs,
    idleTtlMs,
    maxPaths,
    maxClients,
    dstHeaders: options.dstHeaders ?? true,
    endpoint: options.tracing
      ? tracedEndpoint(options.endpoint ?? httpEndpoint)
      : (options.endpoint ?? httpEndpoint),
  })

  const withDst = options.dstHeaders ?? true
  const dtabHeaders = new DtabHeaderCache({
    maxLength: checkNumber(
      'createClient',
      'maxDtabHeaderLength',
      options.maxDtabHeaderLength ?? DEFAULT_MAX_DTAB_HEADER_LENGTH,
      { min: 0 },
    ),
  })
  /** Routes a request whose `headers` object is the caller's own copy (it is changed in place). */
  const route = (
    req: HttpRequest,
    signal: AbortSignal | undefined,
    trace: RequestTrace | undefined,
    info?: RouteInfo,
  ): Promise<HttpResponse> => {
    const ctx = currentContext()
    let local = ctx.dtab
    let deadline = ctx.deadline
    let headers = req.headers as HttpHeaders
    if (
      headers[L5dHeaders.dtab] !== undefined ||
      headers[L5dHeaders.ctxDtab] !== undefined ||
      headers[L5dHeaders.ctxDeadline] !== undefined
    ) {
      local = local.concat(dtabHeaders.read(headers))
      const d = readDeadlineHeaders(headers)
      if (d) deadline = deadline ? Deadline.combined(deadline, d) : d
      headers = copyWithout(headers, INCOMING)
      req = { ...req, headers }
    }
    const { dst, request } = identify(identifiers, req)
    trace?.identified(dst.show())
    if (info) {
      info.dst = dst
      info.local = local
    }
    const out = request.headers as HttpHeaders
    if (withDst) out[L5dHeaders.dstService] = dst.show()
    if (!local.isEmpty) out[L5dHeaders.ctxDtab] = local.show()
    if (deadline) out[L5dHeaders.ctxDeadline] = deadline.show()
    return router.route(
      dst,
      local,
      (classifier): RoutedRequest => {
        if (info) info.classifier = classifier
        return {
          method: request.method,
          path: request.path,
          version: request.version,
          headers: out,
          body: request.body,
          headersTimeout: request.headersTimeout,
          bodyTimeout: request.bodyTimeout,
          classifier,
          deadline,
          trace,
          info,
        }
      },
      signal,
    )
  }

  const respond = options.errorResponses ?? false
  /** linkerd's error response for a failure of the stack (not for a caller who gave up). */
  const asResponse = (error: unknown, signal: AbortSignal | undefined): HttpResponse => {
    if (!respond || signal?.aborted) throw error
    const rep = l5dErrorResponse(error)
    return {
      statusCode: rep.status,
      statusMessage: '',
      headers: rep.headers,
      body: ResponseBody.of(rep.body),
    }
  }
  const tracing = options.tracing
  const guarded = (
    req: HttpRequest,
    signal: AbortSignal | undefined,
    info?: RouteInfo,
  ): Promise<HttpResponse> => {
    const trace = tracing
      ? new RequestTrace(tracing, req.method, currentSpan() ?? readTraceHeaders(req.headers))
      : undefined
    let p: Promise<HttpResponse>
    try {
      p = route(req, signal, trace, info)
    } catch (error) {
      p = Promise.reject(error)
    }
    if (trace)
      p = p.then(
        (rep) => {
          trace.end({ status: rep.statusCode })
          return rep
        },
        (error: unknown) => {
          trace.end({ error })
          throw error
        },
      )
    return respond ? p.catch((error: unknown) => asResponse(error, signal)) : p
  }

  const agent = new Agent()
  const dispatcher = agent.compose(routingInterceptor(guarded))

  return {
    dispatcher,
    stats,
    async delegate(path, local = Dtab.empty) {
      const explain = interpreter.delegate
      if (!explain) throw new UnsupportedRequestError('this interpreter cannot explain its bindings')
      const p = typeof path === 'string' ? Path.read(path) : path
      const d = typeof local === 'string' ? Dtab.read(local) : local
      return explain.call(interpreter, d, p).toPromise()
    },
    async fetch(input, init) {
      if (isForeignRequest(input)) [input, init] = await fromForeignRequest(input, init)
      const body = init?.body
      try {
        const call = () => undiciFetch(input, { ...init, dispatcher })
        return await (isReplayable(body) ? replayableBodies.run(body, call) : call())
      } catch (error) {
        // fetch wraps dispatch failures in TypeError('fetch failed'); hand back ours as they are.
        const cause = (error as { cause?: unknown }).cause
        if (error instanceof TypeError && cause instanceof SwitchboardError) throw cause
        throw error
      }
    },
    async request(url, opts = {}) {
      const signal = opts.signal instanceof AbortSignal ? opts.signal : undefined
      const rep = await guarded(requestOf(url, opts), signal)
      const trailers: HttpHeaders = {}
      return {
        statusCode: rep.statusCode,
        statusText: rep.statusMessage,
        headers: rep.headers,
        trailers,
        opaque: opts.opaque ?? null,
        context: {},
        body: new ResponseStream(rep.body, trailers),
      } as unknown as Dispatcher.ResponseData
    },
    route(req, signal, info) {
      return guarded(req, signal, info)
    },
    async close() {
      await router.close()
      await agent.close()
    },
  }
}
