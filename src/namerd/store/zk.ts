/**
 * `switchboard/namerd/zk`: namerd's dtab store on ZooKeeper (zkDtabStore). Needs the optional peer dependency
 * `node-zookeeper-client` (`npm install node-zookeeper-client`); without it, importing this subpath rejects with
 * `MissingDependencyError`.
 *
 * @module namerd/zk
 */
import type * as Zk from 'node-zookeeper-client'
import { Activity } from '../../core/activity.js'
import { type Scheduler, systemScheduler } from '../../core/clock.js'
import type { Var } from '../../core/var.js'
import { Dtab } from '../../naming/dtab.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { DtabStoreUnavailable, HealthTracker, type StoreHealth, type StoreHealthReporting } from './health.js'
import { type MirroredValue, NamespaceMirror } from './mirror.js'
import { checkNamespace, InvalidDtabNamespace } from './namespace.js'
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
import { zkClient, zookeeper } from './zk-client.js'

/**
 * One ZooKeeper ACL entry: `perms` is a subset of `crwda` (create, read, write, delete, admin).
 *
 * @example
 * ```ts
 * const readOnly: ZkAcl = { scheme: 'world', id: 'anyone', perms: 'r' }
 * ```
 */
export interface ZkAcl {
  readonly scheme: string
  readonly id: string
  readonly perms: string
}

/**
 * Options of `zkDtabStore`.
 *
 * @example
 * ```ts
 * const options: ZkDtabStoreOptions = { zkAddrs: [{ host: '10.0.0.1', port: 2181 }], sessionTimeoutMs: 10_000 }
 * ```
 */
export interface ZkDtabStoreOptions {
  /** ZooKeeper servers. */
  readonly zkAddrs: readonly { readonly host: string; readonly port: number }[]
  /** Parent znode; namespace `ns` is the znode `<pathPrefix>/<ns>`. Default `/dtabs`. */
  readonly pathPrefix?: string | undefined
  /** Session timeout asked of ZooKeeper. Default 10000. */
  readonly sessionTimeoutMs?: number | undefined
  /** Credentials added to every session, e.g. `{ scheme: 'digest', auth: 'user:secret' }`. */
  readonly authInfo?: { readonly scheme: string; readonly auth: string } | undefined
  /** ACLs of the znodes the store creates. Default `world:anyone:crwda`, as namerd's code. */
  readonly acls?: readonly ZkAcl[] | undefined
  /** Deadline of every read and write; past it the write fails with `DtabStoreUnavailable`. Default 5000. */
  readonly requestTimeoutMs?: number | undefined
  readonly scheduler?: Scheduler | undefined
  /** Told of every change of health (connected, reconnecting, failed), for namerd's log. */
  readonly onProblem?: ((message: string) => void) | undefined
  /** Where `connected`, `health`, `reconnects`, `sessions`, `resyncs`, `watch/events` are counted. */
  readonly stats?: StatsReceiver | undefined
}

/**
 * The default parent znode, as namerd's `io.l5d.zk`.
 *
 * @example
 * ```ts
 * DEFAULT_ZK_PATH_PREFIX // '/dtabs': namespace `default` is the znode /dtabs/default
 * ```
 */
export const DEFAULT_ZK_PATH_PREFIX = '/dtabs'

/**
 * The ETag bytes of a znode version: 4 bytes, big-endian, as namerd's ZooKeeper store (version 0 →
 * `AAAAAA==`).
 *
 * @example
 * ```ts
 * Version.toEtag(zkVersion(0)) // 'AAAAAA=='
 * ```
 */
export function zkVersion(version: number): Version {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setInt32(0, version)
  return out
}

/**
 * The znode version in a version's bytes, or `undefined` when they are not 4 bytes of a version
 * ZooKeeper can have (such a version matches nothing: HTTP 412).
 *
 * @example
 * ```ts
 * zkVersionOf(zkVersion(3)) // 3
 * ```
 */
export function zkVersionOf(version: Version): number | undefined {
  if (version.byteLength !== 4) return undefined
  const n = new DataView(version.buffer, version.byteOffset, 4).getInt32(0)
  return n >= 0 ? n : undefined
}

const PERMISSION_BITS: Record<string, number> = {
  c: zookeeper.Permission.CREATE,
  r: zookeeper.Permission.READ,
  w: zookeeper.Permission.WRITE,
  d: zookeeper.Permission.DELETE,
  a: zookeeper.Permission.ADMIN,
}

