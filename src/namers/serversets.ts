// linkerd's `io.l5d.serversets` namer: Finagle serversets in ZooKeeper, watched live.
//
// ZooKeeper is reached through node-zookeeper-client, an optional peer dependency loaded only when a
// serversets name is first looked up, wrapped by namerd's fixed client (`namerd/store/zk-client.ts`,
// also loaded lazily: it is the one ZooKeeper connection code of the package).
import type zookeeper from 'node-zookeeper-client'
import { Activity, type ActivityState } from '../core/activity.js'
import { type Cancel, type Scheduler, systemScheduler } from '../core/clock.js'
import { SwitchboardError } from '../core/errors.js'
import { importOptional } from '../core/optional.js'
import { Var } from '../core/var.js'
import { Addr } from '../naming/addr.js'
import { Address } from '../naming/address.js'
import type { Name } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { changesOnly, liveLookup } from './live.js'

/**
 * Options of `serversetsNamer` (linkerd's `io.l5d.serversets`).
 *
 * @example
 * ```ts
 * const options: ServersetsNamerOptions = { zkAddrs: [{ host: '10.0.0.1', port: 2181 }], sessionTimeoutMs: 10_000 }
 * ```
 */
export interface ServersetsNamerOptions {
  /** The ZooKeeper ensemble (linkerd's `zkAddrs`; port default 2181 in the config). */
  readonly zkAddrs: readonly { readonly host: string; readonly port: number }[]
  /** The namer's prefix without `/#` (default `io.l5d.serversets`). */
  readonly prefix?: string | undefined
  /** Session timeout asked of ZooKeeper (default 10000 ms). */
  readonly sessionTimeoutMs?: number | undefined
  readonly scheduler?: Scheduler | undefined
  /** Where `sessions`, `watch/events`, `member_errors` are counted. */
  readonly stats?: StatsReceiver | undefined
  /** Told of members whose data is not a serverset entry, and of lost sessions. */
  readonly onError?: ((error: ServersetError) => void) | undefined
}

/**
 * A serverset problem: a member znode whose data is not a Finagle `ServiceInstance` JSON entry
 * (the member is left out), or ZooKeeper unreachable (names keep their last members; a name never
 * resolved fails with this error).
 *
 * @example
 * ```ts
 * serversetsNamer({ zkAddrs, onError: (e) => console.error(e.message) })
 * // /discovery/web/member_0000000001: expected a serverset entry with serviceEndpoint {host, port}, ...
 * ```
 */
export class ServersetError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ServersetError', message, options)
  }
}

/**
 * One endpoint of a serverset member: the service endpoint (`name` undefined) or a named one.
 *
 * @example
 * ```ts
 * const ep: ServersetEndpoint = { name: 'admin', host: '10.0.0.1', port: 9990, shard: 0, status: 'ALIVE' }
 * ```
 */
export interface ServersetEndpoint {
  readonly name: string | undefined
  readonly host: string
  readonly port: number
  readonly shard: number | undefined
  readonly status: string
}

const hostPort = (u: unknown): { host: string; port: number } | undefined => {
  if (typeof u !== 'object' || u === null) return undefined
  const { host, port } = u as { host?: unknown; port?: unknown }
  if (typeof host !== 'string' || host.length === 0) return undefined
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return undefined
  return { host, port }
}

/**
 * Parses a serverset member's data, Finagle's `ServiceInstance` JSON:
 * `{"serviceEndpoint": {"host", "port"}, "additionalEndpoints": {"<name>": {"host", "port"}},
 * "status": "ALIVE", "shard": 0}`. Returns every endpoint, or a message saying what is wrong.
 *
 * @example
 * ```ts
 * parseServersetMember('{"serviceEndpoint":{"host":"10.0.0.1","port":8080},"additionalEndpoints":{"admin":{"host":"10.0.0.1","port":9990}},"status":"ALIVE","shard":3}')
 * // [{ name: undefined, host: '10.0.0.1', port: 8080, shard: 3, status: 'ALIVE' }, { name: 'admin', ... }]
 * ```
 */
