/**
 * `switchboard/namerd/etcd`: namerd's dtab store on etcd v3 (etcdDtabStore). Needs the optional peer dependency
 * `etcd3` (`npm install etcd3`); without it, importing this subpath rejects with
 * `MissingDependencyError`.
 *
 * @module namerd/etcd
 */
import type { IPolicy } from 'cockatiel'
import type { Etcd3, IKeyValue, IOptions, IWatchResponse, Watcher } from 'etcd3'
import { Activity } from '../../core/activity.js'
import { type Scheduler, systemScheduler } from '../../core/clock.js'
import { importOptional } from '../../core/optional.js'
import type { Random } from '../../core/random.js'
import type { Var } from '../../core/var.js'
import { Dtab } from '../../naming/dtab.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { type BackoffBounds, type ReconnectBackoff, reconnectBackoff } from './backoff.js'
import { DtabStoreUnavailable, HealthTracker, type StoreHealth, type StoreHealthReporting } from './health.js'
import { type MirroredValue, NamespaceMirror } from './mirror.js'
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

// etcd3 is an optional peer dependency: loading this module without it rejects with
// MissingDependencyError ("switchboard/namerd/etcd needs the package "etcd3": npm install etcd3").
const {
  Etcd3: Etcd3Client,
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
} = await importOptional<typeof import('etcd3')>('etcd3', 'switchboard/namerd/etcd')

/**
 * A policy that runs each call once: the store decides what a failure means, so etcd3's own
 * retries and circuit breaker (cockatiel policies, cockatiel being etcd3's dependency, not ours)
 * are replaced by this.
 */
const runOnce = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => T | Promise<T>, signal?: AbortSignal) =>
    Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal })),
  onSuccess: () => ({ dispose: () => {} }),
  onFailure: () => ({ dispose: () => {} }),
} as unknown as IPolicy

/**
 * Client TLS for etcd: PEM bytes, already read from files.
 *
 * @example
 * ```ts
 * const tls: EtcdTlsOptions = { rootCertificate: readFileSync('ca.pem'), serverName: 'etcd.internal' }
 * ```
 */
export interface EtcdTlsOptions {
  /** CA certificates to trust (PEM); the system roots when absent. */
  readonly rootCertificate?: Buffer | undefined
  /** Client certificate chain and key (PEM), for etcd's `--client-cert-auth`. */
  readonly certChain?: Buffer | undefined
  readonly privateKey?: Buffer | undefined
  /** The name to check the server certificate against, when it differs from the host. */
  readonly serverName?: string | undefined
}

/**
 * Options of `etcdDtabStore`.
 *
 * @example
 * ```ts
 * const options: EtcdDtabStoreOptions = { endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'] }
 * ```
 */
export interface EtcdDtabStoreOptions {
  /** etcd client URLs, e.g. `['http://127.0.0.1:2379']` (`https://` with `tls`). */
  readonly endpoints: readonly string[]
  /** Key prefix; namespace `ns` lives at `<pathPrefix>/<ns>`. Default `/namerd/dtabs`. */
  readonly pathPrefix?: string | undefined
  readonly tls?: EtcdTlsOptions | undefined
  /** etcd user and password (etcd's `auth enable`). */
  readonly auth?: { readonly username: string; readonly password: string } | undefined
  /** Deadline of every read and write; past it the write fails with `DtabStoreUnavailable`. Default 5000. */
  readonly requestTimeoutMs?: number | undefined
  /** Delay between reconnection attempts. Default 50 ms to 2 s. */
  readonly reconnect?: BackoffBounds | undefined
  readonly scheduler?: Scheduler | undefined
  /** Told of every change of health (connected, reconnecting, failed), for namerd's log. */
  readonly onProblem?: ((message: string) => void) | undefined
  readonly random?: Random | undefined
  /** Where `connected`, `health`, `reconnects`, `resyncs`, `watch/events` are counted. */
  readonly stats?: StatsReceiver | undefined
}

/**
 * The default etcd key prefix, as namerd's `io.l5d.etcd`.
 *
 * @example
 * ```ts
 * DEFAULT_ETCD_PATH_PREFIX // '/namerd/dtabs': namespace `default` is the key /namerd/dtabs/default
 * ```
 */
export const DEFAULT_ETCD_PATH_PREFIX = '/namerd/dtabs'

/**
 * The ETag bytes of an etcd revision: its ASCII decimal digits, as namerd's etcd store
 * (`42` → `NDI=`).
 *
 * @example
 * ```ts
 * Version.toEtag(etcdVersion(42n)) // 'NDI='
 * ```
 */
