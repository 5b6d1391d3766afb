import { Activity } from '../core/activity.js'
import type { Scheduler } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import type { Random } from '../core/random.js'
import type { Var } from '../core/var.js'
import { Addr } from '../naming/addr.js'
import { Address } from '../naming/address.js'
import { Name } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import {
  type K8sApi,
  type K8sApiOptions,
  type K8sObject,
  type K8sSnapshot,
  k8sApi,
  k8sWatchedResource,
} from './k8s-api.js'

/** The metadata key of the Kubernetes node an address runs on (linkerd's `Metadata.nodeName`). */
export const NODE_NAME_KEY = 'nodeName'

/** Options of `k8sNamer` and `k8sExternalNamer`. */
export interface K8sNamerOptions extends K8sApiOptions {
  /** The mount prefix without `/#` (default `io.l5d.k8s`, `io.l5d.k8s.external`). */
  readonly prefix?: string | undefined
  /**
   * `io.l5d.k8s` only: a label key; paths then carry a 4th segment, the label's value, and only
   * Endpoints with `<labelSelector>=<value>` count (`/#/io.l5d.k8s/<ns>/<port>/<svc>/<value>`).
   */
  readonly labelSelector?: string | undefined
  /** An API connection to share (the namer then does not close it). */
  readonly api?: K8sApi | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  readonly stats?: StatsReceiver | undefined
  /** Told about every failed list or watch (the last good answer is kept). */
  readonly onError?: ((error: unknown) => void) | undefined
}

/** A Kubernetes namer: a `Namer` with its mount prefix that can be closed. */
export interface K8sNamer extends Namer {
  /** `/#/<prefix>`. */
  readonly prefix: Path
  /** Stops every watch and closes the API connection it opened. */
  close(): Promise<void>
}

interface EndpointAddress {
  readonly ip?: unknown
  readonly nodeName?: unknown
}
interface EndpointSubset {
  readonly addresses?: readonly EndpointAddress[]
  readonly ports?: readonly { readonly name?: unknown; readonly port?: unknown }[]
}
interface ServicePort {
  readonly name?: unknown
  readonly port?: unknown
  readonly targetPort?: unknown
}

function prefixPath(label: string): Path {
  const p = Path.read(label.startsWith('/') ? label : `/${label}`)
  return Path.of('#', ...p.segments)
}

const MAX_CACHED = 1000

/** A bounded map of shared activities (a lookup of a name already watched shares its watch). */
function cache<T>(): (key: string, make: () => Activity<T>) => Activity<T> {
  const m = new Map<string, Activity<T>>()
  return (key, make) => {
    let a = m.get(key)
    if (a) return a
    a = make()
    if (m.size >= MAX_CACHED) m.delete(m.keys().next().value as string)
    m.set(key, a)
    return a
  }
}

function only(s: K8sSnapshot): K8sObject | undefined {
  return s.objects.values().next().value
}

/** The addresses of `endpoints` on `port`: a port name, or a number when `number` is set. */
function endpointAddresses(endpoints: K8sObject, port: string | number): Address[] | undefined {
  const subsets = (endpoints['subsets'] as readonly EndpointSubset[] | undefined) ?? []
  let found = false
  const out: Address[] = []
  for (const s of subsets) {
    let p: number | undefined
    if (typeof port === 'number') p = port
    else {
      const named = (s.ports ?? []).find((x) => x.name === port)
      if (named && typeof named.port === 'number') p = named.port
    }
    if (p === undefined) continue
    found = true
    for (const a of s.addresses ?? []) {
      if (typeof a.ip !== 'string') continue
      try {
        out.push(Address.inet(a.ip, p, typeof a.nodeName === 'string' ? { [NODE_NAME_KEY]: a.nodeName } : {}))
      } catch {
        // An address the server should never send (bad port): skipped.
      }
    }
  }
  return found ? out : undefined
}

/** What a numeric service port maps to on the pods: a port number or a named container port. */
function targetOf(svc: K8sObject, port: number): number | string | undefined {
  const ports = ((svc['spec'] as { ports?: readonly ServicePort[] } | undefined)?.ports ?? []).filter(
    (p) => p.port === port,
  )
  const p = ports[0]
  if (!p) return undefined
  const t = p.targetPort
  if (typeof t === 'number' && t > 0) return t
  if (typeof t === 'string' && t !== '') return /^\d+$/.test(t) ? Number(t) : t
  return port
}

