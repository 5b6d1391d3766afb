import { balancer } from '../balancer/balancer.js'
import { NoBrokersAvailableError } from '../balancer/errors.js'
import { p2c } from '../balancer/p2c.js'
import type { ActivityState } from '../core/activity.js'
import type { Cancel, Scheduler } from '../core/clock.js'
import { SwitchboardError } from '../core/errors.js'
import { FailureFlags, withFailureFlags } from '../core/failure.js'
import type { Random } from '../core/random.js'
import { Filter, Service } from '../core/service.js'
import type { Disposer } from '../core/var.js'
import type { Deadline } from '../limits/deadline.js'
import { attemptTimeout, totalTimeout } from '../limits/timeout.js'
import { failFast } from '../liveness/fail-fast.js'
import { failureAccrual } from '../liveness/failure-accrual.js'
import { consecutiveFailures } from '../liveness/policy.js'
import type { Address } from '../naming/address.js'
import type { Dtab } from '../naming/dtab.js'
import type { NameInterpreter } from '../naming/interpreter.js'
import type { NameBound } from '../naming/name.js'
import type { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { Backoff } from '../retry/backoff.js'
import { type RetryBudget, retryBudget } from '../retry/budget.js'
import type { ResponseClassifier } from '../retry/classifier.js'
import { requeues } from '../retry/requeues.js'
import { retries } from '../retry/retries.js'
import type { Counter, StatsReceiver } from '../stats/stats.js'
import type { RequestTrace } from '../telemetry/tracing.js'
import { type HttpClassifier, nonRetryable5xx, withL5dRules } from './classifiers.js'
import type { HttpEndpointOptions, HttpResponse } from './endpoint.js'
import type { ClientParams, ServiceParams } from './params.js'
import { L5dHeaders } from './propagation.js'
import { type HttpHeaders, type HttpRequest, isReplayableBody } from './request.js'
import { httpStats, type Usage } from './stats-filter.js'

/**
 * A request on its way through the stack: its logical name's classifier and deadline ride along, and
 * its `headers` object belongs to the stack, which sets the `l5d-dst-client` of each attempt in it
 * (attempts are sequential, never concurrent).
 */
export interface RoutedRequest extends HttpRequest {
  readonly headers: HttpHeaders
  readonly classifier: HttpClassifier
  readonly deadline: Deadline | undefined
  /** The spans of this request, when the client traces. */
  readonly trace?: RequestTrace | undefined
  /** Told which bound name each attempt goes to (see `client.route`). */
  readonly info?: { name?: NameBound } | undefined
}

/**
 * Binding a logical name took longer than `bindingTimeoutMs` (linkerd's `bindingTimeoutMs`, default
 * 10 s): the namers never answered.
 *
 * @example
 * ```ts
 * err instanceof BindingTimeoutError && err.dst // '/svc/users'
 * ```
 */
export class BindingTimeoutError extends SwitchboardError {
  readonly dst: string
  constructor(dst: string, timeoutMs: number) {
    super('BindingTimeout', `Exceeded ${timeoutMs} ms binding timeout while resolving name: ${dst}`)
    this.dst = dst
  }
}

/** What the stacks are built from: shared by every path stack and bound client of one client. */
export interface RouterEnv {
  readonly interpreter: NameInterpreter
  /** The base dtab to show in `NoBrokersAvailable` messages (linkerd's `Dtab.base`). */
  readonly baseDtab: () => Dtab
  readonly clientParams: (id: Path | undefined) => ClientParams
  readonly serviceParams: (dst: Path) => ServiceParams
  readonly stats: StatsReceiver
  readonly scheduler: Scheduler
  readonly random: Random
  readonly bindingTimeoutMs: number
  /** Idle path stacks and bound clients are closed after this long. */
  readonly idleTtlMs: number
  /** Most path stacks kept (least recently used evicted first). Default 1000 (linkerd's). */
  readonly maxPaths?: number | undefined
  /** Most bound clients kept (least recently used evicted first). Default 1000 (linkerd's). */
  readonly maxClients?: number | undefined
  /** Add `l5d-dst-service`, `l5d-dst-client` and `l5d-dst-residual` to requests. */
  readonly dstHeaders: boolean
  /** Makes the service of one endpoint. Default `httpEndpoint`. */
  readonly endpoint: (address: Address, options: HttpEndpointOptions) => Service<HttpRequest, HttpResponse>
}

/** linkerd's default: `p2c` with `maxEffort` 5. */
const DEFAULT_BALANCER = p2c({ maxEffort: 5 })
const classifierOf = (req: RoutedRequest) => req.classifier
const fromRequest: ResponseClassifier<RoutedRequest, HttpResponse> = (rr) => rr.request.classifier(rr)
const discard = (rep: HttpResponse) => rep.body.discard()

/** A request whose body is a stream cannot be sent twice: its failures are flagged `NonRetryable`. */
const oneShotBodies: Filter<RoutedRequest, HttpResponse> = (next) =>
  Service.of(
    (req, signal) =>
      isReplayableBody(req.body)
        ? next(req, signal)
        : next(req, signal).catch((error: unknown) => {
            throw withFailureFlags(error, FailureFlags.NonRetryable)
          }),
    { status: () => next.status, close: () => next.close() },
  )

function statsName(id: unknown): string {
  const text = id instanceof Path ? id.show() : String(id)
  return text.startsWith('/') ? text.slice(1) : text
}

/** One bound name's client: stats, requeues, the balancer, and per endpoint accrual and timeouts. */
class BoundClient {
  readonly usage: Usage = { inflight: 0, lastUsed: 0 }
  /** The router's use count when this was last picked, and when it was (re)queued in the cache. */
  touched = 0
  queued = 0
  /** Set when the cache let go of it (fast paths check it). */
  evicted = false
  /** The residual header, when there is one. */
  readonly residual: string | undefined
  readonly id: string
  readonly service: Service<RoutedRequest, HttpResponse>

  /** Its stats scope's name in the router's registry. */
  readonly statsKey: string

  constructor(
    name: NameBound,
    env: RouterEnv,
    scoped: (kind: 'service' | 'client', name: string) => StatsReceiver,
  ) {
    const id = name.id instanceof Path ? name.id : undefined
    const params = env.clientParams(id)
    this.statsKey = `client/${statsName(name.id)}`
    const stats = scoped('client', statsName(name.id))
    const { scheduler, random } = env
    this.id = name.idStr
    this.residual = name.path.isEmpty ? undefined : name.path.show()
    const accrualPolicy = params.failureAccrual === undefined ? consecutiveFailures(5) : params.failureAccrual
    const attemptMs = params.requestAttemptTimeoutMs
    const pool = params.hostConnectionPool ?? {}
    let size = () => 0
    const connect = (address: Address): Service<RoutedRequest, HttpResponse> => {
      const endpoint = env.endpoint(
        address,
        params.tls ? { ...pool, stats, tls: params.tls } : { ...pool, stats },
      )
      const filters: Filter<RoutedRequest, HttpResponse>[] = []
      if (accrualPolicy !== null)
        filters.push(
          failureAccrual({ policy: accrualPolicy, classifier: fromRequest, scheduler, random, stats }),
        )
      if (params.failFast) filters.push(failFast({ endpointCount: () => size(), scheduler, random, stats }))
      if (attemptMs !== undefined) filters.push(attemptTimeout({ timeoutMs: attemptMs, scheduler, discard }))
      filters.push(oneShotBodies)
      return Filter.chain(...filters)(endpoint as Service<RoutedRequest, HttpResponse>)
    }
    const lb = balancer<RoutedRequest, HttpResponse, Address>({
      addresses: name.addr,
      connect,
      algorithm: params.loadBalancer ?? DEFAULT_BALANCER,
      clock: scheduler,
      random,
      stats,
    })
    size = () => lb.size
    this.service = Filter.chain<RoutedRequest, HttpResponse>(
      httpStats(stats, scheduler, classifierOf, this.usage),
      requeues({
        budget: retryBudget({ ...params.requeueBudget, clock: scheduler }),
        classifier: fromRequest,
        stats,
        scheduler,
      }),
    )(lb)
  }

  close(): Promise<void> {
    return this.service.close()
  }
}

/** Picks the bound name a request goes to: a union branch by weight, an alt's first usable branch. */
export function pickName(tree: NameTree<NameBound>, random: Random): NameBound | undefined {
  switch (tree.kind) {
    case 'leaf':
      return tree.value
    case 'alt':
      for (const t of tree.trees) {
        const n = pickName(t, random)
        if (n) return n
      }
      return undefined
    case 'union': {
      let total = 0
      for (const w of tree.trees) total += w.weight
      if (total <= 0) return pickName(tree.trees[random.int(tree.trees.length)]!.tree, random)
      let x = random.next() * total
      for (const w of tree.trees) {
        x -= w.weight
        if (x < 0) return pickName(w.tree, random)
      }
      return pickName(tree.trees[tree.trees.length - 1]!.tree, random)
    }
    default:
      return undefined
  }
}

/** One logical name under one local dtab: its live binding and the service-level filters. */
class PathStack {
  readonly usage: Usage = { inflight: 0, lastUsed: 0 }
  /** The router's use count when this was last picked, and when it was (re)queued in the cache. */
  touched = 0
  queued = 0
  /** Set when the cache let go of it (fast paths check it). */
  evicted = false
  /** Its key in the router's cache. */
  key = ''
  readonly service: Service<RoutedRequest, HttpResponse>
  readonly classifier: HttpClassifier
  private state: ActivityState<NameTree<NameBound>> = { kind: 'pending' }
  private waiters: (() => void)[] = []
  private readonly stop: Disposer

  readonly dst: Path
  readonly local: Dtab
  private readonly env: RouterEnv
  private readonly clientFor: (name: NameBound) => BoundClient

  /** Its stats scope's name in the router's registry (shared by the stacks of one name). */
  readonly statsKey: string

  constructor(
    dst: Path,
    local: Dtab,
    env: RouterEnv,
    clientFor: (name: NameBound) => BoundClient,
    scoped: (kind: 'service' | 'client', name: string) => StatsReceiver,
  ) {
    this.dst = dst
    this.local = local
    this.env = env
    this.clientFor = clientFor
    const params = env.serviceParams(dst)
    this.classifier = withL5dRules(params.responseClassifier ?? nonRetryable5xx)
    this.statsKey = `service/${statsName(dst)}`
    const stats = scoped('service', statsName(dst))
    const { scheduler } = env
    this.stop = env.interpreter.bind(local, dst).observe((s) => {
      this.state = s
      if (s.kind !== 'pending') {
        const ws = this.waiters
        this.waiters = []
        for (const w of ws) w()
      }
    })
    const r = params.retries ?? {}
    const budget =
      r.budget !== undefined && 'tryWithdraw' in r.budget
        ? (r.budget as RetryBudget)
        : retryBudget({ ...r.budget, clock: scheduler })
    const filters: Filter<RoutedRequest, HttpResponse>[] = [
      httpStats(stats, scheduler, classifierOf, this.usage),
    ]
    if (params.totalTimeoutMs !== undefined) {
      filters.push(
        totalTimeout<RoutedRequest, HttpResponse>({
          timeoutMs: params.totalTimeoutMs,
          scheduler,
          deadline: (req) => req.deadline,
          withDeadline: (req, deadline) => {
            req.headers[L5dHeaders.ctxDeadline] = deadline.show()
            return { ...req, deadline }
          },
          discard,
        }),
      )
    }
    filters.push(
      retries<RoutedRequest, HttpResponse>({
        classifier: fromRequest,
        budget,
        backoff: r.backoff ?? Backoff.constant(0),
        maxRetries: r.maxRetries ?? Number.MAX_SAFE_INTEGER,
        canRetry: (req) => isReplayableBody(req.body),
        discard,
        stats,
        scheduler,
      }),
    )
    this.service = Filter.chain(...filters)(
      Service.of((req: RoutedRequest, signal?: AbortSignal) => this.dispatch(req, signal)),
    )
  }

  private async current(signal: AbortSignal | undefined): Promise<ActivityState<NameTree<NameBound>>> {
    if (this.state.kind !== 'pending') return this.state
    const { scheduler, bindingTimeoutMs } = this.env
    await new Promise<void>((resolve, reject) => {
      let cancel: Cancel = () => {}
      const done = () => {
        cancel()
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        cancel()
        this.waiters = this.waiters.filter((w) => w !== done)
        reject(signal?.reason)
      }
      cancel = scheduler.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done)
        signal?.removeEventListener('abort', onAbort)
        reject(new BindingTimeoutError(this.dst.show(), bindingTimeoutMs))
      }, bindingTimeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(done)
    })
    return this.state
  }

  private async dispatch(req: RoutedRequest, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const state = this.state.kind === 'ok' ? this.state : await this.current(signal)
    if (state.kind === 'failed') throw state.error
    if (state.kind === 'pending') throw new BindingTimeoutError(this.dst.show(), this.env.bindingTimeoutMs)
    const name = pickName(state.value, this.env.random)
    if (name === undefined) {
      throw new NoBrokersAvailableError(
        `No hosts are available for ${this.dst.show()}, Dtab.base=[${this.env.baseDtab().show()}], Dtab.local=[${this.local.show()}]. Remote Info: Not Available`,
      )
    }
    const client = this.clientFor(name)
    req.trace?.bound(client.id)
    if (req.info) req.info.name = name
    if (this.env.dstHeaders) {
      const h = req.headers
      h[L5dHeaders.dstClient] = client.id
      if (client.residual !== undefined) h[L5dHeaders.dstResidual] = client.residual
      else if (h[L5dHeaders.dstResidual] !== undefined) h[L5dHeaders.dstResidual] = []
    }
    return client.service(req, signal)
  }

  close(): Promise<void> {
    this.stop()
    return this.service.close()
  }
}

