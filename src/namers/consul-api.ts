// The Consul HTTP API as the io.l5d.consul namer and dtab store use it: requests made by the
// `consul` package (an optional peer dependency, loaded on first use), and the blocking-query loop
// with Consul's documented index rules (https://developer.hashicorp.com/consul/api-docs/features/blocking):
//
// - the first request has no index; each answer's `X-Consul-Index` is the next request's `index`;
// - an index that goes backwards (a restored snapshot, a new cluster) resets to 0: read afresh;
// - an index below 1 is raised to 1 (a 0 would make every blocking request return at once);
// - an answer with the same index is no change;
// - after a failure the loop waits a jittered, growing backoff and reads afresh, without an index.
//
// The `consul` package's own `watch()` keeps its index across failures and backs off without
// jitter; the loop here is written on its request methods instead (see docs/namers.md).
import { EventEmitter } from 'node:events'
import { type Cancel, type Scheduler, systemScheduler } from '../core/clock.js'
import { SwitchboardError } from '../core/errors.js'
import { importOptional } from '../core/optional.js'
import { type Random, systemRandom } from '../core/random.js'

/**
 * A Consul API call failed: a status other than 2xx (`status` set, `body` the start of Consul's
 * message), a missing `X-Consul-Index` on a blocking endpoint, or a transport error.
 *
 * @example
 * ```ts
 * // ConsulApiError: consul 127.0.0.1:8500 GET /v1/health/service/web: 500 No path to datacenter
 * ```
 */
export class ConsulApiError extends SwitchboardError {
  /** The HTTP status, when Consul answered. */
  readonly status: number | undefined
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('ConsulApiError', message, options)
    this.status = status
  }
}

/**
 * Consul's read consistency modes (`default` sends no flag).
 *
 * @example
 * ```ts
 * const mode: ConsulConsistency = 'stale' // any server may answer, possibly a little behind
 * ```
 */
export type ConsulConsistency = 'default' | 'stale' | 'consistent'

/**
 * How to reach a Consul agent.
 *
 * @example
 * ```ts
 * const agent: ConsulConnectionOptions = { host: '127.0.0.1', port: 8500, token: 's3cret' }
 * ```
 */
export interface ConsulConnectionOptions {
  /** Default `localhost`. */
  readonly host?: string | undefined
  /** Default 8500. */
  readonly port?: number | undefined
  /** ACL token, sent as `X-Consul-Token`. */
  readonly token?: string | undefined
  /** Speak HTTPS (default false). */
  readonly secure?: boolean | undefined
}

/**
 * What a Consul GET answered: status, `X-Consul-Index` (if any) and the decoded body.
 *
 * @example
 * ```ts
 * const { status, index, body } = await consul.healthService('web', {})
 * ```
 */
export interface ConsulAnswer<T> {
  readonly status: number
  readonly index: bigint | undefined
  readonly body: T | undefined
}

/**
 * Query parameters of a read.
 *
 * @example
 * ```ts
 * const q: ConsulQuery = { dc: 'dc1', consistency: 'stale', index: 42n, waitMs: 60_000 }
 * ```
 */
export interface ConsulQuery {
  readonly dc?: string | undefined
  readonly consistency?: ConsulConsistency | undefined
  /** Blocking: wait for a change after this index (absent or 0: answer at once). */
  readonly index?: bigint | undefined
  /** Blocking: the longest wait, in ms. */
  readonly waitMs?: number | undefined
}

/**
 * The Consul calls the namer and the store make. Every call can be aborted with its signal.
 *
 * @example
 * ```ts
 * const consul: ConsulClient = await consulClient({ port: 8500 }, 'my tool')
 * const ok = await consul.kvSet('namerd/dtabs/default', '/svc=>/#/io.l5d.consul/dc1', { cas: 0n })
 * ```
 */
export interface ConsulClient {
  readonly address: string
  /** `GET /v1/agent/self`. */
  agentSelf(signal?: AbortSignal): Promise<ConsulAnswer<unknown>>
  /** `GET /v1/health/service/<service>` (`passing` asks Consul to filter). */
  healthService(
    service: string,
    q: ConsulQuery & { tag?: string | undefined; passing?: boolean | undefined },
    signal?: AbortSignal,
  ): Promise<ConsulAnswer<unknown>>
  /** `GET /v1/catalog/service/<service>`. */
  catalogService(
    service: string,
    q: ConsulQuery & { tag?: string | undefined },
    signal?: AbortSignal,
  ): Promise<ConsulAnswer<unknown>>
  /** `GET /v1/kv/<key>?raw`: 404 is an answer (status 404, no body), not an error. */
  kvGetRaw(key: string, q: ConsulQuery, signal?: AbortSignal): Promise<ConsulAnswer<Buffer>>
  /** `GET /v1/kv/<prefix>?keys&separator=/`: 404 is an answer with no body. */
  kvKeys(prefix: string, q: ConsulQuery, signal?: AbortSignal): Promise<ConsulAnswer<unknown>>
  /** `PUT /v1/kv/<key>[?cas=N]`: Consul's `true`/`false`. */
  kvSet(key: string, value: string, options: { cas?: bigint; dc?: string | undefined }): Promise<boolean>
  /** `DELETE /v1/kv/<key>`. */
  kvDelete(key: string, options: { dc?: string | undefined }): Promise<boolean>
  /** Closes idle connections. */
  close(): void
}

