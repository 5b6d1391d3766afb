// namerd's `io.l5d.consul` dtab store: one Consul KV key per namespace, written with
// check-and-set on the key's ModifyIndex and watched with blocking queries.
import { Activity, type ActivityState } from '../../core/activity.js'
import { type Scheduler, systemScheduler } from '../../core/clock.js'
import type { Random } from '../../core/random.js'
import { Var } from '../../core/var.js'
import {
  blockingLoop,
  ConsulApiError,
  type ConsulBackoff,
  type ConsulClient,
  type ConsulConsistency,
  consulClient,
} from '../../namers/consul-api.js'
import { Dtab } from '../../naming/dtab.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { DtabStoreUnavailable, HealthTracker, type StoreHealth, type StoreHealthReporting } from './health.js'
import { checkNamespace, namespaceProblem } from './namespace.js'
import {
  DtabNamespaceDoesNotExist,
  DtabNamespaceExists,
  type DtabStore,
  DtabStoreClosed,
  DtabStoreForbidden,
  DtabVersionMismatch,
  type VersionedDtab,
} from './store.js'
import type { Version } from './version.js'

/**
 * Options of `consulDtabStore`.
 *
 * @example
 * ```ts
 * const options: ConsulDtabStoreOptions = { host: '10.0.0.5', port: 8500, pathPrefix: '/namerd/dtabs', token: 's3cret' }
 * ```
 */
export interface ConsulDtabStoreOptions {
  /** Default `localhost`. */
  readonly host?: string | undefined
  /** Default 8500. */
  readonly port?: number | undefined
  /** KV folder; namespace `ns` is the key `<pathPrefix>/<ns>`. Default `/namerd/dtabs`. */
  readonly pathPrefix?: string | undefined
  /** ACL token, sent as `X-Consul-Token`. */
  readonly token?: string | undefined
  /** Datacenter of the KV store (default: the agent's). */
  readonly datacenter?: string | undefined
  /** Consistency of reads (default `default`). */
  readonly readConsistencyMode?: ConsulConsistency | undefined
  /** The longest a blocking read waits (default 10 minutes, Consul's cap). */
  readonly waitMs?: number | undefined
  /** Backoff after a failed read (default 1 ms doubling to 1 minute, jittered, as namerd). */
  readonly backoff?: ConsulBackoff | undefined
  /** Speak HTTPS to the agent (default false). */
  readonly secure?: boolean | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  /** Where `reads`, `writes` and `errors` are counted. */
  readonly stats?: StatsReceiver | undefined
  /** Told of every failed read (observations keep their last value meanwhile). */
  readonly onProblem?: ((message: string) => void) | undefined
  /** A client to use instead of loading the `consul` package. */
  readonly client?: ConsulClient | undefined
}

/**
 * The version bytes of a Consul index: its decimal digits in ASCII, as namerd's Consul store
 * (index 42 → ETag `NDI=`).
 *
 * @example
 * ```ts
 * Version.toEtag(consulVersion(42n)) // 'NDI='
 * ```
 */
export function consulVersion(index: bigint): Version {
  return new Uint8Array(Buffer.from(index.toString(), 'ascii'))
}

/**
 * The Consul index in a version, or `undefined` when the bytes are not a positive decimal number
 * (such a version matches nothing: HTTP 412).
 *
 * @example
 * ```ts
 * consulVersionOf(consulVersion(42n)) // 42n
 * ```
 */
export function consulVersionOf(version: Version): bigint | undefined {
  const text = Buffer.from(version.buffer, version.byteOffset, version.byteLength).toString('latin1')
  if (!/^[0-9]{1,19}$/.test(text)) return undefined
  const n = BigInt(text)
  return n > 0n ? n : undefined
}

