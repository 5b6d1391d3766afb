// A small Kubernetes API client for the k8s namers, transformers, the ingress identifier and the
// k8s dtab store: configuration and credentials come from the official client library
// (`@kubernetes/client-node`, an optional peer dependency: its `KubeConfig` reads `kubectl proxy`
// host/port settings, in-cluster service-account credentials or a kubeconfig file), and every byte
// goes through undici. The library's own `Watch` is not used: it drops unparseable event lines
// without a word, has no stall detection (its 30 s timeout signal is overwritten before use), loses
// the `Status` body of a refused watch, reads lines of any length and goes through node-fetch.
import { StringDecoder } from 'node:string_decoder'
import { Activity, type ActivityState } from '../core/activity.js'
import { type Cancel, type Scheduler, systemScheduler } from '../core/clock.js'
import { SwitchboardError } from '../core/errors.js'
import { importOptional } from '../core/optional.js'
import { type Random, systemRandom } from '../core/random.js'
import { Var } from '../core/var.js'

/** Where the Kubernetes API is and how to authenticate to it. */
export interface K8sApiOptions {
  /** The API host, as linkerd's `host` (default `localhost`, i.e. a `kubectl proxy`). */
  readonly host?: string | undefined
  /** The API port, as linkerd's `port` (default 8001). Plain HTTP, like linkerd's. */
  readonly port?: number | undefined
  /**
   * Use the pod's service account instead of host/port (`KUBERNETES_SERVICE_HOST`/`_PORT`, the
   * token and CA under /var/run/secrets/kubernetes.io/serviceaccount). `true`, or the path prefix
   * of those files (for tests).
   */
  readonly inCluster?: boolean | { readonly pathPrefix: string } | undefined
  /** A kubeconfig file to read instead (its current context). */
  readonly kubeConfigPath?: string | undefined
  /** Largest accepted response body or watch event line (default 16 MiB). */
  readonly maxBodyBytes?: number | undefined
  /** Timeout of a non-watch request (default 10 000 ms). */
  readonly requestTimeoutMs?: number | undefined
  /**
   * A watch that sends nothing (no event, no bookmark) for this long is dropped and re-opened
   * (default 120 000 ms; the API server sends bookmarks about once a minute).
   */
  readonly watchIdleTimeoutMs?: number | undefined
}

/**
 * The Kubernetes API answered with an error status (a `Status` object when it sent one), or sent
 * something that is not what the API sends.
 *
 * @example
 * ```ts
 * try { await api.request('GET', '/api/v1/namespaces/x/endpoints/y') }
 * catch (e) { if (e instanceof K8sApiError && e.status === 404) console.log('no such endpoints') }
 * ```
 */
export class K8sApiError extends SwitchboardError {
  /** The HTTP status, or the `code` of a watch `ERROR` event's Status; 0 when not HTTP. */
  readonly status: number
  /** The Status `reason` (`NotFound`, `Conflict`, `Expired`, `Gone`), when given. */
  readonly reason: string | undefined
  constructor(status: number, reason: string | undefined, message: string, options?: { cause?: unknown }) {
    super('K8sApiError', message, options)
    this.status = status
    this.reason = reason
  }
}

/**
 * Splits a byte stream into lines (`\n`-terminated, UTF-8, a character may be split across
 * chunks); a line longer than `maxBytes` is a `K8sApiError`. `end()` returns the unterminated rest.
 *
 * @example
 * ```ts
 * const s = lineSplitter(1024, 'watch'); s.push(Buffer.from('a\nb')) // ['a']; s.end() // ['b']
 * ```
 */
export function lineSplitter(
  maxBytes: number,
  what: string,
): { push(chunk: Uint8Array): string[]; end(): string[] } {
  const decoder = new StringDecoder('utf8')
  let pending = ''
  const split = (text: string): string[] => {
    pending += text
    const out: string[] = []
    let nl = pending.indexOf('\n')
    while (nl >= 0) {
      out.push(pending.slice(0, nl))
      pending = pending.slice(nl + 1)
      nl = pending.indexOf('\n')
    }
    if (pending.length > maxBytes)
      throw new K8sApiError(0, undefined, `${what}: an event line is over ${maxBytes} bytes`)
    return out
  }
  return {
    push: (chunk) => split(decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))),
    end: () => {
      const out = split(decoder.end())
      if (pending !== '') out.push(pending)
      pending = ''
      return out
    },
  }
}