/**
 * linkerd's `bindingCache` defaults: 1000 path stacks, 1000 bound clients.
 *
 * @example
 * ```ts
 * DEFAULT_BINDING_CACHE.paths // 1000
 * ```
 */
export const DEFAULT_BINDING_CACHE = { paths: 1000, clients: 1000 } as const

interface Cached {
  readonly usage: Usage
  readonly statsKey: string
  touched: number
  queued: number
  evicted: boolean
  close(): Promise<void>
}

/**
 * A bounded cache of closeable entries, least recently used evicted first (second chance: an entry
 * used since it was queued goes to the back instead, so a hit costs a counter increment, not a map
 * reorder). Entries with requests in flight are never evicted; if every entry is busy the cache
 * grows past its cap until some finish.
 */
class LruCache<V extends Cached> {
  readonly map = new Map<string, V>()
  private readonly max: number
  private readonly evicts: Counter
  private readonly evicted: (v: V) => void
  constructor(max: number, evicts: Counter, evicted: (v: V) => void) {
    this.max = max
    this.evicts = evicts
    this.evicted = evicted
  }

  get size(): number {
    return this.map.size
  }

  /** Adds an entry (its `queued` set to `seq`) and evicts the least recently used idle ones over the cap. */
  add(key: string, v: V, seq: number, closing: Promise<void>[]): void {
    v.queued = seq
    v.touched = seq
    this.map.set(key, v)
    // Each entry is looked at most twice (once for its second chance).
    let budget = 2 * this.map.size + 2
    while (this.map.size > this.max && budget-- > 0) {
      const first = this.map.entries().next()
      if (first.done) break
      const [k, e] = first.value
      this.map.delete(k)
      if (e === v || e.touched > e.queued || e.usage.inflight > 0) {
        // used since it was queued (or busy): a second chance at the back
        e.queued = seq
        this.map.set(k, e)
        continue
      }
      e.evicted = true
      this.evicts.incr()
      closing.push(e.close())
      this.evicted(e)
    }
  }

