import { Activity } from '../core/activity.js'
import { type Clock, systemScheduler } from '../core/clock.js'
import { ServiceClosedError } from '../core/errors.js'
import { type Random, systemRandom } from '../core/random.js'
import { Service } from '../core/service.js'
import { Status } from '../core/status.js'
import type { Disposer, Var } from '../core/var.js'
import { type Counter, nullStats, type StatsReceiver } from '../stats/stats.js'
import { type AddrLike, type EndpointAddress, endpointKey, endpointWeight } from './address.js'
import type { AlgorithmInstance, BalancerAlgorithm, Distributor, PickNode } from './algorithm.js'
import { NoBrokersAvailableError } from './errors.js'
import type { LoadMeter, LoadState } from './load/metric.js'
import { p2c } from './p2c.js'

/**
 * Where a balancer's endpoints come from: a fixed list, or a live `Activity` or `Var` of a list or
 * of an `Addr`-shaped value (naming's `Addr` and a bound `Name`'s `addr` fit). The balancer keeps the
 * last good set while the input is `pending` or `failed`; `neg` empties the set.
 *
 * @example
 * ```ts
 * const fixed: BalancerAddresses<EndpointAddress> = [{ host: '10.0.0.1', port: 80 }]
 * const [live, witness] = Activity.mutable<readonly EndpointAddress[]>()
 * ```
 */
export type BalancerAddresses<A extends EndpointAddress> =
  | readonly A[]
  | Activity<readonly A[]>
  | Activity<AddrLike<A>>
  | Activity<readonly A[] | AddrLike<A>>
  | Var<AddrLike<A>>
  | Var<readonly A[]>

/**
 * The options of `balancer`.
 *
 * @example
 * ```ts
 * const options: BalancerOptions<Request, Response, EndpointAddress> = {
 *   addresses: [{ host: '10.0.0.1', port: 80 }],
 *   connect: (a) => endpoint(a),
 *   algorithm: p2cPeakEwma(),
 *   stats: stats.scope('users'),
 * }
 * ```
 */
export interface BalancerOptions<Req, Rep, A extends EndpointAddress> {
  /** The endpoint set: a list, or an activity that updates it. */
  readonly addresses: BalancerAddresses<A>
  /** Makes the endpoint service for an address (called once per new node). */
  readonly connect: (address: A) => Service<Req, Rep>
  /** The algorithm (default `p2c()`: power of two choices, least loaded). */
  readonly algorithm?: BalancerAlgorithm | undefined
  /** Time for load metrics and aperture (default `systemScheduler`). */
  readonly clock?: Clock | undefined
  /** Randomness for picks (default `systemRandom`). */
  readonly random?: Random | undefined
  /** Where `loadbalancer/*` stats go (default `nullStats`). */
  readonly stats?: StatsReceiver | undefined
}

/**
 * One dispatch to one endpoint: the endpoint's service and address, and `release()` to call once
 * the request is over (success or failure). Peak EWMA measures round-trip time from `acquire()` to
 * `release()`. Releasing twice does nothing.
 *
 * @example
 * ```ts
 * const lease = lb.acquire()
 * try { return await lease.service(req) } finally { lease.release() }
 * ```
 */
export interface Lease<Req, Rep, A extends EndpointAddress = EndpointAddress> {
  readonly service: Service<Req, Rep>
  readonly address: A
  release(): void
}

/**
 * A snapshot of one endpoint as the balancer sees it.
 *
 * @example
 * ```ts
 * for (const e of lb.endpoints()) console.log(e.key, e.status, e.pending, e.load.toFixed(1))
 * ```
 */
export interface EndpointInfo<A extends EndpointAddress = EndpointAddress> {
  readonly address: A
  readonly key: string
  readonly status: Status
  readonly weight: number
  readonly pending: number
  readonly load: number
}

/**
 * A `Service` that spreads requests over a changing set of endpoint services. Also exposes the
 * pick itself (`acquire`) for callers that manage the request's lifetime themselves, such as the
 * simulator or a streaming response.
 *
 * @example
 * ```ts
 * const lb: Balancer<Request, Response> = balancer({ addresses, connect })
 * await lb(request)
 * lb.update([{ host: '10.0.0.3', port: 80 }])
 * lb.size // 1
 * ```
 */