/** A Kubernetes object as JSON: `metadata` with `name`, `namespace`, `resourceVersion`. */
export interface K8sObject {
  readonly kind?: string
  readonly apiVersion?: string
  readonly metadata?: {
    readonly name?: string
    readonly namespace?: string
    readonly resourceVersion?: string
    readonly annotations?: Readonly<Record<string, string>>
    readonly labels?: Readonly<Record<string, string>>
    readonly [k: string]: unknown
  }
  readonly [k: string]: unknown
}

/** One watch event, as the API server streams them (one JSON object per line). */
export interface K8sWatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  readonly object: K8sObject
}

const EVENT_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'])

/** The response to a non-watch request. */
export interface K8sResponse {
  readonly status: number
  readonly body: unknown
}

/**
 * A Kubernetes API connection: JSON requests and line-delimited watch streams, authenticated by the
 * official client library's `KubeConfig`, sent by undici.
 *
 * @example
 * ```ts
 * const api = k8sApi({ host: 'localhost', port: 8001 })
 * const { body } = await api.request('GET', '/api/v1/namespaces/default/endpoints/web')
 * await api.close()
 * ```
 */
export interface K8sApi {
  /** The base URL, e.g. `http://localhost:8001`. */
  baseUrl(): Promise<string>
  /** A JSON request; resolves with any status (the caller decides what a 404 means). */
  request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<K8sResponse>
  /**
   * Opens a watch and calls `onEvent` for every event until the server ends the stream (resolves),
   * the connection fails, a line is not an event, the stream is idle too long, or it is refused
   * (rejects; a refusal is a `K8sApiError` with the status, 410 for a too old resourceVersion).
   */
  watch(path: string, onEvent: (event: K8sWatchEvent) => void, signal: AbortSignal): Promise<void>
  /** Closes every connection. */
  close(): Promise<void>
}

interface Transport {
  readonly base: string
  readonly dispatcher: import('undici').Dispatcher
  headers(): Promise<Record<string, string>>
}

type KubeConfigLike = {
  clusters: { server: string; skipTLSVerify?: boolean }[]
  loadFromOptions(o: unknown): void
  loadFromCluster(prefix?: string): void
  loadFromFile(file: string): void
  getCurrentCluster(): { server: string } | null
  applyToHTTPSOptions(opts: Record<string, unknown>): Promise<void>
}