export function parseServersetMember(text: string): ServersetEndpoint[] | string {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return `expected serverset entry JSON, found invalid JSON (${(e as Error).message})`
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return 'expected a serverset entry object'
  const o = json as Record<string, unknown>
  const status = typeof o['status'] === 'string' ? o['status'] : 'ALIVE'
  const shard = typeof o['shard'] === 'number' && Number.isInteger(o['shard']) ? o['shard'] : undefined
  const out: ServersetEndpoint[] = []
  if (o['serviceEndpoint'] !== undefined && o['serviceEndpoint'] !== null) {
    const main = hostPort(o['serviceEndpoint'])
    if (!main) return 'expected serviceEndpoint to be {"host": <non-empty string>, "port": <0-65535>}'
    out.push({ name: undefined, ...main, shard, status })
  }
  const extra = o['additionalEndpoints']
  if (extra !== undefined && extra !== null) {
    if (typeof extra !== 'object' || Array.isArray(extra))
      return 'expected additionalEndpoints to be an object of name to {"host", "port"}'
    for (const [name, value] of Object.entries(extra)) {
      const hp = hostPort(value)
      if (!hp)
        return `expected additionalEndpoints.${name} to be {"host": <non-empty string>, "port": <0-65535>}`
      out.push({ name, ...hp, shard, status })
    }
  }
  if (out.length === 0) return 'expected serviceEndpoint or additionalEndpoints'
  return out
}

/**
 * A `serversetsNamer`: a namer that can be closed.
 *
 * @example
 * ```ts
 * const ss: ServersetsNamer = serversetsNamer({ zkAddrs: [{ host: '127.0.0.1', port: 2181 }] }); ss.close()
 * ```
 */
export interface ServersetsNamer extends Namer {
  /** `/#/<prefix>`. */
  readonly prefix: Path
  /** Ends the ZooKeeper session and every watch. */
  close(): void
}

type ZkModule = typeof zookeeper
type Client = zookeeper.Client

/** One watched serverset path: its members, kept by watches on one session at a time. */
interface Watch {
  /** Re-reads everything with this client (a new session, or a reconnect). */
  resync(client: Client): void
  /** ZooKeeper cannot be reached (yet), or its client is not installed: a name never resolved fails. */
  unavailable(error: unknown): void
}

class Session {
  private zk: ZkModule | undefined
  private client: Client | undefined
  private closeClient: (() => void) | undefined
  private loading: Promise<void> | undefined
  private loadError: unknown
  private connected = false
  private closed = false
  readonly watches = new Set<Watch>()
  private cancelDeadline: Cancel | undefined
  /** Set while no session could be had in time: names added meanwhile fail at once. */
  private overdue: ServersetError | undefined

  private readonly connectString: string
  private readonly options: ServersetsNamerOptions
  private readonly scheduler: Scheduler
  private readonly stats: StatsReceiver

  constructor(
    connectString: string,
    options: ServersetsNamerOptions,
    scheduler: Scheduler,
    stats: StatsReceiver,
  ) {
    this.connectString = connectString
    this.options = options
    this.scheduler = scheduler
    this.stats = stats
  }

  get module(): ZkModule | undefined {
    return this.zk
  }

  add(watch: Watch): void {
    this.watches.add(watch)
    if (this.loadError !== undefined) {
      watch.unavailable(this.loadError)
      return
    }
    if (this.client && this.connected) watch.resync(this.client)
    else if (this.overdue) watch.unavailable(this.overdue)
    this.start()
  }

  remove(watch: Watch): void {
    this.watches.delete(watch)
  }

  private start(): void {
    if (this.loading || this.closed) return
    this.loading = (async () => {
      try {
        this.zk = (
          await importOptional<{ default: ZkModule }>('node-zookeeper-client', 'the io.l5d.serversets namer')
        ).default
        // namerd's ZooKeeper client wrapper (fixes around node-zookeeper-client's connection manager).
        const { zkClient } = await import('../namerd/store/zk-client.js')
        if (this.closed) return
        this.connect(zkClient)
      } catch (error) {
        // MissingDependencyError when node-zookeeper-client is not installed: names fail with it.
        this.loadError = error
        for (const w of this.watches) w.unavailable(error)
      }
    })()
  }