export interface Balancer<Req, Rep, A extends EndpointAddress = EndpointAddress> extends Service<Req, Rep> {
  /** Picks an endpoint and counts a request on it; throws `NoBrokersAvailableError` when empty. */
  acquire(): Lease<Req, Rep, A>
  /** Replaces the endpoint set (what an activity update does). */
  update(addresses: Iterable<A>): void
  /** The current endpoints, in order. */
  endpoints(): EndpointInfo<A>[]
  /** The number of endpoints. */
  readonly size: number
}

// Hot fields first: a pick reads pending, the metric's slot and the service's status.
class Node<Req, Rep, A extends EndpointAddress> implements PickNode, LoadState {
  pending = 0
  metricSlot = 0
  readonly service: Service<Req, Rep>
  readonly meter: LoadMeter
  weight: number
  slot = -1
  mark = 0
  owner: Distributor<Node<Req, Rep, A>> | undefined = undefined
  readonly key: string
  address: A
  readonly token: number
  removed = false
  constructor(key: string, address: A, service: Service<Req, Rep>, meter: LoadMeter, token: number) {
    this.service = service
    this.meter = meter
    this.weight = endpointWeight(address)
    this.key = key
    this.address = address
    this.token = token
    meter.init(this)
  }
  get status(): Status {
    return this.service.status
  }
  load(): number {
    return this.meter.load(this)
  }
}

class NodeLease<Req, Rep, A extends EndpointAddress> implements Lease<Req, Rep, A> {
  private readonly core: BalancerCore<Req, Rep, A>
  private readonly node: Node<Req, Rep, A>
  private readonly stamp: number
  private done = false
  constructor(core: BalancerCore<Req, Rep, A>, node: Node<Req, Rep, A>, stamp: number) {
    this.core = core
    this.node = node
    this.stamp = stamp
  }
  get service(): Service<Req, Rep> {
    return this.node.service
  }
  get address(): A {
    return this.node.address
  }
  release(): void {
    if (this.done) return
    this.done = true
    this.core.release(this.node, this.stamp)
  }
}

interface WeightClass<N extends PickNode> {
  readonly weight: number
  readonly nodes: readonly N[]
  readonly dist: Distributor<N>
}

type ResolutionState = 'pending' | 'ready'

class BalancerCore<Req, Rep, A extends EndpointAddress> {
  private readonly connect: (address: A) => Service<Req, Rep>
  private readonly algorithm: BalancerAlgorithm
  private readonly instance: AlgorithmInstance
  private readonly meter: LoadMeter
  private readonly clock: Clock
  private readonly random: Random
  private nodes: Node<Req, Rep, A>[] = []
  private byKey = new Map<string, Node<Req, Rep, A>>()
  private readonly draining = new Map<string, Node<Req, Rep, A>>()
  private classes: WeightClass<Node<Req, Rep, A>>[] = []
  // Cumulative class selection weights (only used with two or more classes).
  private classCdf: number[] = []
  private readonly gauges: Disposer[] = []
  private readonly panicked: Counter
  private readonly adds: Counter
  private readonly removes: Counter
  private readonly rebuilds: Counter
  private readonly updates: Counter
  private readonly busyWeightClasses: Counter
  private stopWatching: Disposer | undefined
  state: ResolutionState = 'ready'
  private lastError: unknown
  private waiters: Array<() => void> = []
  closed = false

