import { createHash } from 'node:crypto'
import { Activity } from '../../core/activity.js'
import { type Scheduler, systemScheduler } from '../../core/clock.js'
import type { Random } from '../../core/random.js'
import {
  type K8sApi,
  K8sApiError,
  type K8sApiOptions,
  type K8sObject,
  type K8sResponse,
  type K8sSnapshot,
  k8sApi,
  k8sWatchedResource,
} from '../../namers/k8s-api.js'
import { Dentry } from '../../naming/dentry.js'
import { Dtab } from '../../naming/dtab.js'
import { NameTree } from '../../naming/nametree.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { DtabStoreUnavailable, HealthTracker, type StoreHealthReporting } from './health.js'
import { type MirroredValue, NamespaceMirror } from './mirror.js'
import { checkNamespace } from './namespace.js'
import {
  DtabNamespaceDoesNotExist,
  DtabNamespaceExists,
  type DtabStore,
  DtabStoreClosed,
  DtabVersionMismatch,
  type VersionedDtab,
} from './store.js'
import type { Version } from './version.js'

/** The custom resource namerd keeps dtabs in: `l5d.io/v1alpha1`, plural `dtabs`, kind `DTab`. */
export const DTAB_GROUP_VERSION = 'l5d.io/v1alpha1'
/** The annotation holding a dtab namespace that is not a valid Kubernetes object name. */
export const DTAB_NAMESPACE_ANNOTATION = 'l5d.io/namespace'

