import { Activity } from '../core/activity.js'
import { type Scheduler, systemScheduler } from '../core/clock.js'
import type { Random } from '../core/random.js'
import type { Var } from '../core/var.js'
import { Addr } from '../naming/addr.js'
import { Address, type Metadata } from '../naming/address.js'
import type { Name } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import {
  blockingLoop,
  ConsulApiError,
  type ConsulBackoff,
  type ConsulClient,
  type ConsulConsistency,
  consulClient,
} from './consul-api.js'
import { changesOnly, liveLookup } from './live.js'

/**
 * A Consul health status, worst last: an instance's status is its worst check's.
 *
 * @example
 * ```ts
 * consulNamer({ useHealthCheck: true, healthStatuses: ['passing', 'warning'] as ConsulHealthStatus[] })
 * ```
 */
export type ConsulHealthStatus = 'passing' | 'warning' | 'critical' | 'maintenance'

/**
 * Options of `consulNamer` (linkerd's `io.l5d.consul`).
 *
 * @example
 * ```ts
 * const options: ConsulNamerOptions = { host: '127.0.0.1', includeTag: true, setHost: true }
 * ```
 */
export interface ConsulNamerOptions {
  /** The namer's prefix without `/#` (default `io.l5d.consul`). */
  readonly prefix?: string | undefined
  /** Consul agent host (default `localhost`). */
  readonly host?: string | undefined
  /** Consul agent port (default 8500). */
  readonly port?: number | undefined
  /** Paths name a tag: `/<dc>/<tag>/<service>` (default false: `/<dc>/<service>`). */
  readonly includeTag?: boolean | undefined
  /** Read `/v1/health/service` and keep instances whose status is in `healthStatuses` (default false: the catalog). */
  readonly useHealthCheck?: boolean | undefined
  /** With `useHealthCheck`: the statuses to keep (default `['passing']`). */
  readonly healthStatuses?: readonly ConsulHealthStatus[] | undefined
  /** ACL token. */
  readonly token?: string | undefined
  /** Put `authority = [<tag>.]<service>.service.<dc>.<domain>` in the addr metadata (default false). */
  readonly setHost?: boolean | undefined
  /** Read consistency (default `default`). */
  readonly consistencyMode?: ConsulConsistency | undefined
  /** Use the service's address when it has one, else the node's (default true). */
  readonly preferServiceAddress?: boolean | undefined
  /** Endpoint weights by tag: an address gets the largest weight of its tags listed here, else 1. */
  readonly weights?: readonly { readonly tag: string; readonly weight: number }[] | undefined
  /** Copy node metadata into each address, and the first instance's service metadata into the addr (default false). */
  readonly transferMetadata?: boolean | undefined
  /** The longest a blocking query waits (default 10 minutes, Consul's cap). */
  readonly waitMs?: number | undefined
  /** Backoff after a failed request (default 10 ms doubling to 5 s, jittered). */
  readonly backoff?: ConsulBackoff | undefined
  /** Speak HTTPS to the agent (default false). */
  readonly secure?: boolean | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  /** Where `lookups`, `updates` and `errors` are counted. */
  readonly stats?: StatsReceiver | undefined
  /** Told of every failed Consul request (names keep their last good addresses meanwhile). */
  readonly onError?: ((error: ConsulApiError) => void) | undefined
  /** A client to use instead of loading the `consul` package (tests, custom transports). */
  readonly client?: ConsulClient | undefined
}

/**
 * A `consulNamer`: a namer that can be closed.
 *
 * @example
 * ```ts
 * const consul: ConsulNamer = consulNamer(); consul.prefix.show() // '/#/io.l5d.consul'
 * ```
 */
export interface ConsulNamer extends Namer {
  /** `/#/<prefix>`. */
  readonly prefix: Path
  /** Stops every blocking query and closes the client's connections. */
  close(): void
}

const RANK: Record<ConsulHealthStatus, number> = { passing: 0, warning: 1, critical: 2, maintenance: 3 }

const str = (u: unknown): string | undefined => (typeof u === 'string' ? u : undefined)
const obj = (u: unknown): Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : {}
const strings = (u: unknown): string[] => (Array.isArray(u) ? u.filter((x) => typeof x === 'string') : [])
const stringMap = (u: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(u)).filter(([, v]) => typeof v === 'string')) as Record<
    string,
    string
  >

/**
 * One service instance as the namer needs it, from either endpoint's JSON.
 *
 * @example
 * ```ts
 * const [i]: ConsulInstance[] = parseConsulInstances(body, true); i?.status // 'passing'
 * ```
 */
export interface ConsulInstance {
  readonly nodeAddress: string | undefined
  readonly serviceAddress: string | undefined
  readonly port: number | undefined
  readonly tags: readonly string[]
  readonly nodeMeta: Readonly<Record<string, string>>
  readonly serviceMeta: Readonly<Record<string, string>>
  /** The worst check status (health endpoint only). */
  readonly status: ConsulHealthStatus | undefined
}