function toAcl(acl: ZkAcl): Zk.ACL {
  let perms = 0
  for (const p of acl.perms) perms |= PERMISSION_BITS[p] ?? 0
  return new zookeeper.ACL(perms, new zookeeper.Id(acl.scheme, acl.id))
}

// Characters ZooKeeper refuses in a node name beyond those every store refuses (controls, `/`).
const ZK_FORBIDDEN = /[\ud800-\uf8ff\ufff0-\uffff]/

function zkCode(error: unknown): number | undefined {
  return error instanceof zookeeper.Exception ? error.getCode() : undefined
}

function describe(error: unknown): string {
  return error instanceof Error || error instanceof zookeeper.Exception ? error.toString() : String(error)
}

/**
 * A ZooKeeper-backed `DtabStore` for running several namerd replicas over one ZooKeeper ensemble
 * (namerd's `io.l5d.zk`).
 *
 * - Namespace `ns` is the persistent znode `<pathPrefix>/<ns>`, its data the dtab text.
 * - A version is the znode's `stat.version` as 4 big-endian bytes (`AAAAAA==` after create).
 * - `update` is `setData` with the expected version: ZooKeeper refuses it atomically if another
 *   replica wrote first (`DtabVersionMismatch`, HTTP 412).
 * - A children watch on the prefix and a data watch on every namespace keep a mirror of all
 *   namespaces; every watch is re-armed by the read that follows its event. After a reconnect the
 *   store reads everything again, and after a session expiry it opens a new session, re-adds its
 *   credentials and re-arms every watch.
 * - While ZooKeeper is unreachable reads serve the last known dtabs and writes fail with
 *   `DtabStoreUnavailable` (HTTP 503); `health` says which. ZooKeeper `NoAuth` is `DtabStoreForbidden`
 *   (HTTP 403).
 *
 * @example
 * ```ts
 * const store = zkDtabStore({ zkAddrs: [{ host: '127.0.0.1', port: 2181 }] })
 * await store.put('default', Dtab.read('/svc=>/#/io.l5d.fs'))
 * await store.close()
 * ```
 */
export function zkDtabStore(options: ZkDtabStoreOptions): DtabStore & StoreHealthReporting {
  return new ZkDtabStore(options)
}

type Callback<T> = (error: Error | Zk.Exception | null, result: T) => void

class ZkDtabStore implements DtabStore, StoreHealthReporting {
  private readonly prefix: string
  private readonly connectString: string
  private readonly options: ZkDtabStoreOptions
  private readonly mirror = new NamespaceMirror()
  private readonly tracker: HealthTracker
  private readonly scheduler: Scheduler
  private readonly stats: StatsReceiver
  private readonly acls: Zk.ACL[]
  private readonly timeoutMs: number
  private client: Zk.Client
  private closeClient: () => void = () => {}
  /**
   * Responses on one session arrive in the order ZooKeeper applied them, so the arrival count is
   * the order of the mirror's changes; it keeps growing across sessions.
   */
  private arrivals = 0n
  /** Namespaces whose data watch is armed on the current session. */
  private readonly armed = new Set<string>()
  private closed = false
  private readonly cancelStartTimeout: () => void

  constructor(options: ZkDtabStoreOptions) {
    this.options = options
    this.prefix = (options.pathPrefix ?? DEFAULT_ZK_PATH_PREFIX).replace(/\/+$/, '') || '/'
    this.connectString = options.zkAddrs.map((a) => `${a.host}:${a.port}`).join(',')
    this.scheduler = options.scheduler ?? systemScheduler
    this.stats = options.stats ?? nullStats
    this.acls = (options.acls ?? [{ scheme: 'world', id: 'anyone', perms: 'crwda' }]).map(toAcl)
    this.timeoutMs = options.requestTimeoutMs ?? 5000
    this.tracker = new HealthTracker(
      this.scheduler,
      this.stats,
      `zookeeper ${this.connectString}: connecting`,
    )
    this.client = this.connect()
    // Readers should not wait forever for a ZooKeeper that is not there: until the first full read,
    // a slow start fails reads with `DtabStoreUnavailable` (they recover once it is done).
    this.cancelStartTimeout = this.scheduler.setTimeout(() => {
      if (!this.mirror.ready) this.mirror.fail(this.tracker.unavailable())
    }, this.timeoutMs)
  }