  delete(key: string, v: V): void {
    v.evicted = true
    this.map.delete(key)
  }
}

/**
 * The routing core of a client (linkerd's `DstBindingFactory`): a cache of path stacks, one per
 * logical name and local dtab, each holding a live binding; and a cache of bound clients, one per
 * bound name, shared by every path that binds to it. A dtab or namer change re-binds the path stacks
 * at once, so the next request goes the new way, while requests in flight finish where they are.
 * Both caches are bounded (`maxPaths`, `maxClients`; least recently used evicted first) and entries
 * unused for `idleTtlMs` are closed, so that names seen once (arbitrary `Host` values) cannot grow
 * memory without bound. Counts `bindcache/{path,client}/{misses,evicts}`.
 */
export class Router {
  private readonly paths: LruCache<PathStack>
  private readonly clients: LruCache<BoundClient>
  // Fast paths by object identity: identifiers and interpreters hand out the same objects again.
  private pathsByDst = new WeakMap<Path, PathStack>()
  // ... and by local dtab (header dtabs come from a cache, so a repeated header is the same object).
  private pathsByLocal = new WeakMap<Dtab, WeakMap<Path, PathStack>>()
  private clientsByName = new WeakMap<NameBound, BoundClient>()
  private cancelSweep: Cancel
  private closed = false
  private readonly env: RouterEnv
  /** Counts uses, for the caches' recency. */
  private seq = 0
  private readonly pathMisses: Counter
  private readonly clientMisses: Counter
  /**
   * The stats scope of each name in use (`service/<name>`, `client/<id>`), made on first use and
   * shared by every entry of that name (path stacks of one name under different local dtabs); when
   * the last one is evicted, its stats are removed (if the receiver can), so that names seen once
   * leave nothing behind.
   */
  private readonly nameStats = new Map<string, { stats: StatsReceiver; remove?: () => void; refs: number }>()