const checkStatus = (check: Record<string, unknown>): ConsulHealthStatus => {
  const id = str(check['CheckID']) ?? ''
  if (id.startsWith('_node_maintenance') || id.startsWith('_service_maintenance')) return 'maintenance'
  const s = str(check['Status'])
  return s === 'passing' || s === 'warning' || s === 'critical' || s === 'maintenance' ? s : 'critical'
}

/**
 * Reads the body of `/v1/health/service/<s>` (`health: true`) or `/v1/catalog/service/<s>`;
 * entries of the wrong shape are skipped.
 *
 * @example
 * ```ts
 * parseConsulInstances([{ Node: { Address: '10.0.0.1' }, Service: { Port: 80, Tags: [] }, Checks: [{ Status: 'passing' }] }], true)
 * ```
 */
export function parseConsulInstances(body: unknown, health: boolean): ConsulInstance[] {
  if (!Array.isArray(body)) return []
  const out: ConsulInstance[] = []
  for (const raw of body) {
    const e = obj(raw)
    if (health) {
      const node = obj(e['Node'])
      const service = obj(e['Service'])
      const checks = Array.isArray(e['Checks']) ? e['Checks'].map(obj) : []
      let status: ConsulHealthStatus = 'passing'
      for (const c of checks) {
        const s = checkStatus(c)
        if (RANK[s] > RANK[status]) status = s
      }
      out.push({
        nodeAddress: str(node['Address']),
        serviceAddress: str(service['Address']),
        port: typeof service['Port'] === 'number' ? service['Port'] : undefined,
        tags: strings(service['Tags']),
        nodeMeta: stringMap(node['Meta']),
        serviceMeta: stringMap(service['Meta']),
        status,
      })
    } else {
      out.push({
        nodeAddress: str(e['Address']),
        serviceAddress: str(e['ServiceAddress']),
        port: typeof e['ServicePort'] === 'number' ? e['ServicePort'] : undefined,
        tags: strings(e['ServiceTags']),
        nodeMeta: stringMap(e['NodeMeta']),
        serviceMeta: stringMap(e['ServiceMeta']),
        status: undefined,
      })
    }
  }
  return out
}

/** What the agent says about itself: its datacenter and DNS domain. */
interface AgentInfo {
  readonly dc: string
  readonly domain: string
}

function agentInfo(body: unknown): AgentInfo {
  const config = obj(obj(body)['Config'])
  const debug = obj(obj(body)['DebugConfig'])
  const dc = str(config['Datacenter'])
  if (!dc) throw new ConsulApiError('GET /v1/agent/self: no Config.Datacenter in the answer')
  const domain = (str(config['Domain']) ?? str(debug['DNSDomain']) ?? 'consul').replace(/^\.+|\.+$/g, '')
  return { dc, domain: domain === '' ? 'consul' : domain }
}

/**
 * linkerd's `io.l5d.consul` namer: `/#/io.l5d.consul/<dc>/<service>[/residual]`, or with
 * `includeTag` `/#/io.l5d.consul/<dc>/<tag>/<service>[/residual]`, binds to the instances of the
 * service in that datacenter (`.local`: the agent's own). Service and tag are lower-cased.
 *
 * Each name is a blocking-query loop on `/v1/catalog/service/<service>` (or `/v1/health/service`
 * with `useHealthCheck`) that runs while the name is in use: a change in Consul is a new address
 * set at once. No instance is `Neg`. A failed request is retried after a jittered backoff; the
 * name keeps its last good addresses meanwhile, and is `Neg` if it never had any (as linkerd).
 *
 * @example
 * ```ts
 * const consul = consulNamer({ host: '127.0.0.1', port: 8500, useHealthCheck: true })
 * // dtab: /svc => /#/io.l5d.consul/dc1;  /svc/web binds to the healthy instances of web in dc1
 * ```
 */