export function etcdVersion(revision: bigint): Version {
  return new TextEncoder().encode(revision.toString())
}

/**
 * The revision in an etcd version, or `undefined` when the bytes are not a canonical decimal
 * number (such a version matches nothing: HTTP 412).
 *
 * @example
 * ```ts
 * etcdRevision(etcdVersion(42n)) // 42n
 * etcdRevision(Version.fromEtag('yolo')) // undefined
 * ```
 */
export function etcdRevision(version: Version): bigint | undefined {
  const text = new TextDecoder().decode(version)
  if (!/^(0|[1-9][0-9]{0,18})$/.test(text)) return undefined
  return BigInt(text)
}

function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '')
  return trimmed.startsWith('/') || trimmed === '' ? trimmed : `/${trimmed}`
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function isUnreachable(error: unknown): boolean {
  return error instanceof GRPCUnavailableError || error instanceof GRPCDeadlineExceededError
}

/**
 * An etcd-backed `DtabStore` for running several namerd replicas over one etcd cluster (namerd's
 * `io.l5d.etcd`, over etcd's v3 API).
 *
 * - Namespace `ns` is the key `<pathPrefix>/<ns>`, its value the dtab text.
 * - A version is the key's modification revision as ASCII decimal bytes (`ETag` `NDI=` for 42).
 * - `create`, `update` and `delete` are etcd transactions, so two replicas racing on one namespace
 *   cannot both win: the loser gets `DtabNamespaceExists` or `DtabVersionMismatch`.
 * - One watch on the prefix keeps a mirror of every namespace. After a disconnect it resumes from
 *   the revision after the last event it received, so no update is missed, and events it already
 *   has are dropped, so none is seen twice. If etcd compacted that revision away, the store reads
 *   the whole prefix again and resumes from there.
 * - While etcd is unreachable reads serve the last known dtabs and writes fail with
 *   `DtabStoreUnavailable` (HTTP 503); `health` says which.
 *
 * @example
 * ```ts
 * const store = etcdDtabStore({ endpoints: ['http://127.0.0.1:2379'] })
 * await store.put('default', Dtab.read('/svc=>/#/io.l5d.fs'))
 * store.observe('default').observe((s) => console.log(s))
 * await store.close()
 * ```
 */
export function etcdDtabStore(options: EtcdDtabStoreOptions): DtabStore & StoreHealthReporting {
  return new EtcdDtabStore(options)
}

class EtcdDtabStore implements DtabStore, StoreHealthReporting {
  private readonly client: Etcd3
  private readonly prefix: string
  private readonly mirror = new NamespaceMirror()
  private readonly tracker: HealthTracker
  private readonly scheduler: Scheduler
  private readonly bounds: BackoffBounds
  private readonly random: Random | undefined
  private readonly stats: StatsReceiver
  private readonly endpoints: string
  private watcher: Watcher | undefined
  /** The revision of the last watch event (or full read) taken in: the watch resumes after it. */
  private watchedRevision = 0n
  private backoff: ReconnectBackoff
  private cancelRetry: (() => void) | undefined
  private closed = false
  private readonly timeoutMs: number

  constructor(options: EtcdDtabStoreOptions) {
    this.prefix = normalisePrefix(options.pathPrefix ?? DEFAULT_ETCD_PATH_PREFIX)
    this.scheduler = options.scheduler ?? systemScheduler
    this.bounds = options.reconnect ?? { minMs: 50, maxMs: 2000 }
    this.random = options.random
    this.backoff = reconnectBackoff(this.bounds, this.random)
    this.stats = options.stats ?? nullStats
    this.endpoints = options.endpoints.join(',')
    this.tracker = new HealthTracker(
      this.scheduler,
      this.stats,
      `etcd ${this.endpoints}: connecting`,
      options.onProblem,
    )
    const timeout = options.requestTimeoutMs ?? 5000
    this.timeoutMs = timeout
    const tls = options.tls
    const clientOptions: IOptions = {
      hosts: [...options.endpoints],
      dialTimeout: timeout,
      // Reads and writes get a deadline; the watch stream is long-lived and has none.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
      // The store decides what a failure means (503 to the writer, resume for the watch); etcd3's
      // default retries and circuit breaker would only delay both.
      faultHandling: {
        host: () => runOnce,
        global: runOnce,
        watchBackoff: this.watchBackoff(),
      },
      ...(tls && {
        ...((tls.rootCertificate || tls.certChain) && {
          credentials: {
            // Without a CA of its own, gRPC trusts the system's roots (it takes null for that).
            rootCertificate: tls.rootCertificate ?? (null as unknown as Buffer),
            ...(tls.certChain && { certChain: tls.certChain }),
            ...(tls.privateKey && { privateKey: tls.privateKey }),
          },
        }),
        ...(tls.serverName && {
          grpcOptions: {
            'grpc.ssl_target_name_override': tls.serverName,
            'grpc.default_authority': tls.serverName,
          },
        }),
      }),
      ...(options.auth && { auth: { username: options.auth.username, password: options.auth.password } }),
    }
    this.client = new Etcd3Client(clientOptions)
    this.sync()
  }