  get health(): Var<StoreHealth> {
    return this.tracker.health
  }

  list(): Activity<readonly string[]> {
    return this.mirror.list()
  }

  observe(namespace: string): Activity<VersionedDtab | undefined> {
    try {
      this.check(namespace)
    } catch (error) {
      return Activity.exception(error)
    }
    return this.mirror.observe(namespace)
  }

  async create(namespace: string, dtab: Dtab): Promise<void> {
    const path = this.path(namespace)
    const data = Buffer.from(dtab.show(), 'utf8')
    const client = await this.writable()
    try {
      await this.run<string>(
        namespace,
        client,
        (cb) => client.create(path, data, this.acls, zookeeper.CreateMode.PERSISTENT, cb),
        () => ({ dtab, version: zkVersion(0) }),
      )
    } catch (error) {
      if (error instanceof DtabNamespaceDoesNotExist) {
        // The parent znode is missing (deleted by someone since we started): make it and try again.
        await this.run<string>(namespace, client, (cb) => client.mkdirp(this.prefix, this.acls, cb))
        return this.create(namespace, dtab)
      }
      if (zkCode(error) === zookeeper.Exception.NODE_EXISTS) throw new DtabNamespaceExists(namespace)
      throw error
    }
  }

  async update(namespace: string, dtab: Dtab, version: Version): Promise<void> {
    const path = this.path(namespace)
    const data = Buffer.from(dtab.show(), 'utf8')
    const client = await this.writable()
    // -1 would mean "any version"; a version that is no znode version asks for -2, which ZooKeeper
    // refuses with BadVersion when the node exists and NoNode when it does not.
    const expected = zkVersionOf(version) ?? -2
    try {
      await this.run<Zk.Stat>(
        namespace,
        client,
        (cb) => client.setData(path, data, expected, cb),
        (stat) => ({ dtab, version: zkVersion(stat.version) }),
      )
    } catch (error) {
      if (zkCode(error) === zookeeper.Exception.BAD_VERSION) throw new DtabVersionMismatch(namespace)
      throw error
    }
  }