interface Lib {
  agent: { self(o: object): Promise<unknown> }
  health: { service(o: object): Promise<unknown> }
  catalog: { service: { nodes(o: object): Promise<unknown> } }
  kv: {
    get(o: object): Promise<unknown>
    keys(o: object): Promise<unknown>
    set(o: object): Promise<unknown>
    del(o: object): Promise<unknown>
  }
  destroy(): void
}

type LibClass = new (options: object) => Lib

/**
 * The longest a blocking request may wait, as Consul caps it (10 minutes).
 *
 * @example
 * ```ts
 * MAX_CONSUL_WAIT_MS // 600000
 * ```
 */
export const MAX_CONSUL_WAIT_MS = 600_000

/**
 * Loads the `consul` package (an optional peer dependency) and returns a client for one agent.
 * Rejects with `MissingDependencyError` when the package is not installed.
 *
 * @example
 * ```ts
 * const consul = await consulClient({ host: '127.0.0.1', port: 8500 }, 'the io.l5d.consul namer')
 * const { index, body } = await consul.healthService('web', { dc: 'dc1' })
 * ```
 */
export async function consulClient(options: ConsulConnectionOptions, feature: string): Promise<ConsulClient> {
  const mod = await importOptional<{ default: LibClass }>('consul', feature)
  const host = options.host ?? 'localhost'
  const port = options.port ?? 8500
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`
  const lib = new mod.default({
    host: host.includes(':') ? `[${host}]` : host,
    port,
    secure: options.secure ?? false,
    ...(options.token ? { defaults: { token: options.token } } : {}),
  })

  const common = (q: ConsulQuery) => ({
    ...(q.dc ? { dc: q.dc } : {}),
    ...(q.consistency === 'stale'
      ? { stale: true }
      : q.consistency === 'consistent'
        ? { consistent: true }
        : {}),
    ...(q.index !== undefined && q.index > 0n
      ? {
          index: q.index.toString(),
          wait: `${Math.max(1, Math.round(Math.min(q.waitMs ?? MAX_CONSUL_WAIT_MS, MAX_CONSUL_WAIT_MS)))}ms`,
          // Consul adds up to wait/16 of jitter; past that and a margin the request is stalled.
          timeout: Math.ceil(Math.min(q.waitMs ?? MAX_CONSUL_WAIT_MS, MAX_CONSUL_WAIT_MS) * (17 / 16)) + 5000,
        }
      : { timeout: 30_000 }),
  })

  const call = async <T>(
    what: string,
    f: (o: object) => Promise<unknown>,
    o: object,
    signal: AbortSignal | undefined,
    allow404 = false,
  ): Promise<ConsulAnswer<T>> => {
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true })
    if (signal?.aborted) throw new ConsulApiError(`consul ${address} ${what}: aborted`)
    const abort = () => ctx.emit('cancel')
    signal?.addEventListener('abort', abort, { once: true })
    try {
      const r = (await f({ ...o, ctx })) as [{ statusCode: number; headers: Record<string, string> }, T?]
      const [res, body] = r
      return { status: res.statusCode, index: parseIndex(res.headers['x-consul-index']), body }
    } catch (error) {
      const res = (
        error as { response?: { statusCode?: number; headers?: Record<string, string>; body?: unknown } }
      ).response
      if (allow404 && res?.statusCode === 404)
        return { status: 404, index: parseIndex(res.headers?.['x-consul-index']), body: undefined }
      const status = res?.statusCode
      const detail =
        status !== undefined
          ? `${status} ${typeof res?.body === 'string' ? res.body.slice(0, 200) : Buffer.isBuffer(res?.body) ? res.body.subarray(0, 200).toString('utf8') : ''}`.trim()
          : (error as Error).message
      throw new ConsulApiError(`consul ${address} ${what}: ${detail}`, status, { cause: error })
    } finally {
      signal?.removeEventListener('abort', abort)
    }
  }

  return {
    address,
    agentSelf: (signal) => call('GET /v1/agent/self', (o) => lib.agent.self(o), { timeout: 30_000 }, signal),
    healthService: (service, q, signal) =>
      call(
        `GET /v1/health/service/${service}`,
        (o) => lib.health.service(o),
        { service, ...(q.tag ? { tag: q.tag } : {}), ...(q.passing ? { passing: true } : {}), ...common(q) },
        signal,
      ),
    catalogService: (service, q, signal) =>
      call(
        `GET /v1/catalog/service/${service}`,
        (o) => lib.catalog.service.nodes(o),
        { service, ...(q.tag ? { tag: q.tag } : {}), ...common(q) },
        signal,
      ),
    kvGetRaw: (key, q, signal) =>
      call<Buffer>(`GET /v1/kv/${key}`, (o) => lib.kv.get(o), { key, raw: true, ...common(q) }, signal, true),
    kvKeys: (prefix, q, signal) =>
      call(
        `GET /v1/kv/${prefix}?keys`,
        (o) => lib.kv.keys(o),
        { key: prefix, separator: '/', ...common(q) },
        signal,
        true,
      ),
    async kvSet(key, value, o) {
      const r = await call<unknown>(
        `PUT /v1/kv/${key}`,
        (x) => lib.kv.set(x),
        {
          key,
          value,
          ...(o.cas !== undefined ? { cas: o.cas.toString() } : {}),
          ...(o.dc ? { dc: o.dc } : {}),
          timeout: 30_000,
        },
        undefined,
      )
      return r.body === true || r.body === 'true'
    },
    async kvDelete(key, o) {
      const r = await call<unknown>(
        `DELETE /v1/kv/${key}`,
        (x) => lib.kv.del(x),
        { key, ...(o.dc ? { dc: o.dc } : {}), timeout: 30_000 },
        undefined,
      )
      return r.body === true || r.body === 'true' || r.body === undefined
    },
    close: () => lib.destroy(),
  }
}

function parseIndex(header: string | undefined): bigint | undefined {
  if (header === undefined || !/^\d{1,20}$/.test(header)) return undefined
  return BigInt(header)
}

/**
 * The index of the next blocking request after an answer with `got`, by Consul's rules: backwards
 * resets to 0, below 1 becomes 1.
 *
 * @example
 * ```ts
 * nextIndex(10n, 12n) // 12n
 * nextIndex(10n, 3n)  // 0n: the index went backwards, read afresh
 * nextIndex(0n, 0n)   // 1n
 * ```
 */
export function nextIndex(previous: bigint, got: bigint): bigint {
  if (got < previous) return 0n
  if (got < 1n) return 1n
  return got
}

/**
 * Bounds of the jittered exponential backoff between failed requests, in ms.
 *
 * @example
 * ```ts
 * const backoff: ConsulBackoff = { minMs: 10, maxMs: 5000 }
 * ```
 */
export interface ConsulBackoff {
  readonly minMs: number
  readonly maxMs: number
}

/**
 * Runs a blocking-query loop while it is not stopped: `request(index, signal)` is called first
 * without an index, then with each answer's index; `onAnswer` gets every answer whose index moved
 * (or that reset), `onError` every failure, after which the loop waits a jittered exponential
 * backoff (`minMs` doubling up to `maxMs`, each wait uniform in [d/2, d]) and reads afresh.
 *
 * @example
 * ```ts
 * const stop = blockingLoop({ request: (index, signal) => consul.healthService('web', { index, waitMs: 60_000 }, signal), onAnswer: (a) => console.log(a.body), onError: console.error })
 * stop()
 * ```
 */
export function blockingLoop<T>(options: {
  readonly request: (index: bigint, signal: AbortSignal) => Promise<ConsulAnswer<T>>
  readonly onAnswer: (answer: ConsulAnswer<T>) => void
  readonly onError: (error: unknown) => void
  readonly backoff?: ConsulBackoff | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  /** Whether an answer without `X-Consul-Index` is an error (default true). */
  readonly requireIndex?: boolean | undefined
}): () => void {
  const scheduler = options.scheduler ?? systemScheduler
  const random = options.random ?? systemRandom
  const backoff = options.backoff ?? { minMs: 10, maxMs: 5000 }
  const controller = new AbortController()
  let stopped = false
  let index = 0n
  let failures = 0
  let timer: Cancel | undefined
  const again = (ms: number) => {
    if (stopped) return
    if (ms <= 0) {
      void step()
      return
    }
    timer = scheduler.setTimeout(() => void step(), ms)
  }
  const step = async () => {
    if (stopped) return
    const started = scheduler.now()
    let answer: ConsulAnswer<T>
    try {
      answer = await options.request(index, controller.signal)
      if (stopped) return
      if (answer.index === undefined && (options.requireIndex ?? true))
        throw new ConsulApiError('Consul answered without an X-Consul-Index header')
    } catch (error) {
      if (stopped) return
      options.onError(error)
      failures++
      index = 0n
      const d = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.min(failures - 1, 30))
      return again(d / 2 + random.next() * (d / 2))
    }
    failures = 0
    const got = answer.index ?? 0n
    const next = nextIndex(index, got)
    const changed = index === 0n || got !== index
    index = next
    if (changed) options.onAnswer(answer)
    // A blocking request that comes back at once with nothing new is rate-limited (Consul's advice).
    again(!changed && scheduler.now() - started < 50 ? 100 : 0)
  }
  void step()
  return () => {
    stopped = true
    timer?.()
    controller.abort()
  }
}