  constructor(options: BalancerOptions<Req, Rep, A>) {
    this.connect = options.connect
    this.algorithm = options.algorithm ?? p2c()
    this.clock = options.clock ?? systemScheduler
    this.random = options.random ?? systemRandom
    const stats = (options.stats ?? nullStats).scope('loadbalancer')
    this.panicked = stats.counter('panicked')
    this.adds = stats.counter('adds')
    this.removes = stats.counter('removes')
    this.rebuilds = stats.counter('rebuilds')
    this.updates = stats.counter('updates')
    this.busyWeightClasses = stats.counter('busy_weight_classes')
    this.meter = this.algorithm.load.create(this.clock)
    this.instance = this.algorithm.instantiate({
      clock: this.clock,
      random: this.random,
      stats,
      p2cZero: stats.counter('p2c/zero'),
    })
    const count = (s: Status) => () => this.nodes.reduce((k, n) => (n.status === s ? k + 1 : k), 0)
    this.gauges.push(
      stats.gauge('size', () => this.nodes.length),
      stats.gauge('available', count('open')),
      stats.gauge('busy', count('busy')),
      stats.gauge('closed', count('closed')),
      stats.gauge('load', () => this.nodes.reduce((sum, n) => sum + n.load(), 0)),
      stats.gauge('meanweight', () =>
        this.nodes.length === 0 ? 0 : this.nodes.reduce((sum, n) => sum + n.weight, 0) / this.nodes.length,
      ),
      stats.gauge('num_weight_classes', () => this.classes.length),
      stats.gauge(`algorithm/${this.algorithm.name}_weighted`, () => 1),
    )
    const input = options.addresses
    if (input instanceof Activity) {
      this.state = 'pending'
      this.stopWatching = (input as Activity<readonly A[] | AddrLike<A>>).observe((s) => {
        if (s.kind === 'ok') this.onValue(s.value)
        else if (s.kind === 'failed') this.onFailure(s.error)
      })
    } else if (Array.isArray(input)) {
      this.update(input as readonly A[])
    } else {
      this.state = 'pending'
      this.stopWatching = (input as Var<readonly A[] | AddrLike<A>>).observe((v) => this.onValue(v))
    }
  }

  private onValue(value: readonly A[] | AddrLike<A>): void {
    if (Array.isArray(value)) {
      this.resolved(value)
      return
    }
    const addr = value as AddrLike<A>
    if (addr.kind === 'bound') this.resolved(addr.addresses)
    else if (addr.kind === 'neg') this.resolved([])
    else if (addr.kind === 'failed') this.onFailure(addr.error ?? addr.cause)
    // pending: keep the last good set
  }

  private resolved(addresses: Iterable<A>): void {
    this.lastError = undefined
    this.update(addresses)
    this.state = 'ready'
    this.wake()
  }

  private onFailure(error: unknown): void {
    // Keep the last good set; remember the failure for requests made before any set arrived.
    this.lastError = error
    this.wake()
  }

  private wake(): void {
    const ws = this.waiters
    this.waiters = []
    for (const w of ws) w()
  }