/**
 * A Consul KV-backed `DtabStore` (namerd's `io.l5d.consul` storage).
 *
 * - Namespace `ns` is the key `<pathPrefix>/<ns>` (`/namerd/dtabs/default`), its value the dtab text.
 * - A version is the key's `ModifyIndex` (the `X-Consul-Index` of its read) in decimal digits.
 * - `create` is `PUT ?cas=0` (only if absent); `update` is `PUT ?cas=<version>`: Consul refuses it
 *   atomically when another writer came first (`DtabVersionMismatch`, HTTP 412).
 * - Observations are blocking queries on the key (`?raw&index=`); the list is one on the folder
 *   (`?keys&separator=/`). A failed read is retried after a jittered backoff, without an index;
 *   observations keep their last value meanwhile, and fail only if they never had one.
 * - Writes while Consul is unreachable fail with `DtabStoreUnavailable` (HTTP 503); an ACL refusal
 *   is `DtabStoreForbidden` (HTTP 403).
 *
 * Unlike namerd, namespaces are not limited to `[A-Za-z0-9_-]+`: every name `checkNamespace`
 * accepts is stored (percent-encoded in the URL), as the other stores do.
 *
 * @example
 * ```ts
 * const store = consulDtabStore({ host: '127.0.0.1', port: 8500 })
 * await store.put('default', Dtab.read('/svc=>/#/io.l5d.consul/dc1'))
 * await store.close()
 * ```
 */