export function consulNamer(options: ConsulNamerOptions = {}): ConsulNamer {
  const label = options.prefix ?? 'io.l5d.consul'
  const prefix = Path.of('#', ...Path.read(label.startsWith('/') ? label : `/${label}`).segments)
  const scheduler = options.scheduler ?? systemScheduler
  const stats = options.stats ?? nullStats
  const lookups = stats.counter('lookups')
  const updates = stats.counter('updates')
  const errors = stats.counter('errors')
  const statuses = new Set<ConsulHealthStatus>(options.healthStatuses ?? ['passing'])
  const onlyPassing = statuses.size === 1 && statuses.has('passing')
  const weights = new Map<string, number>()
  for (const w of options.weights ?? [])
    weights.set(w.tag, Math.max(weights.get(w.tag) ?? -Infinity, w.weight))
  const stops = new Set<() => void>()
  let closed = false

  let client: Promise<ConsulClient> | undefined
  const clientOf = () => {
    client ??= options.client
      ? Promise.resolve(options.client)
      : consulClient(
          { host: options.host, port: options.port, token: options.token, secure: options.secure },
          'the io.l5d.consul namer',
        )
    return client
  }
  // The agent's datacenter and domain, asked once (again after a failure).
  let agent: Promise<AgentInfo> | undefined
  const agentOf = (c: ConsulClient, signal: AbortSignal) => {
    agent ??= c.agentSelf(signal).then(
      (a) => agentInfo(a.body),
      (e) => {
        agent = undefined
        throw e
      },
    )
    return agent
  }

  const toAddr = (
    instances: ConsulInstance[],
    service: string,
    tag: string | undefined,
    info: AgentInfo | undefined,
    dc: string,
  ): Addr => {
    const addresses: Address[] = []
    for (const i of instances) {
      if (options.useHealthCheck && !statuses.has(i.status ?? 'critical')) continue
      const host =
        (options.preferServiceAddress ?? true) && i.serviceAddress ? i.serviceAddress : i.nodeAddress
      if (!host || i.port === undefined || !Number.isInteger(i.port) || i.port < 0 || i.port > 65535) continue
      let weight = 1
      let found = false
      for (const t of i.tags) {
        const w = weights.get(t)
        if (w !== undefined && (!found || w > weight)) {
          weight = w
          found = true
        }
      }
      const meta: Record<string, unknown> = options.transferMetadata ? { ...i.nodeMeta } : {}
      meta[Address.WeightKey] = weight
      addresses.push(Address.inet(host, i.port, meta))
    }
    if (addresses.length === 0) return Addr.Neg
    const addrMeta: Record<string, unknown> = {}
    if (options.setHost)
      addrMeta['authority'] = `${tag ? `${tag}.` : ''}${service}.service.${dc}.${info?.domain ?? 'consul'}`
    if (options.transferMetadata && instances[0]) Object.assign(addrMeta, instances[0].serviceMeta)
    return Addr.bound(addresses, addrMeta as Metadata)
  }

  const addrOf = (dcLabel: string, service: string, tag: string | undefined): Var<Addr> => {
    let good = false
    return changesOnly(Addr.Pending, (update) => {
      let stopLoop: (() => void) | undefined
      let stopped = false
      const loopWith = (c: ConsulClient) => {
        let info: AgentInfo | undefined
        stopLoop = blockingLoop<unknown>({
          scheduler,
          random: options.random,
          backoff: options.backoff,
          request: async (index, signal) => {
            let dc = dcLabel
            if (dcLabel === '.local' || options.setHost) {
              info = await agentOf(c, signal)
              if (dcLabel === '.local') dc = info.dc
            }
            const q = { dc, tag, index, waitMs: options.waitMs, consistency: options.consistencyMode }
            const answer = options.useHealthCheck
              ? await c.healthService(service, { ...q, passing: onlyPassing }, signal)
              : await c.catalogService(service, q, signal)
            return { ...answer, body: { dc, body: answer.body } }
          },
          onAnswer: (answer) => {
            const { dc, body } = answer.body as { dc: string; body: unknown }
            updates.incr()
            good = true
            update(
              toAddr(parseConsulInstances(body, options.useHealthCheck ?? false), service, tag, info, dc),
            )
          },
          onError: (error) => {
            errors.incr()
            const e =
              error instanceof ConsulApiError
                ? error
                : new ConsulApiError(`consul: ${(error as Error).message}`, undefined, { cause: error })
            options.onError?.(e)
            // linkerd: a name that never resolved is Neg; one that did keeps its addresses.
            if (!good) update(Addr.Neg)
          },
        })
      }
      clientOf().then(
        (c) => {
          if (!stopped) loopWith(c)
        },
        (error) => {
          if (!stopped) update(Addr.failed(error))
        },
      )
      const stop = () => {
        stopped = true
        stopLoop?.()
        stops.delete(stop)
      }
      stops.add(stop)
      return stop
    })
  }

  const includeTag = options.includeTag ?? false
  return {
    prefix,
    lookup(path: Path): Activity<NameTree<Name>> {
      lookups.incr()
      const n = includeTag ? 3 : 2
      const segs = path.segments
      if (closed || segs.length < n || segs.slice(0, n).some((s) => s.length === 0))
        return Activity.value(NameTree.Neg)
      const dc = segs[0]!
      const tag = includeTag ? segs[1]!.toLowerCase() : undefined
      const service = segs[n - 1]!.toLowerCase()
      return liveLookup(prefix.concat(path.take(n)), path.drop(n), addrOf(dc, service, tag))
    },
    close() {
      closed = true
      for (const stop of [...stops]) stop()
      void client?.then(
        (c) => {
          if (c !== options.client) c.close()
        },
        () => {}, // the client never loaded: nothing to close (lookups already failed with why)
      )
    },
  }
}