  /** Resolves once the first set (or a failure) has arrived; rejects if the signal aborts first. */
  whenResolved(signal: AbortSignal | undefined): Promise<void> {
    if (this.state !== 'pending' || this.lastError !== undefined) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== done)
        reject(signal?.reason)
      }
      const done = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(done)
    })
  }

  update(addresses: Iterable<A>): void {
    if (this.closed) return
    this.updates.incr()
    const next: Node<Req, Rep, A>[] = []
    const nextByKey = new Map<string, Node<Req, Rep, A>>()
    let added = 0
    let reweighted = false
    for (const address of addresses) {
      const key = endpointKey(address)
      if (nextByKey.has(key)) continue
      let node = this.byKey.get(key)
      if (node === undefined) {
        node = this.draining.get(key)
        if (node !== undefined) {
          // Removed and added back before its last request finished: it keeps its state.
          this.draining.delete(key)
          node.removed = false
        } else node = this.newNode(key, address)
        added++
      }
      const weight = endpointWeight(address)
      if (weight !== node.weight) reweighted = true
      node.address = address
      node.weight = weight
      next.push(node)
      nextByKey.set(key, node)
    }
    let removed = 0
    for (const [key, node] of this.byKey) {
      if (nextByKey.has(key)) continue
      removed++
      this.retire(node)
    }
    this.nodes = next
    this.byKey = nextByKey
    this.adds.incr(added)
    this.removes.incr(removed)
    if (added > 0 || removed > 0 || reweighted || this.classes.length === 0) this.rebuild()
  }

  private newNode(key: string, address: A): Node<Req, Rep, A> {
    let service: Service<Req, Rep>
    try {
      service = this.connect(address)
    } catch (error) {
      // A factory that throws gives a node that is closed (skipped while others are open) and fails.
      service = Service.of<Req, Rep>(() => Promise.reject(error), { status: () => 'closed' })
    }
    return new Node(key, address, service, this.meter, this.random.int(2 ** 32))
  }

  private retire(node: Node<Req, Rep, A>): void {
    node.removed = true
    node.owner = undefined
    if (node.pending === 0) this.dispose(node)
    else this.draining.set(node.key, node)
  }

  /** A node leaves for good: close its service, free its metric state. */
  private dispose(node: Node<Req, Rep, A>): void {
    this.meter.dispose(node)
    closeQuietly(node.service)
  }

  private rebuild(): void {
    this.rebuilds.incr()
    for (const n of this.nodes) n.owner = undefined
    if (this.nodes.length === 0) {
      this.classes = []
      this.classCdf = []
      return
    }
    const groups: Node<Req, Rep, A>[][] = []
    const weights: number[] = []
    if (this.algorithm.weighted) {
      groups.push(this.nodes)
      weights.push(1)
    } else {
      const index = new Map<number, number>()
      for (const n of this.nodes) {
        let i = index.get(n.weight)
        if (i === undefined) {
          i = groups.length
          index.set(n.weight, i)
          groups.push([])
          weights.push(n.weight)
        }
        groups[i]!.push(n)
      }
    }
    this.classes = groups.map((nodes, i) => {
      const dist = this.instance.build(nodes)
      for (const n of nodes) n.owner = dist
      return { weight: weights[i]!, nodes, dist }
    })
    // A class is chosen with probability ∝ weight × size; all-zero weights fall back to size.
    let total = 0
    const cdf: number[] = []
    const anyWeight = this.classes.some((c) => c.weight > 0)
    for (const c of this.classes) {
      total += (anyWeight ? c.weight : 1) * c.nodes.length
      cdf.push(total)
    }
    this.classCdf = cdf.map((x) => x / total)
  }

  private chooseClass(): number {
    const u = this.random.next()
    const cdf = this.classCdf
    for (let i = 0; i < cdf.length - 1; i++) if (u < cdf[i]!) return i
    return cdf.length - 1
  }

  private tryPick(dist: Distributor<Node<Req, Rep, A>>): Node<Req, Rep, A> | undefined {
    for (let i = 0; i < this.algorithm.maxEffort; i++) {
      const n = dist.pick()
      if (n.status === 'open') return n
    }
    return undefined
  }

  private healthiest(fallback: Node<Req, Rep, A>): Node<Req, Rep, A> {
    let best = fallback
    for (const n of this.nodes) {
      const st = n.status
      if (st === 'open') return n
      if (st === 'busy' && best.status === 'closed') best = n
    }
    return best
  }

  private pick(): Node<Req, Rep, A> {
    const classes = this.classes
    if (classes.length === 0) {
      const cause = this.lastError
      throw cause === undefined
        ? new NoBrokersAvailableError()
        : new NoBrokersAvailableError('no brokers available: the address set failed to resolve', { cause })
    }
    const c = classes.length === 1 ? 0 : this.chooseClass()
    const dist = classes[c]!.dist
    let node = this.tryPick(dist)
    if (node === undefined && classes.length > 1) {
      // Every try in the chosen class was unhealthy: walk to the next class that has an open node.
      for (let k = 1; k < classes.length && node === undefined; k++) {
        node = this.tryPick(classes[(c + k) % classes.length]!.dist)
        if (node !== undefined) this.busyWeightClasses.incr()
      }
    }
    if (node === undefined) {
      // Panic: nothing healthy within maxEffort. Rebuild (status may have changed) and pick once
      // more, whatever it is. Unlike Finagle, a non-open last pick is swapped for the healthiest node
      // found by a scan, so a closed node is never used while an open one exists (O(n), panics only).
      this.panicked.incr()
      this.rebuild()
      const last = this.classes[Math.min(c, this.classes.length - 1)]!.dist.pick()
      return last.status === 'open' ? last : this.healthiest(last)
    }
    if (this.classes === classes && dist.needsRebuild()) this.rebuild()
    return node
  }

  acquire(): Lease<Req, Rep, A> {
    if (this.closed) throw new ServiceClosedError('balancer is closed')
    const node = this.pick()
    node.pending++
    const stamp = node.meter.start(node)
    node.owner?.acquired?.(node)
    this.instance.started?.()
    return new NodeLease(this, node, stamp)
  }

  release(node: Node<Req, Rep, A>, stamp: number): void {
    node.pending--
    node.meter.end(node, stamp)
    node.owner?.released?.(node)
    this.instance.finished?.()
    if (node.removed && node.pending === 0 && this.draining.get(node.key) === node) {
      this.draining.delete(node.key)
      this.dispose(node)
    }
  }

  dispatch(req: Req, signal: AbortSignal | undefined): Promise<Rep> {
    const lease = this.acquire()
    let rep: Promise<Rep>
    try {
      rep = lease.service(req, signal)
    } catch (error) {
      lease.release()
      throw error
    }
    return rep.then(
      (value) => {
        lease.release()
        return value
      },
      (error: unknown) => {
        lease.release()
        throw error
      },
    )
  }

  status(): Status {
    if (this.state === 'pending' && this.nodes.length === 0) return 'busy'
    return Status.bestOf(this.nodes.map((n) => n.status))
  }

  endpoints(): EndpointInfo<A>[] {
    return this.nodes.map((n) => ({
      address: n.address,
      key: n.key,
      status: n.status,
      weight: n.weight,
      pending: n.pending,
      load: n.load(),
    }))
  }

  get size(): number {
    return this.nodes.length
  }

  async close(): Promise<void> {
    this.closed = true
    this.stopWatching?.()
    this.stopWatching = undefined
    for (const g of this.gauges) g()
    this.instance.close?.()
    const all = [...this.nodes, ...this.draining.values()]
    this.nodes = []
    this.byKey.clear()
    this.draining.clear()
    this.classes = []
    this.wake()
    for (const n of all) this.meter.dispose(n)
    await Promise.all(all.map((n) => n.service.close().catch(() => {})))
  }
}