async function makeTransport(options: K8sApiOptions): Promise<Transport> {
  const lib = await importOptional<{ KubeConfig: new () => KubeConfigLike }>(
    '@kubernetes/client-node',
    'the Kubernetes namers and dtab store',
  )
  const kc = new lib.KubeConfig()
  if (options.inCluster) {
    kc.loadFromCluster(typeof options.inCluster === 'object' ? options.inCluster.pathPrefix : undefined)
  } else if (options.kubeConfigPath !== undefined) {
    kc.loadFromFile(options.kubeConfigPath)
  } else {
    const host = options.host ?? 'localhost'
    const port = options.port ?? 8001
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    kc.loadFromOptions({
      clusters: [{ name: 'proxy', server: `http://${h}:${port}`, skipTLSVerify: true }],
      users: [{ name: 'proxy' }],
      contexts: [{ name: 'proxy', cluster: 'proxy', user: 'proxy' }],
      currentContext: 'proxy',
    })
  }
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new K8sApiError(0, undefined, 'the kubeconfig has no current cluster')
  // The library refuses a plain-HTTP server unless TLS verification is off (there is no TLS to
  // verify): a `kubectl proxy`, or an in-cluster port 8001/8080.
  if (cluster.server.startsWith('http:'))
    kc.clusters = kc.clusters.map((c) => (c.server === cluster.server ? { ...c, skipTLSVerify: true } : c))
  const base = cluster.server.replace(/\/+$/, '')
  const tls: Record<string, unknown> = {}
  await kc.applyToHTTPSOptions(tls)
  const { Agent } = await import('undici')
  const dispatcher = new Agent({
    connect: {
      ...(tls['ca'] === undefined ? {} : { ca: tls['ca'] as Buffer }),
      ...(tls['cert'] === undefined ? {} : { cert: tls['cert'] as Buffer }),
      ...(tls['key'] === undefined ? {} : { key: tls['key'] as Buffer }),
      ...(tls['rejectUnauthorized'] === undefined
        ? {}
        : { rejectUnauthorized: tls['rejectUnauthorized'] as boolean }),
      ...(tls['servername'] === undefined ? {} : { servername: tls['servername'] as string }),
    },
  })
  return {
    base,
    dispatcher,
    async headers() {
      // Per request: a token file (in-cluster) or an exec/OIDC token can rotate.
      const opts: Record<string, unknown> = {}
      await kc.applyToHTTPSOptions(opts)
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries((opts['headers'] as Record<string, unknown>) ?? {}))
        if (typeof v === 'string' || typeof v === 'number') out[k] = String(v)
      if (typeof opts['auth'] === 'string')
        out['Authorization'] = `Basic ${Buffer.from(opts['auth']).toString('base64')}`
      return out
    },
  }
}

function statusError(status: number, body: unknown, what: string): K8sApiError {
  const s = body as { kind?: unknown; message?: unknown; reason?: unknown } | null
  const reason = typeof s?.reason === 'string' ? s.reason : undefined
  const detail = typeof s?.message === 'string' ? s.message : `HTTP ${status}`
  return new K8sApiError(status, reason, `${what}: ${detail}`)
}

/**
 * A Kubernetes API connection (see `K8sApi`). Nothing is loaded or connected until the first request.
 *
 * @example
 * ```ts
 * const api = k8sApi({ inCluster: true })
 * ```
 */
export function k8sApi(options: K8sApiOptions = {}): K8sApi {
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const idleMs = options.watchIdleTimeoutMs ?? 120_000
  let transport: Promise<Transport> | undefined
  let closed = false
  const get = () => {
    if (closed) return Promise.reject(new K8sApiError(0, undefined, 'the Kubernetes API client is closed'))
    transport ??= makeTransport(options)
    return transport
  }
  const readBody = async (body: AsyncIterable<Buffer | Uint8Array>, what: string): Promise<string> => {
    const chunks: Buffer[] = []
    let size = 0
    for await (const c of body) {
      size += c.byteLength
      if (size > maxBody) throw new K8sApiError(0, undefined, `${what}: response body over ${maxBody} bytes`)
      chunks.push(Buffer.from(c))
    }
    return Buffer.concat(chunks).toString('utf8')
  }
  return {
    async baseUrl() {
      return (await get()).base
    },
    async request(method, path, body, signal) {
      const t = await get()
      const what = `${method} ${path}`
      const headers = { ...(await t.headers()), accept: 'application/json' }
      const res = await t.dispatcher.request({
        origin: t.base,
        path,
        method: method as 'GET',
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs,
        ...(signal ? { signal } : {}),
      })
      const text = await readBody(res.body, what)
      let parsed: unknown
      try {
        parsed = text === '' ? undefined : JSON.parse(text)
      } catch {
        if (res.statusCode < 400)
          throw new K8sApiError(res.statusCode, undefined, `${what}: the response is not JSON`)
        parsed = undefined
      }
      return { status: res.statusCode, body: parsed }
    },
    async watch(path, onEvent, signal) {
      const t = await get()
      const what = `watch ${path}`
      const res = await t.dispatcher.request({
        origin: t.base,
        path,
        method: 'GET',
        headers: { ...(await t.headers()), accept: 'application/json' },
        headersTimeout: idleMs,
        // undici's bodyTimeout is the longest wait between two chunks: an idle watch is dropped.
        bodyTimeout: idleMs,
        signal,
      })
      if (res.statusCode !== 200) {
        const text = await readBody(res.body, what).catch(() => '')
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          parsed = undefined
        }
        throw statusError(res.statusCode, parsed, what)
      }
      const handle = (line: string) => {
        if (line.trim() === '') return
        let ev: unknown
        try {
          ev = JSON.parse(line)
        } catch {
          throw new K8sApiError(0, undefined, `${what}: an event line is not JSON: ${line.slice(0, 80)}`)
        }
        const e = ev as { type?: unknown; object?: unknown }
        if (
          typeof e !== 'object' ||
          e === null ||
          typeof e.type !== 'string' ||
          !EVENT_TYPES.has(e.type) ||
          typeof e.object !== 'object' ||
          e.object === null
        )
          throw new K8sApiError(0, undefined, `${what}: not a watch event: ${line.slice(0, 80)}`)
        onEvent(e as K8sWatchEvent)
      }
      const lines = lineSplitter(maxBody, what)
      try {
        for await (const chunk of res.body) for (const line of lines.push(chunk)) handle(line)
        for (const line of lines.end()) handle(line)
      } finally {
        res.body.destroy()
      }
    },
    async close() {
      closed = true
      const t = transport
      transport = undefined
      // destroy, not close: an open watch would keep close() waiting forever.
      if (t) await (await t.catch(() => undefined))?.dispatcher.destroy()
    },
  }
}