  private connect(make: typeof import('../namerd/store/zk-client.js').zkClient): void {
    const zk = this.zk!
    const { client, close } = make(this.connectString, {
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      spinDelay: 200,
      retries: 0,
    })
    this.client = client
    this.closeClient = close
    this.connected = false
    this.stats.counter('sessions').incr()
    this.armDeadline()
    client.on('state', (state: zookeeper.State) => {
      if (this.closed || client !== this.client) return
      if (state === zk.State.SYNC_CONNECTED || state === zk.State.CONNECTED_READ_ONLY) {
        this.connected = true
        this.overdue = undefined
        this.cancelDeadline?.()
        for (const w of this.watches) w.resync(client)
      } else if (state === zk.State.DISCONNECTED) {
        this.connected = false
        this.options.onError?.(new ServersetError(`zookeeper ${this.connectString}: disconnected`))
        this.armDeadline()
      } else if (state === zk.State.EXPIRED) {
        this.options.onError?.(
          new ServersetError(`zookeeper ${this.connectString}: session expired, opening a new one`),
        )
        client.removeAllListeners()
        close()
        this.connect(make)
      }
    })
    client.connect()
  }

  /** Names still pending when a session cannot be had in time fail (and recover on connect). */
  private armDeadline(): void {
    this.cancelDeadline?.()
    this.cancelDeadline = this.scheduler.setTimeout(() => {
      if (this.connected || this.closed) return
      const e = new ServersetError(
        `zookeeper ${this.connectString}: not connected after ${this.options.sessionTimeoutMs ?? 10_000} ms`,
      )
      this.overdue = e
      for (const w of this.watches) w.unavailable(e)
    }, this.options.sessionTimeoutMs ?? 10_000)
  }

  close(): void {
    this.closed = true
    this.cancelDeadline?.()
    this.client?.removeAllListeners()
    this.closeClient?.()
    this.watches.clear()
  }
}

const ALIVE = 'ALIVE'

/**
 * linkerd's `io.l5d.serversets` namer (Finagle's `zk2` resolver): `/#/io.l5d.serversets/<zk
 * path…>[/residual]` binds to the `ALIVE` members of the serverset at that ZooKeeper path: every
 * child znode named `member_*`, whose data is a Finagle `ServiceInstance` JSON entry. The service
 * endpoint is used, or with `/#/io.l5d.serversets/<zk path…>:<endpoint>` the additional endpoint of
 * that name. Each address carries the member's `shard` as `shardId` metadata.
 *
 * A path with no such znode or no alive member is looked up again with its last segment moved to
 * the residual (as linkerd), down to a Neg. Members are watched: a member joining, leaving or
 * changing its data changes the addresses at once. While ZooKeeper is unreachable the last members
 * are kept; after a session expiry a new session is opened and every watch re-armed.
 *
 * @example
 * ```ts
 * const ss = serversetsNamer({ zkAddrs: [{ host: '127.0.0.1', port: 2181 }] })
 * // dtab: /s => /#/io.l5d.serversets/discovery/prod;  /s/web binds to the members of /discovery/prod/web
 * ```
 */