function closeQuietly(service: { close(): Promise<void> }): void {
  service.close().catch(() => {})
}

/**
 * A load balancer: a `Service` over a dynamic set of endpoint services, one per address, made by
 * `connect`. Each request picks one endpoint with the algorithm (default `p2c()`), trying up to
 * `maxEffort` times for an `open` one and otherwise sending anyway (panic, counted in
 * `loadbalancer/panicked`).
 *
 * When the address set changes, unchanged endpoints keep their load state, new ones join, and removed
 * ones stop receiving requests and are closed once their in-flight requests finish. With an
 * `Activity` input, requests made before the first set arrives wait for it. Stats under
 * `loadbalancer/`: gauges `size`, `available`, `busy`, `closed`, `load`, `meanweight`,
 * `num_weight_classes`, `algorithm/<name>_weighted`; counters `panicked`, `adds`, `removes`,
 * `rebuilds`, `updates`, `p2c/zero`, `busy_weight_classes`.
 *
 * @example
 * ```ts
 * const lb = balancer({
 *   addresses: [{ host: '10.0.0.1', port: 8080 }, { host: '10.0.0.2', port: 8080 }],
 *   connect: (a) => httpEndpoint(a),
 *   algorithm: p2cPeakEwma(),
 * })
 * const rep = await lb(request)
 * await lb.close()
 * ```
 */
export function balancer<Req, Rep, A extends EndpointAddress = EndpointAddress>(
  options: BalancerOptions<Req, Rep, A>,
): Balancer<Req, Rep, A> {
  const core = new BalancerCore(options)
  const service = Service.of<Req, Rep>(
    (req, signal) =>
      core.state === 'pending' && core.size === 0
        ? core.whenResolved(signal).then(() => core.dispatch(req, signal))
        : core.dispatch(req, signal),
    { status: () => core.status(), close: () => core.close() },
  )
  Object.defineProperties(service, {
    acquire: { value: () => core.acquire() },
    update: { value: (addresses: Iterable<A>) => core.update(addresses) },
    endpoints: { value: () => core.endpoints() },
    size: { get: () => core.size, enumerable: true },
  })
  return service as Balancer<Req, Rep, A>
}