/** A watched set of objects, keyed `<namespace>/<name>`, and how fresh it is. */
export interface K8sSnapshot<T extends K8sObject = K8sObject> {
  readonly objects: ReadonlyMap<string, T>
  /** The resourceVersion the snapshot is at. */
  readonly resourceVersion: string
}

/** Options of `k8sWatchedResource`. */
export interface K8sWatchOptions {
  /**
   * What to read first: a collection (`/api/v1/namespaces/ns/endpoints`, answered with a `...List`)
   * or one object (`/api/v1/namespaces/ns/endpoints/web`; 404 → empty).
   */
  readonly path: string
  /** The watch path; default `path` with `?watch=true`. For one object linkerd's `/watch/` form. */
  readonly watchPath?: string | undefined
  /** Extra query parameters for both (`labelSelector`, `fieldSelector`). */
  readonly query?: Readonly<Record<string, string>> | undefined
  /** Whether `path` names one object rather than a collection (default: it ends `s` → list). */
  readonly single?: boolean | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  /** Reconnection backoff bounds, jittered (default 10 ms → 10 s, linkerd's). */
  readonly backoffMs?: { readonly min: number; readonly max: number } | undefined
  /** Told about every failed list or watch. */
  readonly onError?: ((error: unknown) => void) | undefined
}