  get health(): Var<StoreHealth> {
    return this.tracker.health
  }

  list(): Activity<readonly string[]> {
    return this.mirror.list()
  }

  observe(namespace: string): Activity<VersionedDtab | undefined> {
    try {
      checkNamespace(namespace)
    } catch (error) {
      return Activity.exception(error)
    }
    return this.mirror.observe(namespace)
  }

  async create(namespace: string, dtab: Dtab): Promise<void> {
    const key = this.key(namespace)
    const text = dtab.show()
    const res = await this.call(namespace, () =>
      this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(text)).commit(),
    )
    if (!res.succeeded) throw new DtabNamespaceExists(namespace)
    this.wrote(namespace, BigInt(res.header.revision), dtab)
  }

  async update(namespace: string, dtab: Dtab, version: Version): Promise<void> {
    const key = this.key(namespace)
    const text = dtab.show()
    // A version that is no revision at all compares against -1, which no key has: the transaction
    // then only tells whether the namespace is missing (404) or exists with another version (412).
    const expected = etcdRevision(version) ?? -1n
    const res = await this.call(namespace, () =>
      this.client
        .if(key, 'Create', '>', 0)
        .and(key, 'Mod', '==', expected.toString())
        .then(this.client.put(key).value(text))
        .else(this.client.get(key))
        .commit(),
    )
    if (!res.succeeded) {
      const found = res.responses[0]?.response_range?.kvs.length ?? 0
      throw found === 0 ? new DtabNamespaceDoesNotExist(namespace) : new DtabVersionMismatch(namespace)
    }
    this.wrote(namespace, BigInt(res.header.revision), dtab)
  }

  async put(namespace: string, dtab: Dtab): Promise<void> {
    const key = this.key(namespace)
    const text = dtab.show()
    const res = await this.call(namespace, () => this.client.put(key).value(text).exec())
    this.wrote(namespace, BigInt(res.header.revision), dtab)
  }

  async delete(namespace: string): Promise<void> {
    const key = this.key(namespace)
    const res = await this.call(namespace, () => this.client.delete().key(key).exec())
    if (res.deleted === '0') throw new DtabNamespaceDoesNotExist(namespace)
    this.mirror.apply(namespace, BigInt(res.header.revision), undefined)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.cancelRetry?.()
    const watcher = this.watcher
    this.watcher = undefined
    this.tracker.close()
    this.mirror.fail(new DtabStoreClosed())
    await watcher?.cancel().catch(() => {})
    this.client.close()
  }

  private key(namespace: string): string {
    if (this.closed) throw new DtabStoreClosed()
    return `${this.prefix}/${checkNamespace(namespace)}`
  }

  /** Runs one etcd call and turns its failures into the store's error classes. */
  private async call<T>(namespace: string, run: () => Promise<T>): Promise<T> {
    await this.mirror.whenReady(this.scheduler, this.timeoutMs, () => this.tracker.unavailable())
    try {
      return await run()
    } catch (error) {
      if (this.closed) throw new DtabStoreClosed()
      if (isUnreachable(error)) {
        throw new DtabStoreUnavailable(`etcd ${this.endpoints}: ${describe(error)}`, { cause: error })
      }
      if (error instanceof EtcdPermissionDeniedError || error instanceof EtcdAuthenticationFailedError) {
        throw new DtabStoreForbidden(namespace, `etcd: ${describe(error)}`)
      }
      throw error
    }
  }

  /** Takes a successful write into the mirror at once, so this replica reads its own writes. */
  private wrote(namespace: string, revision: bigint, dtab: Dtab): void {
    this.mirror.apply(namespace, revision, { dtab, version: etcdVersion(revision) })
  }

  private decode(kv: IKeyValue): [string, MirroredValue] | undefined {
    const key = kv.key.toString('utf8')
    const namespace = key.slice(this.prefix.length + 1)
    // Keys under the prefix that are no namespace (nested paths, odd names) are someone else's.
    if (namespaceProblem(namespace) !== undefined) return undefined
    const parsed = Dtab.parse(kv.value.toString('utf8'))
    const version = etcdVersion(BigInt(kv.mod_revision))
    return [namespace, parsed._tag === 'Right' ? { dtab: parsed.right, version } : { error: parsed.left }]
  }

  /** Reads the whole prefix, replaces the mirror with it, then watches from the revision after. */
  private sync(): void {
    if (this.closed) return
    this.client
      .getAll()
      .prefix(`${this.prefix}/`)
      .exec()
      .then((res) => {
        if (this.closed) return
        const revision = BigInt(res.header.revision)
        const all = new Map<string, { order: bigint; value: MirroredValue }>()
        for (const kv of res.kvs) {
          const decoded = this.decode(kv)
          if (decoded) all.set(decoded[0], { order: BigInt(kv.mod_revision), value: decoded[1] })
        }
        this.mirror.resync(revision, all)
        this.stats.counter('resyncs').incr()
        this.watchedRevision = revision
        this.tracker.connected(
          `etcd ${this.endpoints}: watching ${this.prefix}/ from revision ${revision + 1n}`,
        )
        this.watch()
      })
      .catch((error: unknown) => {
        if (this.closed) return
        const detail = `etcd ${this.endpoints}: ${describe(error)}`
        if (error instanceof EtcdAuthenticationFailedError || error instanceof EtcdPermissionDeniedError) {
          this.tracker.failed(detail)
        } else {
          this.tracker.lost(detail)
        }
        this.mirror.fail(new DtabStoreUnavailable(detail, { cause: error }))
        this.retrySync()
      })
  }

  private retrySync(): void {
    const delay = this.backoff.duration
    this.backoff = this.backoff.next()
    this.cancelRetry = this.scheduler.setTimeout(() => {
      this.cancelRetry = undefined
      this.sync()
    }, delay)
  }

  private watch(): void {
    const watcher = this.client
      .watch()
      .prefix(`${this.prefix}/`)
      .startRevision((this.watchedRevision + 1n).toString())
      .watcher()
    const resumeAfterLastEvent = () => {
      // etcd3 resumes from the header revision of the last response, which can run ahead of the
      // events actually delivered (etcd sends its current revision while replaying a backlog in
      // batches); the store keeps its own mark from the events it took in.
      watcher.request.start_revision = (this.watchedRevision + 1n).toString()
    }
    watcher.on('connected', () => {
      resumeAfterLastEvent()
      this.backoff = reconnectBackoff(this.bounds, this.random)
      this.tracker.connected(`etcd ${this.endpoints}: watching ${this.prefix}/`)
    })
    watcher.on('disconnected', (error) => {
      resumeAfterLastEvent()
      this.tracker.lost(`etcd ${this.endpoints}: ${describe(error)}`)
    })
    watcher.on('data', (res: IWatchResponse) => {
      this.take(res)
      resumeAfterLastEvent()
    })
    watcher.on('error', (error) => {
      // The watch was cancelled by etcd: its start revision was compacted away, or we lost the
      // right to read the prefix. Start over with a full read.
      if (this.watcher !== watcher || this.closed) return
      this.watcher = undefined
      this.tracker.lost(`etcd ${this.endpoints}: watch cancelled: ${describe(error)}`)
      watcher.cancel().catch(() => {})
      this.retrySync()
    })
    this.watcher = watcher
  }

  private take(res: IWatchResponse): void {
    if (res.events.length === 0) {
      // A progress notification: etcd has sent every event up to this revision.
      const revision = BigInt(res.header.revision)
      if (revision > this.watchedRevision) this.watchedRevision = revision
      return
    }
    const events = this.stats.counter('watch/events')
    for (const event of res.events) {
      const revision = BigInt(event.kv.mod_revision)
      if (revision > this.watchedRevision) this.watchedRevision = revision
      events.incr()
      if (event.type === 'Delete') {
        const namespace = event.kv.key.toString('utf8').slice(this.prefix.length + 1)
        if (namespaceProblem(namespace) === undefined) this.mirror.apply(namespace, revision, undefined)
      } else {
        const decoded = this.decode(event.kv)
        if (decoded) this.mirror.apply(decoded[0], revision, decoded[1])
      }
    }
  }

  private watchBackoff(): WatchBackoff {
    // etcd3's watch manager asks this for the delay before re-opening its stream.
    return watchBackoffOf(reconnectBackoff(this.bounds, this.random))
  }
}

interface WatchBackoff {
  readonly duration: number
  next(): WatchBackoff
}

function watchBackoffOf(b: ReconnectBackoff): WatchBackoff {
  return { duration: b.duration, next: () => watchBackoffOf(b.next()) }
}