const sameAddrs = (a: Addr, b: Addr) => Addr.equals(a, b)

/**
 * linkerd's `io.l5d.k8s` namer: `/#/io.l5d.k8s/<namespace>/<port>/<service>[/<labelValue>]/residual`
 * binds to the ready addresses of the service's Endpoints on that port, kept live by a list+watch
 * of the Endpoints (resourceVersion, 410 Gone → re-list, jittered reconnection 10 ms → 10 s).
 * `<port>` is a port name (the Endpoints port of that name) or a number (a Service port, mapped
 * through its `targetPort`, the Service being watched too). The first three (four) segments are
 * lower-cased. A missing service or port is `Neg`; each address carries `nodeName` metadata.
 * While the API server is unreachable the last good answer is kept.
 *
 * @example
 * ```ts
 * const k8s = k8sNamer({ host: 'localhost', port: 8001 })
 * const namers = NamerRegistry.create().mount(k8s.prefix, k8s)
 * // dtab: /svc => /#/io.l5d.k8s/default/http
 * ```
 */
export function k8sNamer(options: K8sNamerOptions = {}): K8sNamer {
  const prefix = prefixPath(options.prefix ?? 'io.l5d.k8s')
  const label = options.labelSelector
  if (label !== undefined && (typeof label !== 'string' || label === ''))
    throw new InvalidOptionError('io.l5d.k8s', 'labelSelector', 'a label key', label)
  const own = options.api === undefined
  const api = options.api ?? k8sApi(options)
  const stats = options.stats ?? nullStats
  const lookups = stats.counter('lookups')
  const watchErrors = stats.counter('watch_errors')
  const watchOpts = {
    scheduler: options.scheduler,
    random: options.random,
    onError: (e: unknown) => {
      watchErrors.incr()
      options.onError?.(e)
    },
  }
  const endpointsOf = cache<K8sSnapshot>()
  const servicesOf = cache<K8sSnapshot>()
  const watchEndpoints = (ns: string, svc: string, labelValue: string | undefined) =>
    endpointsOf(`${ns}/${svc}/${labelValue ?? ''}`, () =>
      labelValue === undefined
        ? k8sWatchedResource(api, {
            ...watchOpts,
            path: `/api/v1/namespaces/${encodeURIComponent(ns)}/endpoints/${encodeURIComponent(svc)}`,
            watchPath: `/api/v1/watch/namespaces/${encodeURIComponent(ns)}/endpoints/${encodeURIComponent(svc)}`,
            single: true,
          })
        : k8sWatchedResource(api, {
            ...watchOpts,
            path: `/api/v1/namespaces/${encodeURIComponent(ns)}/endpoints`,
            query: { labelSelector: `${label}=${labelValue}`, fieldSelector: `metadata.name=${svc}` },
            single: false,
          }),
    )
  const watchService = (ns: string, svc: string) =>
    servicesOf(`${ns}/${svc}`, () =>
      k8sWatchedResource(api, {
        ...watchOpts,
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/services/${encodeURIComponent(svc)}`,
        watchPath: `/api/v1/watch/namespaces/${encodeURIComponent(ns)}/services/${encodeURIComponent(svc)}`,
        single: true,
      }),
    )

  const lookup = (path: Path): Activity<NameTree<Name>> => {
    lookups.incr()
    const n = label === undefined ? 3 : 4
    if (path.size < n) return Activity.value(NameTree.Neg)
    const segs = path.take(n).segments.map((s) => s.toLowerCase())
    const [ns, portText, svc, labelValue] = segs as [string, string, string, string | undefined]
    const id = prefix.concat(Path.from(segs))
    const residual = path.drop(n)
    const endpoints = watchEndpoints(ns, svc, labelValue)
    // Where the addresses are, as the current snapshots say (undefined → Neg).
    let resolved: Activity<Address[] | undefined>
    if (/^\d+$/.test(portText)) {
      const port = Number(portText)
      resolved = watchService(ns, svc).flatMap((s) => {
        const svcObj = only(s)
        const target = svcObj ? targetOf(svcObj, port) : undefined
        if (target === undefined) return Activity.value(undefined)
        return endpoints.map((e) => {
          const o = only(e)
          return o ? endpointAddresses(o, target) : undefined
        })
      })
    } else {
      resolved = endpoints.map((e) => {
        const o = only(e)
        return o ? endpointAddresses(o, portText) : undefined
      })
    }
    const addr: Var<Addr> = resolved.states
      .map((s): Addr => {
        if (s.kind === 'pending') return Addr.Pending
        if (s.kind === 'failed') return Addr.failed(s.error)
        return s.value === undefined ? Addr.Neg : Addr.bound(s.value)
      })
      .dedup(sameAddrs)
    const leaf = NameTree.leaf(Name.bound(id, addr, residual))
    // The tree changes only between Neg and the leaf; address changes go through the addr.
    return resolved
      .map((a) => a !== undefined)
      .dedup()
      .map((exists): NameTree<Name> => (exists ? leaf : NameTree.Neg))
  }
  return {
    prefix,
    lookup,
    async close() {
      if (own) await api.close()
    },
  }
}

/**
 * linkerd's `io.l5d.k8s.external` namer: `/#/io.l5d.k8s.external/<namespace>/<port>/<service>`
 * binds to the external addresses of a `LoadBalancer` Service (`status.loadBalancer.ingress` IPs or
 * host names) on the Service port named `<port>` (or numbered). The Service is watched; no
 * Service or no such port → `Neg`; no ingress yet → an empty bound address set.
 *
 * @example
 * ```ts
 * const ext = k8sExternalNamer({ host: 'localhost', port: 8001 })
 * // /#/io.l5d.k8s.external/prod/http/web → 104.155.170.94:80
 * ```
 */
export function k8sExternalNamer(options: Omit<K8sNamerOptions, 'labelSelector'> = {}): K8sNamer {
  const prefix = prefixPath(options.prefix ?? 'io.l5d.k8s.external')
  const own = options.api === undefined
  const api = options.api ?? k8sApi(options)
  const services = cache<K8sSnapshot>()
  return {
    prefix,
    lookup(path) {
      if (path.size < 3) return Activity.value(NameTree.Neg)
      const segs = path.take(3).segments.map((s) => s.toLowerCase())
      const [ns, portText, svc] = segs as [string, string, string]
      const id = prefix.concat(Path.from(segs))
      const watched = services(`${ns}/${svc}`, () =>
        k8sWatchedResource(api, {
          scheduler: options.scheduler,
          random: options.random,
          onError: options.onError,
          path: `/api/v1/namespaces/${encodeURIComponent(ns)}/services/${encodeURIComponent(svc)}`,
          watchPath: `/api/v1/watch/namespaces/${encodeURIComponent(ns)}/services/${encodeURIComponent(svc)}`,
          single: true,
        }),
      )
      const resolved = watched.map((s): Address[] | undefined => {
        const o = only(s)
        if (!o) return undefined
        const ports = (o['spec'] as { ports?: readonly ServicePort[] } | undefined)?.ports ?? []
        const p = /^\d+$/.test(portText)
          ? ports.find((x) => x.port === Number(portText))
          : ports.find((x) => x.name === portText)
        if (!p || typeof p.port !== 'number') return undefined
        const ingress =
          (o['status'] as { loadBalancer?: { ingress?: readonly { ip?: unknown; hostname?: unknown }[] } })
            ?.loadBalancer?.ingress ?? []
        const out: Address[] = []
        for (const i of ingress) {
          const host =
            typeof i.ip === 'string' ? i.ip : typeof i.hostname === 'string' ? i.hostname : undefined
          if (host) out.push(Address.inet(host, p.port))
        }
        return out
      })
      const addr = resolved.states
        .map((s): Addr => {
          if (s.kind === 'pending') return Addr.Pending
          if (s.kind === 'failed') return Addr.failed(s.error)
          return s.value === undefined ? Addr.Neg : Addr.bound(s.value)
        })
        .dedup(sameAddrs)
      const leaf = NameTree.leaf(Name.bound(id, addr, path.drop(3)))
      return resolved
        .map((a) => a !== undefined)
        .dedup()
        .map((exists): NameTree<Name> => (exists ? leaf : NameTree.Neg))
    },
    async close() {
      if (own) await api.close()
    },
  }
}