  /** `kind` and `name` stay two scope elements (Prometheus labels `service="svc/users"`). */
  private scoped = (kind: 'service' | 'client', name: string): StatsReceiver => {
    const key = `${kind}/${name}`
    let e = this.nameStats.get(key)
    if (!e) {
      const r = this.env.stats.removableScope?.(kind, name)
      e = r
        ? { stats: r, remove: () => r.remove(), refs: 0 }
        : { stats: this.env.stats.scope(kind, name), refs: 0 }
      this.nameStats.set(key, e)
    }
    e.refs++
    return e.stats
  }

  private releaseStats(key: string): void {
    const e = this.nameStats.get(key)
    if (!e) return
    if (--e.refs > 0) return
    this.nameStats.delete(key)
    e.remove?.()
  }

  constructor(env: RouterEnv) {
    this.env = env
    const cache = env.stats.scope('bindcache')
    const release = (e: Cached) => this.releaseStats(e.statsKey)
    this.paths = new LruCache<PathStack>(
      env.maxPaths ?? DEFAULT_BINDING_CACHE.paths,
      cache.counter('path/evicts'),
      release,
    )
    this.clients = new LruCache<BoundClient>(
      env.maxClients ?? DEFAULT_BINDING_CACHE.clients,
      cache.counter('client/evicts'),
      release,
    )
    this.pathMisses = cache.counter('path/misses')
    this.clientMisses = cache.counter('client/misses')
    this.cancelSweep = this.scheduleSweep()
  }