/** Options of `k8sDtabStore` (namerd's `io.l5d.k8s` storage). */
export interface K8sDtabStoreOptions extends K8sApiOptions {
  /** The Kubernetes namespace the DTab objects live in (default `default`). */
  readonly namespace?: string | undefined
  /** An API connection to share (the store then does not close it). */
  readonly api?: K8sApi | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  readonly stats?: StatsReceiver | undefined
  /** How long a write waits for the first list before failing with `DtabStoreUnavailable` (10 000 ms). */
  readonly timeoutMs?: number | undefined
  /** Told about every failed list or watch. */
  readonly onProblem?: ((message: string) => void) | undefined
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/**
 * The object name a dtab namespace is stored under: the namespace itself when it is a valid
 * Kubernetes object name (as linkerd), else `dtab-` and 40 hex digits of its SHA-256 (the namespace
 * then goes in the `l5d.io/namespace` annotation).
 *
 * @example
 * ```ts
 * dtabObjectName('default')     // 'default'
 * dtabObjectName('with space')  // 'dtab-…' (40 hex digits)
 * ```
 */
export function dtabObjectName(namespace: string): string {
  if (namespace.length <= 253 && DNS1123.test(namespace) && !namespace.startsWith('dtab-')) return namespace
  return `dtab-${createHash('sha256').update(namespace, 'utf8').digest('hex').slice(0, 40)}`
}

/** The version of a DTab object: its resourceVersion as UTF-8 bytes (namerd's `Buf.Utf8`). */
export function k8sVersion(resourceVersion: string): Version {
  return new Uint8Array(Buffer.from(resourceVersion, 'utf8'))
}

function namespaceOf(o: K8sObject): string | undefined {
  return o.metadata?.annotations?.[DTAB_NAMESPACE_ANNOTATION] ?? o.metadata?.name
}

function decode(o: K8sObject): MirroredValue {
  const entries = o['dentries']
  const rv = o.metadata?.resourceVersion ?? ''
  if (entries !== undefined && entries !== null && !Array.isArray(entries))
    return { error: new Error(`DTab ${o.metadata?.name}: dentries is not a list`) }
  try {
    const dentries = ((entries as unknown[] | null | undefined) ?? []).map((e, i) => {
      const d = e as { prefix?: unknown; dst?: unknown }
      if (typeof d?.prefix !== 'string' || typeof d.dst !== 'string')
        throw new Error(`DTab ${o.metadata?.name}: dentries[${i}] needs string prefix and dst`)
      try {
        return Dentry.read(`${d.prefix}=>${d.dst}`)
      } catch (error) {
        throw new Error(
          `DTab ${o.metadata?.name}: dentries[${i}] is not a dentry: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        )
      }
    })
    return { dtab: new Dtab(dentries), version: k8sVersion(rv) }
  } catch (error) {
    return { error }
  }
}

function encode(namespace: string, dtab: Dtab, resourceVersion?: string): K8sObject {
  const name = dtabObjectName(namespace)
  return {
    apiVersion: DTAB_GROUP_VERSION,
    kind: 'DTab',
    metadata: {
      name,
      ...(name === namespace ? {} : { annotations: { [DTAB_NAMESPACE_ANNOTATION]: namespace } }),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    dentries: dtab.entries.map((d) => ({ prefix: d.prefix.show(), dst: NameTree.show(d.dst) })),
  }
}

const orderOf = (rv: string | undefined): bigint | undefined =>
  rv !== undefined && /^\d{1,30}$/.test(rv) ? BigInt(rv) : undefined

/** A `k8sDtabStore`: a `DtabStore` that reports its connection's health (`/admin/ping`). */
export interface K8sDtabStore extends DtabStore, StoreHealthReporting {}

/**
 * namerd's `io.l5d.k8s` dtab store: one `DTab` custom resource (`l5d.io/v1alpha1`, plural `dtabs`)
 * per dtab namespace, named after it, holding `dentries: [{prefix, dst}]`. The version is the
 * object's `metadata.resourceVersion`. One list+watch of every DTab in the Kubernetes namespace
 * feeds every observation; reads keep the last known dtabs while the API server is unreachable.
 * Create = POST (409 → exists); update = PUT with the resourceVersion (409 → version mismatch,
 * 404 → missing); put = GET then PUT with the current resourceVersion, or POST when absent
 * (retried on a race); delete = DELETE (404 → missing).
 *
 * @example
 * ```ts
 * const store = await k8sDtabStore({ host: 'localhost', port: 8001, namespace: 'linkerd' })
 * await store.put('default', Dtab.read('/svc=>/#/io.l5d.k8s/default/http'))
 * ```
 */
export async function k8sDtabStore(options: K8sDtabStoreOptions = {}): Promise<K8sDtabStore> {
  const ns = options.namespace ?? 'default'
  const own = options.api === undefined
  const api = options.api ?? k8sApi(options)
  const scheduler = options.scheduler ?? systemScheduler
  const timeoutMs = options.timeoutMs ?? 10_000
  const stats = options.stats ?? nullStats
  const watchErrors = stats.counter('watch_errors')
  const base = `/apis/${DTAB_GROUP_VERSION}/namespaces/${encodeURIComponent(ns)}/dtabs`
  const mirror = new NamespaceMirror()
  const where = `Kubernetes API ${options.inCluster ? '(in cluster)' : (options.kubeConfigPath ?? `${options.host ?? 'localhost'}:${options.port ?? 8001}`)} namespace ${ns}`
  const tracker = new HealthTracker(scheduler, stats, where, options.onProblem)
  let closed = false
  let localOrder = 0n

  const watched: Activity<K8sSnapshot> = k8sWatchedResource(api, {
    path: base,
    single: false,
    scheduler,
    random: options.random,
    onError: (e) => {
      watchErrors.incr()
      const detail = `${where}: ${e instanceof Error ? e.message : String(e)}`
      // Refused credentials will not fix themselves; anything else is a lost connection.
      if (e instanceof K8sApiError && (e.status === 401 || e.status === 403)) tracker.failed(detail)
      else tracker.lost(detail)
    },
  })
  const stop = watched.observe((s) => {
    if (closed) return
    if (s.kind === 'failed') {
      mirror.fail(new DtabStoreUnavailable(s.error instanceof Error ? s.error.message : String(s.error)))
      return
    }
    if (s.kind !== 'ok') return
    tracker.connected(where)
    const snapshotOrder = orderOf(s.value.resourceVersion) ?? ++localOrder
    const all = new Map<string, { order: bigint; value: MirroredValue }>()
    for (const o of s.value.objects.values()) {
      const name = namespaceOf(o)
      if (name === undefined) continue
      all.set(name, { order: orderOf(o.metadata?.resourceVersion) ?? snapshotOrder, value: decode(o) })
    }
    mirror.resync(snapshotOrder, all)
  })

  const ready = async () => {
    if (closed) throw new DtabStoreClosed()
    await mirror.whenReady(
      scheduler,
      timeoutMs,
      () => new DtabStoreUnavailable(`no answer from the Kubernetes API in ${timeoutMs} ms`),
    )
  }
  const call = async (method: string, path: string, body?: unknown): Promise<K8sResponse> => {
    try {
      return await api.request(method, path, body)
    } catch (error) {
      throw new DtabStoreUnavailable(error instanceof Error ? error.message : String(error), { cause: error })
    }
  }
  const unexpected = (res: K8sResponse, what: string) => {
    const s = res.body as { message?: unknown } | undefined
    const detail = typeof s?.message === 'string' ? s.message : `HTTP ${res.status}`
    return res.status >= 500
      ? new DtabStoreUnavailable(`${what}: ${detail}`)
      : new K8sApiError(res.status, undefined, `${what}: ${detail}`)
  }
  /** A write's result goes into the mirror at once (read-your-writes on this replica). */
  const applied = (namespace: string, res: K8sResponse) => {
    const o = res.body as K8sObject | undefined
    const order = orderOf(o?.metadata?.resourceVersion)
    if (o && order !== undefined) mirror.apply(namespace, order, decode(o))
  }
  const objectPath = (namespace: string) => `${base}/${encodeURIComponent(dtabObjectName(namespace))}`

  const store: K8sDtabStore = {
    get health() {
      return tracker.health
    },
    list: () => mirror.list(),
    observe(namespace) {
      try {
        checkNamespace(namespace)
      } catch (error) {
        return Activity.exception(error)
      }
      return mirror.observe(namespace) as Activity<VersionedDtab | undefined>
    },
    async create(namespace, dtab) {
      checkNamespace(namespace)
      await ready()
      const res = await call('POST', base, encode(namespace, dtab))
      if (res.status === 409) throw new DtabNamespaceExists(namespace)
      if (res.status !== 201 && res.status !== 200) throw unexpected(res, `create ${namespace}`)
      applied(namespace, res)
    },
    async update(namespace, dtab, version) {
      checkNamespace(namespace)
      await ready()
      const rv = Buffer.from(version).toString('utf8')
      if (rv === '' || !/^[\x21-\x7e]+$/.test(rv)) {
        // Kubernetes takes an empty resourceVersion as "no precondition": never send one.
        const res = await call('GET', objectPath(namespace))
        if (res.status === 404) throw new DtabNamespaceDoesNotExist(namespace)
        throw new DtabVersionMismatch(namespace)
      }
      const res = await call('PUT', objectPath(namespace), encode(namespace, dtab, rv))
      if (res.status === 409 || res.status === 422) throw new DtabVersionMismatch(namespace)
      if (res.status === 404) throw new DtabNamespaceDoesNotExist(namespace)
      if (res.status !== 200) throw unexpected(res, `update ${namespace}`)
      applied(namespace, res)
    },
    async put(namespace, dtab) {
      checkNamespace(namespace)
      await ready()
      for (let attempt = 0; attempt < 10; attempt++) {
        const current = await call('GET', objectPath(namespace))
        let res: K8sResponse
        if (current.status === 404) {
          res = await call('POST', base, encode(namespace, dtab))
        } else if (current.status === 200) {
          const rv = (current.body as K8sObject | undefined)?.metadata?.resourceVersion
          res = await call('PUT', objectPath(namespace), encode(namespace, dtab, rv))
        } else throw unexpected(current, `put ${namespace}`)
        if (res.status === 409 || res.status === 404) continue // raced with another writer
        if (res.status !== 200 && res.status !== 201) throw unexpected(res, `put ${namespace}`)
        applied(namespace, res)
        return
      }
      throw new DtabStoreUnavailable(`put ${namespace}: too many concurrent writers`)
    },
    async delete(namespace) {
      checkNamespace(namespace)
      await ready()
      const res = await call('DELETE', objectPath(namespace))
      if (res.status === 404) throw new DtabNamespaceDoesNotExist(namespace)
      if (res.status !== 200 && res.status !== 202) throw unexpected(res, `delete ${namespace}`)
    },
    async close() {
      if (closed) return
      closed = true
      stop()
      tracker.close()
      mirror.fail(new DtabStoreClosed())
      if (own) await api.close()
    },
  }
  return store
}