export function serversetsNamer(options: ServersetsNamerOptions): ServersetsNamer {
  const label = options.prefix ?? 'io.l5d.serversets'
  const prefix = Path.of('#', ...Path.read(label.startsWith('/') ? label : `/${label}`).segments)
  const scheduler = options.scheduler ?? systemScheduler
  const stats = options.stats ?? nullStats
  const connectString = options.zkAddrs.map((a) => `${a.host}:${a.port}`).join(',')
  const session = new Session(connectString, options, scheduler, stats)
  const memberErrors = stats.counter('member_errors')
  const events = stats.counter('watch/events')
  let closed = false

  /** The live addresses of one serverset path and endpoint name. */
  const addrOf = (zkPath: string, endpoint: string | undefined): Var<Addr> => {
    let resolved = false
    return changesOnly(Addr.Pending, (update) => {
      const members = new Map<string, ServersetEndpoint[] | undefined>()
      let client: Client | undefined
      let generation = 0
      let exists = false
      let stopped = false
      const zk = () => session.module!
      const code = (e: unknown) => (e instanceof zk().Exception ? e.getCode() : undefined)

      const publish = () => {
        if (stopped) return
        if (!exists) {
          resolved = true
          return update(Addr.Neg)
        }
        // Wait until every member is read, so that a first answer is never a partial one.
        for (const m of members.values()) if (m === undefined) return
        const addresses: Address[] = []
        for (const eps of members.values())
          for (const ep of eps ?? [])
            if (ep.name === endpoint && ep.status === ALIVE)
              addresses.push(
                Address.inet(ep.host, ep.port, ep.shard === undefined ? {} : { shardId: ep.shard }),
              )
        resolved = true
        update(addresses.length === 0 ? Addr.Neg : Addr.bound(addresses))
      }

      const childWatcher = () => {
        if (stopped || !client) return
        events.incr()
        readChildren(client, generation)
      }
      const memberWatchers = new Map<string, (event: zookeeper.Event) => void>()
      const memberWatcher = (name: string) => {
        let w = memberWatchers.get(name)
        if (!w) {
          w = (event: zookeeper.Event) => {
            if (stopped || !client) return
            events.incr()
            if (event.getType() === zk().Event.NODE_DELETED) {
              members.delete(name)
              memberWatchers.delete(name)
              publish()
            } else if (members.has(name)) readMember(client, generation, name)
          }
          memberWatchers.set(name, w)
        }
        return w
      }

      const readMember = (c: Client, gen: number, name: string) => {
        c.getData(`${zkPath === '/' ? '' : zkPath}/${name}`, memberWatcher(name), (error, data) => {
          if (stopped || gen !== generation || !members.has(name)) return
          if (error) {
            if (code(error) === zk().Exception.NO_NODE) {
              members.delete(name)
              publish()
            }
            return // connection trouble: the reconnect reads everything again
          }
          const parsed = parseServersetMember((data ?? Buffer.alloc(0)).toString('utf8'))
          if (typeof parsed === 'string') {
            memberErrors.incr()
            options.onError?.(new ServersetError(`${zkPath}/${name}: ${parsed}`))
            members.set(name, [])
          } else members.set(name, parsed)
          publish()
        })
      }

      const readChildren = (c: Client, gen: number) => {
        c.getChildren(zkPath, childWatcher, (error, children) => {
          if (stopped || gen !== generation) return
          if (error) {
            if (code(error) !== zk().Exception.NO_NODE) return
            // No serverset here (yet): Neg, and watch for it to appear.
            exists = false
            members.clear()
            c.exists(zkPath, childWatcher, () => {})
            return publish()
          }
          exists = true
          const now = new Set(children.filter((n) => n.startsWith('member_')))
          for (const name of [...members.keys()]) if (!now.has(name)) members.delete(name)
          const fresh = [...now].filter((n) => !members.has(n))
          for (const name of fresh) members.set(name, undefined)
          if (fresh.length === 0) publish()
          for (const name of fresh) readMember(c, gen, name)
        })
      }

      const watch: Watch = {
        resync(c) {
          if (stopped) return
          client = c
          generation++
          // Read every member again: events may have been lost with the connection.
          for (const name of members.keys()) members.set(name, undefined)
          readChildren(c, generation)
        },
        unavailable(error) {
          if (!stopped && !resolved) update(Addr.failed(error))
        },
      }
      session.add(watch)
      return () => {
        stopped = true
        session.remove(watch)
      }
    })
  }

  // A path segment becomes a znode name: it may not be empty, `.` or `..` or hold a `/`.
  const validSegment = (s: string) => s.length > 0 && s !== '.' && s !== '..' && !s.includes('/')

  /** The lookup of `path` with `residual` after it: the serverset if it has members, else shorter. */
  const bind = (path: Path, residual: Path): Activity<NameTree<Name>> => {
    const segs = path.segments
    if (segs.length === 0 || !segs.every(validSegment)) return Activity.value(NameTree.Neg)
    const last = segs[segs.length - 1]!
    const colon = last.indexOf(':')
    const endpoint = colon >= 0 ? last.slice(colon + 1) : undefined
    const zkSegs = colon >= 0 ? [...segs.slice(0, -1), last.slice(0, colon)] : segs
    if (!zkSegs.every(validSegment)) return Activity.value(NameTree.Neg)
    const addr = addrOf(`/${zkSegs.join('/')}`, endpoint)
    const here = liveLookup(prefix.concat(path), residual, addr)
    const shorter = () => bind(path.take(segs.length - 1), path.drop(segs.length - 1).concat(residual))
    // Follow this path's tree; while it is Neg, follow the shorter path's instead.
    return Activity.of(
      Var.async<ActivityState<NameTree<Name>>>({ kind: 'pending' }, (update) => {
        let inner: (() => void) | undefined
        const outer = here.observe((s) => {
          if (s.kind === 'ok' && s.value.kind === 'neg') {
            if (!inner) inner = shorter().observe(update)
            return
          }
          inner?.()
          inner = undefined
          update(s)
        })
        return () => {
          outer()
          inner?.()
        }
      }),
    )
  }

  return {
    prefix,
    lookup(path) {
      if (closed) return Activity.value(NameTree.Neg)
      return bind(path, Path.empty)
    },
    close() {
      closed = true
      session.close()
    },
  }
}