  private scheduleSweep(): Cancel {
    const every = Math.max(1000, Math.min(this.env.idleTtlMs, 60_000))
    return this.env.scheduler.setTimeout(() => {
      void this.sweep()
      if (!this.closed) this.cancelSweep = this.scheduleSweep()
    }, every)
  }

  /** Closes path stacks and bound clients that have been idle for `idleTtlMs`. */
  async sweep(): Promise<void> {
    const now = this.env.scheduler.now()
    const idle = (e: { usage: Usage }) =>
      e.usage.inflight === 0 && now - e.usage.lastUsed >= this.env.idleTtlMs
    const closing: Promise<void>[] = []
    for (const [k, p] of this.paths.map) {
      if (!idle(p)) continue
      this.paths.delete(k, p)
      closing.push(p.close())
      this.releaseStats(p.statsKey)
    }
    for (const [k, c] of this.clients.map) {
      if (!idle(c)) continue
      this.clients.delete(k, c)
      closing.push(c.close())
      this.releaseStats(c.statsKey)
    }
    if (closing.length > 0) {
      this.pathsByDst = new WeakMap()
      this.pathsByLocal = new WeakMap()
      this.clientsByName = new WeakMap()
    }
    await Promise.all(closing.map((p) => p.catch(() => {})))
  }