  async put(namespace: string, dtab: Dtab): Promise<void> {
    const path = this.path(namespace)
    const data = Buffer.from(dtab.show(), 'utf8')
    const client = await this.writable()
    // Set if it exists, else create; a create that loses a race with another replica's create
    // goes back to set. Each round trip is one atomic step, so this ends unless the namespace is
    // created and deleted again between every two of our steps.
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.run<Zk.Stat>(
          namespace,
          client,
          (cb) => client.setData(path, data, -1, cb),
          (stat) => ({ dtab, version: zkVersion(stat.version) }),
        )
        return
      } catch (error) {
        if (!(error instanceof DtabNamespaceDoesNotExist)) throw error
      }
      try {
        await this.create(namespace, dtab)
        return
      } catch (error) {
        if (!(error instanceof DtabNamespaceExists)) throw error
      }
    }
    throw new DtabStoreUnavailable(`zookeeper ${this.connectString}: ${path} kept appearing and disappearing`)
  }

  async delete(namespace: string): Promise<void> {
    const path = this.path(namespace)
    const client = await this.writable()
    await this.run<void>(
      namespace,
      client,
      (cb) => client.remove(path, -1, (e) => cb(e, undefined)),
      () => undefined,
    )
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.cancelStartTimeout()
    this.tracker.close()
    this.mirror.fail(new DtabStoreClosed())
    this.client.removeAllListeners()
    this.closeClient()
  }

  private check(namespace: string): string {
    checkNamespace(namespace)
    const bad = ZK_FORBIDDEN.exec(namespace)
    if (bad) {
      throw new InvalidDtabNamespace(
        namespace,
        `ZooKeeper does not allow U+${bad[0].charCodeAt(0).toString(16).toUpperCase()} (at index ${bad.index}) in node names`,
      )
    }
    return namespace
  }

  private path(namespace: string): string {
    if (this.closed) throw new DtabStoreClosed()
    this.check(namespace)
    return this.prefix === '/' ? `/${namespace}` : `${this.prefix}/${namespace}`
  }

  /**
   * The client to write with once the store is synced, or `DtabStoreUnavailable` at once when it
   * is not connected.
   */
  private async writable(): Promise<Zk.Client> {
    // The client queues requests while disconnected and sends them when it reconnects, which
    // would hold a writer for as long as ZooKeeper is away; fail fast instead.
    const status = this.tracker.status
    if (status !== 'connected' && status !== 'connecting') throw this.tracker.unavailable()
    await this.mirror.whenReady(this.scheduler, this.timeoutMs, () => this.tracker.unavailable())
    return this.client
  }

  private arrive(): bigint {
    this.arrivals += 1n
    return this.arrivals
  }

  /**
   * Runs one ZooKeeper call with the store's deadline, turning its failures into the store's error
   * classes (NoNode → `DtabNamespaceDoesNotExist`, NoAuth → `DtabStoreForbidden`, connection loss,
   * session expiry and timeouts → `DtabStoreUnavailable`); other ZooKeeper errors pass through.
   *
   * A write's result goes into the mirror (`written`) in the callback itself, in arrival order:
   * the client may run the callback of a later watch read in the same turn, before any promise
   * continuation, and that later value must win.
   */
  private run<T>(
    namespace: string,
    client: Zk.Client,
    call: (cb: Callback<T>) => void,
    written?: (result: T) => MirroredValue,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false
      const cancel = this.scheduler.setTimeout(() => {
        if (done) return
        done = true
        reject(new DtabStoreUnavailable(`zookeeper ${this.connectString}: no answer in ${this.timeoutMs} ms`))
      }, this.timeoutMs)
      call((error, result) => {
        if (done) return
        done = true
        cancel()
        if (!error) {
          if (written && client === this.client && !this.closed) {
            this.mirror.apply(namespace, this.arrive(), written(result))
          }
          return resolve(result)
        }
        if (this.closed) return reject(new DtabStoreClosed())
        switch (zkCode(error)) {
          case zookeeper.Exception.NO_NODE:
            return reject(new DtabNamespaceDoesNotExist(namespace))
          case zookeeper.Exception.NO_AUTH:
          case zookeeper.Exception.AUTH_FAILED:
            return reject(new DtabStoreForbidden(namespace, `ZooKeeper ${describe(error)}`))
          case zookeeper.Exception.CONNECTION_LOSS:
          case zookeeper.Exception.SESSION_EXPIRED:
          case zookeeper.Exception.OPERATION_TIMEOUT:
            return reject(new DtabStoreUnavailable(`zookeeper ${this.connectString}: ${describe(error)}`))
          default:
            return reject(error)
        }
      })
    })
  }

  /** Opens a session and wires its state changes to health and resyncs. */
  private connect(): Zk.Client {
    const { client, close } = zkClient(this.connectString, {
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      spinDelay: 200,
      retries: 0,
    })
    this.closeClient = close
    if (this.options.authInfo) {
      client.addAuthInfo(this.options.authInfo.scheme, Buffer.from(this.options.authInfo.auth, 'utf8'))
    }
    this.stats.counter('sessions').incr()
    client.on('state', (state: Zk.State) => {
      if (this.closed || client !== this.client) return
      if (state === zookeeper.State.SYNC_CONNECTED) {
        this.tracker.connected(
          `zookeeper ${this.connectString}: session 0x${client.getSessionId().toString('hex')}`,
        )
        // Watches survive a reconnect within the session, but a full read is cheap and makes the
        // mirror right even if an event was lost with the connection.
        this.resync(client)
      } else if (state === zookeeper.State.DISCONNECTED) {
        this.tracker.lost(`zookeeper ${this.connectString}: disconnected`)
      } else if (state === zookeeper.State.EXPIRED) {
        this.tracker.lost(`zookeeper ${this.connectString}: session expired, opening a new one`)
        client.removeAllListeners()
        this.closeClient()
        this.armed.clear()
        this.client = this.connect()
      } else if (state === zookeeper.State.AUTH_FAILED) {
        this.tracker.failed(`zookeeper ${this.connectString}: authentication failed`)
        this.mirror.fail(new DtabStoreUnavailable(`zookeeper ${this.connectString}: authentication failed`))
      }
    })
    client.connect()
    return client
  }

  /** Makes sure the prefix exists, then reads every namespace with watches. */
  private resync(client: Zk.Client): void {
    const detail = (e: unknown) => `zookeeper ${this.connectString}: reading ${this.prefix}: ${describe(e)}`
    client.mkdirp(this.prefix, this.acls, (error) => {
      if (this.closed || client !== this.client) return
      if (error && zkCode(error) !== zookeeper.Exception.NODE_EXISTS) {
        // Without rights to create the prefix we can still read it if someone else made it.
        if (zkCode(error) !== zookeeper.Exception.NO_AUTH)
          return this.mirror.fail(new DtabStoreUnavailable(detail(error)))
      }
      this.readChildren(client, true)
    })
  }

  /** The one watcher of this store: every event re-reads what changed, which re-arms the watch. */
  private readonly onEvent = (event: Zk.Event) => {
    if (this.closed) return
    this.stats.counter('watch/events').incr()
    const client = this.client
    if (event.getPath() === this.prefix) {
      this.readChildren(client, false)
      return
    }
    const namespace = event.getPath().slice(this.prefix === '/' ? 1 : this.prefix.length + 1)
    this.armed.delete(namespace)
    if (event.getType() === zookeeper.Event.NODE_DELETED)
      this.mirror.apply(namespace, this.arrive(), undefined)
    else this.readData(client, namespace)
  }

  private readChildren(client: Zk.Client, full: boolean): void {
    client.getChildren(this.prefix, this.onEvent, (error, children) => {
      if (this.closed || client !== this.client) return
      const order = this.arrive()
      let names: string[] = children ?? []
      if (error) {
        if (zkCode(error) !== zookeeper.Exception.NO_NODE) {
          // Connection trouble: the reconnect resyncs. Anything else leaves the last picture.
          if (!this.mirror.ready) this.mirror.fail(new DtabStoreUnavailable(describe(error)))
          return
        }
        // The prefix itself is gone: no namespaces. Wait for it to come back.
        names = []
        client.exists(this.prefix, this.onEvent, () => {})
      }
      const valid = names.filter((n) => {
        try {
          this.check(n)
          return true
        } catch {
          return false
        }
      })
      if (full) {
        this.readAll(client, order, valid)
        return
      }
      const present = new Set(valid)
      for (const ns of this.mirror.names()) if (!present.has(ns)) this.mirror.apply(ns, order, undefined)
      // Namespaces with an armed data watch are current; the others (new ones, and ones this
      // replica created itself) need a read, which arms their watch.
      for (const ns of valid) if (!this.armed.has(ns)) this.readData(client, ns)
    })
  }

  private readAll(client: Zk.Client, order: bigint, names: readonly string[]): void {
    const all = new Map<string, { order: bigint; value: MirroredValue }>()
    let left = names.length
    const finish = () => {
      this.mirror.resync(order, all)
      this.stats.counter('resyncs').incr()
    }
    if (left === 0) {
      finish()
      return
    }
    for (const ns of names) {
      this.getData(client, ns, (o, value) => {
        all.set(ns, { order: o, value })
        if (--left === 0) finish()
      })
    }
  }

  private readData(client: Zk.Client, namespace: string): void {
    this.getData(client, namespace, (order, value) => this.mirror.apply(namespace, order, value))
  }

  /**
   * Reads one namespace and arms its data watch. A read lost with the connection reports nothing
   * (the reconnect reads everything again); a read we may not do reports `DtabStoreForbidden`.
   */
  private getData(
    client: Zk.Client,
    namespace: string,
    then: (order: bigint, value: MirroredValue) => void,
  ): void {
    const path = this.prefix === '/' ? `/${namespace}` : `${this.prefix}/${namespace}`
    client.getData(path, this.onEvent, (error, data, stat) => {
      if (this.closed || client !== this.client) return
      const order = this.arrive()
      if (error) {
        const code = zkCode(error)
        if (code === zookeeper.Exception.NO_NODE) return then(order, undefined)
        if (code === zookeeper.Exception.NO_AUTH) {
          return then(order, { error: new DtabStoreForbidden(namespace, `ZooKeeper ${describe(error)}`) })
        }
        return
      }
      this.armed.add(namespace)
      const parsed = Dtab.parse((data ?? Buffer.alloc(0)).toString('utf8'))
      const version = zkVersion(stat.version)
      then(order, parsed._tag === 'Right' ? { dtab: parsed.right, version } : { error: parsed.left })
    })
  }
}