export function consulDtabStore(options: ConsulDtabStoreOptions = {}): DtabStore & StoreHealthReporting {
  const folder = (options.pathPrefix ?? '/namerd/dtabs').replace(/^\/+|\/+$/g, '')
  const keyOf = (ns: string) => (folder === '' ? ns : `${folder}/${ns}`)
  const scheduler = options.scheduler ?? systemScheduler
  const stats = options.stats ?? nullStats
  const reads = stats.counter('reads')
  const writes = stats.counter('writes')
  const errors = stats.counter('errors')
  const backoff = options.backoff ?? { minMs: 1, maxMs: 60_000 }
  const dc = options.datacenter
  const stops = new Set<() => void>()
  let closed = false
  const where = `consul ${options.host ?? 'localhost'}:${options.port ?? 8500}`
  // Health follows the last request: an answer is `connected`, a transport failure or a 5xx is
  // `reconnecting` (namerd's /admin/ping then answers 503).
  const tracker = new HealthTracker(scheduler, stats, `${where}: connecting`, options.onProblem)
  const answered = () => tracker.connected(where)
  const failedWith = (error: unknown) => {
    if (error instanceof ConsulApiError && error.status !== undefined && error.status < 500) return
    tracker.lost(`${where}: ${(error as Error).message}`)
  }

  let client: Promise<ConsulClient> | undefined
  const clientOf = () => {
    client ??= options.client
      ? Promise.resolve(options.client)
      : consulClient(
          { host: options.host, port: options.port, token: options.token, secure: options.secure },
          'the io.l5d.consul dtab store',
        )
    return client
  }

  const translate = (namespace: string, error: unknown): unknown => {
    if (closed) return new DtabStoreClosed()
    if (error instanceof ConsulApiError) {
      if (error.status === 403) return new DtabStoreForbidden(namespace, error.message)
      return new DtabStoreUnavailable(error.message, { cause: error })
    }
    return error
  }
  const run = async <T>(namespace: string, f: (c: ConsulClient) => Promise<T>): Promise<T> => {
    if (closed) throw new DtabStoreClosed()
    checkNamespace(namespace)
    const c = await clientOf()
    try {
      const r = await f(c)
      answered()
      return r
    } catch (error) {
      failedWith(error)
      throw translate(namespace, error)
    }
  }

  /** A live value from a blocking loop: the last value is kept through failures. */
  const live = <T>(
    request: (
      c: ConsulClient,
      index: bigint,
      signal: AbortSignal,
    ) => Promise<{ value: T; index: bigint | undefined; status: number }>,
  ): Activity<T> =>
    Activity.of(
      Var.async<ActivityState<T>>({ kind: 'pending' }, (update) => {
        let stopped = false
        let had = false
        let stopLoop: (() => void) | undefined
        const fail = (error: unknown) => {
          if (!stopped && !had) update({ kind: 'failed', error })
        }
        clientOf().then((c) => {
          if (stopped) return
          stopLoop = blockingLoop<{ value: T } | { error: unknown }>({
            scheduler,
            random: options.random,
            backoff,
            request: async (index, signal) => {
              const r = await request(c, index, signal)
              return { status: r.status, index: r.index, body: { value: r.value } }
            },
            onAnswer: (a) => {
              reads.incr()
              answered()
              const body = a.body as { value: T }
              had = true
              update({ kind: 'ok', value: body.value })
            },
            onError: (error) => {
              errors.incr()
              failedWith(error)
              options.onProblem?.(`consul dtab store: ${(error as Error).message}`)
              fail(new DtabStoreUnavailable((error as Error).message, { cause: error }))
            },
          })
        }, fail)
        const stop = () => {
          stopped = true
          stopLoop?.()
          stops.delete(stop)
        }
        stops.add(stop)
        return stop
      }),
    )

  const read = { dc, consistency: options.readConsistencyMode, waitMs: options.waitMs }

  /** Whether the namespace exists now (a plain read). */
  const exists = async (c: ConsulClient, ns: string) => (await c.kvGetRaw(keyOf(ns), { dc })).status !== 404

  const store: DtabStore & StoreHealthReporting = {
    get health(): Var<StoreHealth> {
      return tracker.health
    },

    list() {
      if (closed) return Activity.exception(new DtabStoreClosed())
      return live<readonly string[]>(async (c, index, signal) => {
        const r = await c.kvKeys(`${folder === '' ? '' : `${folder}/`}`, { ...read, index }, signal)
        const names: string[] = []
        for (const k of Array.isArray(r.body) ? r.body : []) {
          if (typeof k !== 'string') continue
          const ns = folder === '' ? k : k.slice(folder.length + 1)
          // Sub-folders come back as `<folder>/<name>/`; they and names no store accepts are skipped.
          if (ns.includes('/') || namespaceProblem(ns) !== undefined) continue
          names.push(ns)
        }
        return { value: names.sort(), index: r.index, status: r.status }
      })
    },

    observe(namespace) {
      if (closed) return Activity.exception(new DtabStoreClosed())
      try {
        checkNamespace(namespace)
      } catch (error) {
        return Activity.exception(error)
      }
      const inner = live<VersionedDtab | undefined | { error: Error }>(async (c, index, signal) => {
        const r = await c.kvGetRaw(keyOf(namespace), { ...read, index }, signal)
        if (r.status === 404 || r.index === undefined)
          return { value: undefined, index: r.index, status: r.status }
        const text = (r.body ?? Buffer.alloc(0)).toString('utf8')
        const d = Dtab.parse(text)
        const value =
          d._tag === 'Right' ? { dtab: d.right, version: consulVersion(r.index) } : { error: d.left }
        return { value, index: r.index, status: r.status }
      })
      // An unparseable stored dtab fails this namespace's observation (namerd), until it is fixed.
      return Activity.of(
        Var.async<ActivityState<VersionedDtab | undefined>>({ kind: 'pending' }, (update) =>
          inner.observe((s) => {
            if (s.kind === 'ok' && s.value !== undefined && 'error' in s.value)
              update({ kind: 'failed', error: s.value.error })
            else update(s as ActivityState<VersionedDtab | undefined>)
          }),
        ),
      )
    },

    async create(namespace, dtab) {
      const ok = await run(namespace, (c) => c.kvSet(keyOf(namespace), dtab.show(), { cas: 0n, dc }))
      writes.incr()
      if (!ok) throw new DtabNamespaceExists(namespace)
    },

    async update(namespace, dtab, version) {
      const index = consulVersionOf(version)
      await run(namespace, async (c) => {
        const ok = index !== undefined && (await c.kvSet(keyOf(namespace), dtab.show(), { cas: index, dc }))
        writes.incr()
        if (ok) return
        if (!(await exists(c, namespace))) throw new DtabNamespaceDoesNotExist(namespace)
        throw new DtabVersionMismatch(namespace)
      })
    },

    async put(namespace, dtab) {
      await run(namespace, (c) => c.kvSet(keyOf(namespace), dtab.show(), { dc }))
      writes.incr()
    },

    async delete(namespace) {
      await run(namespace, async (c) => {
        if (!(await exists(c, namespace))) throw new DtabNamespaceDoesNotExist(namespace)
        await c.kvDelete(keyOf(namespace), { dc })
        writes.incr()
      })
    },

    async close() {
      if (closed) return
      closed = true
      keepalive()
      tracker.close()
      for (const stop of [...stops]) stop()
      const c = await client?.catch(() => undefined)
      if (c && c !== options.client) c.close()
    },
  }
  // One list watch for the store's life: it keeps the health current even when nobody watches.
  const keepalive = store.list().observe(() => {})
  return store
}