  private clientFor = (name: NameBound): BoundClient => {
    const known = this.clientsByName.get(name)
    if (known !== undefined && !known.evicted) {
      known.touched = ++this.seq
      return known
    }
    const key = name.idStr
    let c = this.clients.map.get(key)
    if (c) c.touched = ++this.seq
    else {
      this.clientMisses.incr()
      c = new BoundClient(name, this.env, this.scoped)
      c.usage.lastUsed = this.env.scheduler.now()
      const closing: Promise<void>[] = []
      this.clients.add(key, c, ++this.seq, closing)
      settleAll(closing)
    }
    this.clientsByName.set(name, c)
    return c
  }

  /** The path stack of a logical name under a local dtab, made on first use. */
  stack(dst: Path, local: Dtab): PathStack {
    const byDst = local.isEmpty ? this.pathsByDst : this.pathsByLocal.get(local)
    const known = byDst?.get(dst)
    if (known !== undefined && !known.evicted) {
      known.touched = ++this.seq
      return known
    }
    const key = local.isEmpty ? dst.show() : `${dst.show()} ${local.show()}`
    let p = this.paths.map.get(key)
    if (p) p.touched = ++this.seq
    else {
      if (this.closed) throw new SwitchboardError('ClientClosed', 'client is closed')
      this.pathMisses.incr()
      p = new PathStack(dst, local, this.env, this.clientFor, this.scoped)
      p.key = key
      p.usage.lastUsed = this.env.scheduler.now()
      const closing: Promise<void>[] = []
      this.paths.add(key, p, ++this.seq, closing)
      settleAll(closing)
    }
    if (byDst !== undefined) byDst.set(dst, p)
    else {
      const m = new WeakMap<Path, PathStack>()
      m.set(dst, p)
      this.pathsByLocal.set(local, m)
    }
    return p
  }

  /** Sends a request already identified, with its local dtab, through its path stack. */
  route(
    dst: Path,
    local: Dtab,
    build: (classifier: HttpClassifier) => RoutedRequest,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const p = this.stack(dst, local)
    return p.service(build(p.classifier), signal)
  }

  /** The number of path stacks and bound clients held. */
  get size(): { paths: number; clients: number } {
    return { paths: this.paths.size, clients: this.clients.size }
  }

  async close(): Promise<void> {
    this.closed = true
    this.cancelSweep()
    const all: Promise<void>[] = []
    for (const p of this.paths.map.values()) all.push(p.close())
    for (const c of this.clients.map.values()) all.push(c.close())
    this.paths.map.clear()
    this.clients.map.clear()
    await Promise.all(all.map((p) => p.catch(() => {})))
  }
}

/** Lets evicted entries close in the background (their in-flight requests finish first). */
function settleAll(closing: Promise<void>[]): void {
  for (const p of closing) p.catch(() => {})
}