const keyOf = (o: K8sObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`

function withQuery(path: string, query: Readonly<Record<string, string>>): string {
  const q = new URLSearchParams(query).toString()
  if (q === '') return path
  return path.includes('?') ? `${path}&${q}` : `${path}?${q}`
}

/**
 * A list+watch of Kubernetes objects (client-go's reflector, linkerd's `Watchable`): list, then
 * watch from the list's resourceVersion, applying ADDED/MODIFIED/DELETED and remembering BOOKMARK
 * versions. A watch that ends is re-opened from the last version; one refused with 410 Gone (or an
 * `ERROR` event with code 410) re-lists; any other failure retries after a jittered backoff while
 * the last good snapshot stays published. Pending until the first list; failed only when nothing
 * was ever listed. Runs only while observed.
 *
 * @example
 * ```ts
 * const eps = k8sWatchedResource(api, { path: '/api/v1/namespaces/default/endpoints/web', single: true })
 * eps.observe((s) => console.log(s))
 * ```
 */
export function k8sWatchedResource<T extends K8sObject = K8sObject>(
  api: K8sApi,
  options: K8sWatchOptions,
): Activity<K8sSnapshot<T>> {
  const scheduler = options.scheduler ?? systemScheduler
  const random = options.random ?? systemRandom
  const { min, max } = options.backoffMs ?? { min: 10, max: 10_000 }
  const query = options.query ?? {}
  const single = options.single ?? !/s$/.test(options.path.split('?')[0]!)
  return Activity.of(
    Var.async<ActivityState<K8sSnapshot<T>>>({ kind: 'pending' }, (update) => {
      const controller = new AbortController()
      let stopped = false
      let objects = new Map<string, T>()
      let rv: string | undefined
      let listed = false
      let delay = min
      let cancelSleep: Cancel | undefined
      const publish = () => {
        if (!stopped && rv !== undefined)
          update({ kind: 'ok', value: { objects: new Map(objects), resourceVersion: rv } })
      }
      const sleep = (ms: number) =>
        new Promise<void>((resolve) => {
          cancelSleep = scheduler.setTimeout(() => {
            cancelSleep = undefined
            resolve()
          }, ms)
        })
      const list = async () => {
        const res = await api.request('GET', withQuery(options.path, query), undefined, controller.signal)
        if (single) {
          if (res.status === 404) {
            objects = new Map()
            rv = ''
          } else if (res.status === 200 && typeof res.body === 'object' && res.body !== null) {
            const o = res.body as T
            objects = new Map([[keyOf(o), o]])
            rv = o.metadata?.resourceVersion ?? ''
          } else throw statusError(res.status, res.body, `GET ${options.path}`)
        } else {
          const body = res.body as { items?: unknown; metadata?: { resourceVersion?: unknown } } | undefined
          if (res.status !== 200 || !Array.isArray(body?.items))
            throw statusError(res.status, res.body, `GET ${options.path}`)
          objects = new Map((body.items as T[]).map((o) => [keyOf(o), o]))
          rv = typeof body.metadata?.resourceVersion === 'string' ? body.metadata.resourceVersion : ''
        }
        listed = true
        publish()
      }
      const watchOnce = async () => {
        const base = options.watchPath ?? withQuery(options.path, { watch: 'true' })
        const q: Record<string, string> = { ...query, allowWatchBookmarks: 'true' }
        if (rv) q['resourceVersion'] = rv
        await api.watch(
          withQuery(base, q),
          (ev) => {
            const v = ev.object.metadata?.resourceVersion
            switch (ev.type) {
              case 'ADDED':
              case 'MODIFIED':
                objects.set(keyOf(ev.object), ev.object as T)
                break
              case 'DELETED':
                objects.delete(keyOf(ev.object))
                break
              case 'BOOKMARK':
                if (typeof v === 'string') rv = v
                return
              case 'ERROR': {
                const s = ev.object as { code?: unknown; reason?: unknown; message?: unknown }
                throw new K8sApiError(
                  typeof s.code === 'number' ? s.code : 0,
                  typeof s.reason === 'string' ? s.reason : undefined,
                  `watch ${options.path}: ${typeof s.message === 'string' ? s.message : 'ERROR event'}`,
                )
              }
            }
            if (typeof v === 'string') rv = v
            delay = min
            publish()
          },
          controller.signal,
        )
      }
      const loop = async () => {
        while (!stopped) {
          try {
            if (!listed) await list()
            await watchOnce()
            // The server closed the watch (its timeout): re-open from where we are.
          } catch (error) {
            if (stopped) return
            if (error instanceof K8sApiError && (error.status === 410 || error.reason === 'Expired')) {
              listed = false // too old: list again, at once
              continue
            }
            options.onError?.(error)
            if (!listed && rv === undefined) update({ kind: 'failed', error })
            // The snapshot may have missed changes while disconnected; a re-list after the
            // backoff reconciles deletions that a watch from an old version could not replay.
            listed = false
            const wait = Math.min(max, delay) * (0.5 + random.next() / 2)
            delay = Math.min(max, delay * 2)
            await sleep(wait)
          }
        }
      }
      void loop()
      return () => {
        stopped = true
        cancelSleep?.()
        controller.abort()
      }
    }),
  )
}
