// The discrete-event engine: virtual time on core's `manualClock`, seeded randomness, and the real
// balancer objects from src/balancer driven through their injected Clock and Random.
//
// Two modes, chosen per scenario:
// - direct: each arrival calls `balancer.acquire()`, the server model says when the request ends, and
//   a clock callback calls `lease.release()` then. No promises, so a 60 000-request run takes tens of
//   milliseconds.
// - service: each arrival calls the client `Service` (the balancer, wrapped by the scenario's client
//   filters) and endpoints are promise-returning `Service`s (wrapped by its endpoint filters). The
//   engine lets promise callbacks run after every event, so filters see the virtual time of the event
//   that settled them. Slower (a few µs per event), used when a scenario wraps anything.
// Both modes make the same picks on the same seed (test/bench/sim.test.ts checks it).
import * as hdr from 'hdr-histogram-js'
import {
  type Balancer,
  type BalancerAlgorithm,
  balancer,
  type EndpointAddress,
  endpointKey,
} from '../../src/balancer/index.js'
import { type ManualClock, manualClock } from '../../src/core/clock.js'
import { type Random, seededRandom } from '../../src/core/random.js'
import { Service } from '../../src/core/service.js'
import { type InMemoryStats, inMemoryStats, nullStats } from '../../src/stats/stats.js'
import { meanOf } from './latency.js'
import { type ServerSpec, SimServer } from './servers.js'

/** A backend address in the simulator: `server` is the index into the scenario's servers. */
export interface SimAddress extends EndpointAddress {
  readonly server: number
}

/** The request a simulated client sends. */
export interface SimRequest {
  readonly id: number
  readonly sentAtMs: number
}

/** What a simulated endpoint answers. */
export interface SimResponse {
  readonly server: number
}

/** How a simulated endpoint fails (a server model's `fails` said so). */
export class SimServerError extends Error {
  readonly server: number
  constructor(server: number) {
    super(`server ${server} failed the request`)
    this.name = 'SimServerError'
    this.server = server
  }
}

/** The open-loop request stream: evenly spaced (Finagle/Buoyant) or Poisson (supermarket). */
export interface Arrivals {
  readonly kind: 'uniform' | 'poisson'
  readonly ratePerSec: number
}

/** Everything a scenario's hooks may use in one run. */
export interface SimEnv {
  readonly clock: ManualClock
  /** A stream of randomness of its own for filters (jitter, budgets), independent of picks. */
  readonly random: Random
  /** Client 0's stats (its balancer's `loadbalancer/*` and whatever the hooks record). */
  readonly stats: InMemoryStats
  readonly servers: readonly SimServer[]
  readonly seed: number
}

/** Counts of one run, handed to a scenario's `report` hook. */
export interface RunCounters {
  /** Requests the clients sent (after warm-up). */
  readonly logical: number
  readonly succeeded: number
  readonly failed: number
  /** Mean latency of the measured requests, ms. */
  readonly meanMs: number
  /** Requests the servers received, retries and requeues included (whole run). */
  readonly serverAdmissions: number
  /** Requests received per server (whole run). */
  readonly perServer: readonly number[]
  /** Distinct (client, server) pairs that carried at least one request: the connections used. */
  readonly connections: number
}

/** One scenario run's shape: servers, load, and optional wrappers (the extension point). */
export interface SimSetup {
  readonly servers: readonly ServerSpec[]
  readonly arrivals: Arrivals
  readonly durationMs: number
  /** Requests sent before this are not measured (queues start empty). */
  readonly warmupMs?: number | undefined
  /** Independent client processes, each with its own balancer over the same servers (default 1). */
  readonly clients?: number | undefined
  /** Wraps each endpoint service (failure accrual, fail fast, timeouts); forces service mode. */
  readonly wrapEndpoint?:
    | ((
        endpoint: Service<SimRequest, SimResponse>,
        server: number,
        env: SimEnv,
      ) => Service<SimRequest, SimResponse>)
    | undefined
  /** Wraps each client's balancer (retries, requeues, total timeout); forces service mode. */
  readonly wrapClient?:
    | ((client: Service<SimRequest, SimResponse>, env: SimEnv) => Service<SimRequest, SimResponse>)
    | undefined
  /** Extra result fields for this run (averaged over seeds), e.g. `successPct`, `amplification`. */
  readonly report?: ((counters: RunCounters, env: SimEnv) => Record<string, number>) | undefined
  /**
   * Runs the globals `setTimeout`, `clearTimeout` and `Date.now` on the virtual clock, and
   * `Math.random` on a seeded stream, for the length of the run: for third-party code that reads wall
   * time, timers and randomness directly (cockatiel does). Forces service mode.
   */
  readonly virtualTimers?: boolean | undefined
}

/** What a balancer entry needs to build its algorithm for one client. */
export interface AlgorithmEnv {
  readonly client: number
  readonly clients: number
  /** What a request sent now to the endpoint with this key (`host:port`) would take (for the oracle). */
  readonly expectedMs: (key: string) => number
}

/** A named balancer the simulator can run. */
export interface SimBalancer {
  readonly name: string
  readonly description: string
  readonly algorithm: (env: AlgorithmEnv) => BalancerAlgorithm
}

/** The figures a run measures and a report averages. Times in virtual ms, shares in %. */
export interface Figures {
  readonly p50: number
  readonly p90: number
  readonly p95: number
  readonly p99: number
  readonly p999: number
  readonly p9999: number
  readonly meanMs: number
  readonly overOneSecondPct: number
  readonly successPct: number
  readonly panicked: number
}

/** The names of `Figures`, for code that treats them alike. */
export const FIGURES: ReadonlyArray<keyof Figures> = [
  'p50',
  'p90',
  'p95',
  'p99',
  'p999',
  'p9999',
  'meanMs',
  'overOneSecondPct',
  'successPct',
  'panicked',
]

/** The measurements of one run. */
export interface RunResult extends Figures {
  readonly balancer: string
  readonly seed: number
  readonly requests: number
  readonly maxMs: number
  /** Of the requests sent while some server was degraded, the % sent to a degraded one (null: none). */
  readonly slowNodeShare: number | null
  readonly extra: Readonly<Record<string, number>>
}

/** Mixes a seed and a stream number into an independent 32-bit seed. */
export function streamSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0
  z = Math.imul(z ^ (z >>> 12), 0x297a2d39) >>> 0
  return (z ^ (z >>> 15)) >>> 0
}

const meanCache = new WeakMap<object, number>()

class Recorder {
  readonly histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 })
  count = 0
  sum = 0
  over1s = 0
  ok = 0
  failed = 0
  record(latencyMs: number, ok: boolean): void {
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)))
    this.count++
    this.sum += latencyMs
    if (latencyMs > 1000) this.over1s++
    if (ok) this.ok++
    else this.failed++
  }
}

class Run {
  readonly setup: SimSetup
  readonly spec: SimBalancer
  readonly seed: number
  readonly clock = manualClock(0)
  readonly latencyRandom: Random
  readonly env: SimEnv
  readonly servers: SimServer[]
  readonly addresses: SimAddress[]
  readonly byKey: Map<string, number>
  readonly recorder = new Recorder()
  readonly clients: number
  readonly warmupMs: number
  readonly degradable: SimServer[]
  sentWhileDegraded = 0
  sentToDegraded = 0
  readonly pairs: Uint8Array
  constructor(setup: SimSetup, spec: SimBalancer, seed: number) {
    this.setup = setup
    this.spec = spec
    this.seed = seed
    this.latencyRandom = seededRandom(streamSeed(seed, 1))
    this.servers = setup.servers.map((s, i) => {
      let mean = meanCache.get(s.latency)
      if (mean === undefined) {
        mean = meanOf(s.latency, seededRandom(12345))
        meanCache.set(s.latency, mean)
      }
      return new SimServer(s, i, mean)
    })
    this.degradable = this.servers.filter((s) => s.canDegrade)
    this.addresses = this.servers.map((_, i) => ({
      host: `10.0.${i >> 8}.${i & 255}`,
      port: 8080,
      server: i,
    }))
    this.byKey = new Map(this.addresses.map((a) => [endpointKey(a), a.server]))
    this.clients = setup.clients ?? 1
    this.warmupMs = setup.warmupMs ?? 0
    this.pairs = new Uint8Array(this.clients * this.servers.length)
    this.env = {
      clock: this.clock,
      random: seededRandom(streamSeed(seed, 2)),
      stats: inMemoryStats(),
      servers: this.servers,
      seed,
    }
  }

  members(): SimAddress[] {
    const t = this.clock.now()
    return this.addresses.filter((_, i) => {
      const s = this.setup.servers[i]!
      return (s.joinAtMs ?? 0) <= t && (s.leaveAtMs === undefined || t < s.leaveAtMs)
    })
  }

  /** One balancer per client; `connect(c)` makes client c's endpoint services. */
  balancers<Req, Rep>(
    connect: (client: number) => (a: SimAddress) => Service<Req, Rep>,
  ): Balancer<Req, Rep, SimAddress>[] {
    const lbs: Balancer<Req, Rep, SimAddress>[] = []
    for (let c = 0; c < this.clients; c++) {
      const algorithm = this.spec.algorithm({
        client: c,
        clients: this.clients,
        expectedMs: (key) => this.servers[this.byKey.get(key)!]!.expectedMs(this.clock.now()),
      })
      lbs.push(
        balancer<Req, Rep, SimAddress>({
          addresses: this.members(),
          connect: connect(c),
          algorithm,
          clock: this.clock,
          random: seededRandom(streamSeed(this.seed, 100 + c)),
          stats: c === 0 ? this.env.stats : nullStats,
        }),
      )
    }
    // Membership changes (cold start, removals) reach every client's balancer at the same instant.
    const changes = new Set<number>()
    for (const s of this.setup.servers) {
      if (s.joinAtMs !== undefined && s.joinAtMs > 0) changes.add(s.joinAtMs)
      if (s.leaveAtMs !== undefined) changes.add(s.leaveAtMs)
    }
    for (const at of changes)
      this.clock.setTimeout(() => {
        const m = this.members()
        for (const lb of lbs) lb.update(m)
      }, at)
    return lbs
  }

  /** Counts a request reaching server `i` from client `c` at time t. */
  admitted(c: number, i: number, t: number): void {
    this.pairs[c * this.servers.length + i] = 1
    if (t < this.warmupMs || this.degradable.length === 0) return
    let any = false
    for (const s of this.degradable)
      if (s.degraded(t)) {
        any = true
        break
      }
    if (!any) return
    this.sentWhileDegraded++
    if (this.servers[i]!.degraded(t)) this.sentToDegraded++
  }

  *arrivalTimes(): Generator<number> {
    const { kind, ratePerSec } = this.setup.arrivals
    const interval = 1000 / ratePerSec
    const random = seededRandom(streamSeed(this.seed, 3))
    let t = 0
    for (let n = 0; t < this.setup.durationMs; n++) {
      yield t
      t = kind === 'uniform' ? (n + 1) * interval : t - interval * Math.log(1 - random.next())
    }
  }

  result(panicked: number): RunResult {
    const r = this.recorder
    const h = r.histogram
    const q = (p: number) => (r.count === 0 ? 0 : h.getValueAtPercentile(p) / 1000)
    let connections = 0
    for (const x of this.pairs) connections += x
    const counters: RunCounters = {
      logical: r.count,
      succeeded: r.ok,
      failed: r.failed,
      meanMs: r.count === 0 ? 0 : r.sum / r.count,
      serverAdmissions: this.servers.reduce((k, s) => k + s.admitted, 0),
      perServer: this.servers.map((s) => s.admitted),
      connections,
    }
    return {
      balancer: this.spec.name,
      seed: this.seed,
      requests: r.count,
      p50: q(50),
      p90: q(90),
      p95: q(95),
      p99: q(99),
      p999: q(99.9),
      p9999: q(99.99),
      meanMs: r.count === 0 ? 0 : r.sum / r.count,
      maxMs: r.count === 0 ? 0 : h.maxValue / 1000,
      overOneSecondPct: r.count === 0 ? 0 : (100 * r.over1s) / r.count,
      slowNodeShare:
        this.sentWhileDegraded === 0 ? null : (100 * this.sentToDegraded) / this.sentWhileDegraded,
      successPct: r.count === 0 ? 100 : (100 * r.ok) / r.count,
      panicked,
      extra: this.setup.report?.(counters, this.env) ?? {},
    }
  }
}

function panicsOf(env: SimEnv): number {
  return env.stats.counterValue('loadbalancer/panicked')
}

/** Runs a scenario with one balancer and one seed, without promises (see the top of this file). */
export function runDirect(setup: SimSetup, spec: SimBalancer, seed: number): RunResult {
  const run = new Run(setup, spec, seed)
  const unused = Service.of<SimRequest, SimResponse>(() => Promise.reject(new Error('direct mode')))
  const lbs = run.balancers(() => () => unused)
  const { clock, recorder, latencyRandom, servers, warmupMs, clients } = run
  let n = 0
  for (const t of run.arrivalTimes()) {
    clock.advanceTo(t)
    const c = n++ % clients
    const lease = lbs[c]!.acquire()
    const i = lease.address.server
    run.admitted(c, i, t)
    const adm = servers[i]!.admit(t, latencyRandom)
    if (t >= warmupMs) recorder.record(adm.endMs - t, adm.ok)
    clock.setTimeout(() => lease.release(), adm.endMs - t)
  }
  while (clock.runNext()) {}
  const result = run.result(panicsOf(run.env))
  for (const lb of lbs) void lb.close()
  return result
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Points the global timer functions and `Date.now` at `clock`, and `Math.random` at `random`, until
 * the returned function restores them. Only for the simulator, where nothing else may use real timers
 * during a run.
 */
function installVirtualGlobals(clock: ManualClock, random: Random): () => void {
  const saved = {
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    now: Date.now,
    random: Math.random,
  }
  const cancels = new WeakMap<object, () => void>()
  const fakeSetTimeout = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = { ref: () => handle, unref: () => handle, hasRef: () => false }
    cancels.set(
      handle,
      clock.setTimeout(() => fn(...args), ms ?? 0),
    )
    return handle
  }
  globalThis.setTimeout = fakeSetTimeout as unknown as typeof globalThis.setTimeout
  globalThis.clearTimeout = ((handle: object | undefined) => {
    if (handle) cancels.get(handle)?.()
  }) as typeof globalThis.clearTimeout
  Date.now = () => clock.now()
  Math.random = () => random.next()
  return () => {
    globalThis.setTimeout = saved.setTimeout
    globalThis.clearTimeout = saved.clearTimeout
    Date.now = saved.now
    Math.random = saved.random
  }
}

/** Runs a scenario through the `Service` API, with the scenario's wrappers (see the top of this file). */
export async function runService(setup: SimSetup, spec: SimBalancer, seed: number): Promise<RunResult> {
  const run = new Run(setup, spec, seed)
  const restore = setup.virtualTimers
    ? installVirtualGlobals(run.clock, seededRandom(streamSeed(seed, 4)))
    : undefined
  try {
    return await serviceRun(setup, run)
  } finally {
    restore?.()
  }
}

async function serviceRun(setup: SimSetup, run: Run): Promise<RunResult> {
  const { clock, recorder, latencyRandom, servers, warmupMs, clients, env } = run
  // Each client process has its own endpoint stack per server, as real clients do.
  const endpoint = (c: number) => (a: SimAddress) => {
    const i = a.server
    const server = servers[i]!
    // Like a real endpoint, an aborted request rejects with the signal's reason at once (the
    // connection is closed); the server's own work is not undone.
    const raw = Service.of<SimRequest, SimResponse>(
      (_req, signal) =>
        new Promise<SimResponse>((resolve, reject) => {
          if (signal?.aborted) return reject(signal.reason)
          const t = clock.now()
          run.admitted(c, i, t)
          const adm = server.admit(t, latencyRandom)
          const ok = adm.ok
          let cancel: (() => void) | undefined
          const onAbort = () => {
            cancel?.()
            reject(signal?.reason)
          }
          signal?.addEventListener('abort', onAbort, { once: true })
          if (Number.isFinite(adm.endMs))
            cancel = clock.setTimeout(() => {
              signal?.removeEventListener('abort', onAbort)
              if (ok) resolve({ server: i })
              else reject(new SimServerError(i))
            }, adm.endMs - t)
        }),
    )
    return setup.wrapEndpoint ? setup.wrapEndpoint(raw, i, env) : raw
  }
  const lbs = run.balancers(endpoint)
  const fronts = lbs.map((lb) => (setup.wrapClient ? setup.wrapClient(lb, env) : lb))
  let n = 0
  const settleUpTo = async (t: number) => {
    for (;;) {
      const next = clock.nextAt()
      if (next === undefined || next > t) break
      clock.runNext()
      await drain()
    }
  }
  for (const t of run.arrivalTimes()) {
    await settleUpTo(t)
    clock.advanceTo(t)
    const c = n++ % clients
    const measured = t >= warmupMs
    fronts[c]!({ id: n, sentAtMs: t }).then(
      () => measured && recorder.record(clock.now() - t, true),
      () => measured && recorder.record(clock.now() - t, false),
    )
    await drain()
  }
  await settleUpTo(Number.POSITIVE_INFINITY)
  const result = run.result(panicsOf(env))
  await Promise.all(fronts.map((f) => f.close()))
  return result
}

/** Runs in the mode the scenario needs: service mode when it wraps anything, else direct. */
export function runOnce(setup: SimSetup, spec: SimBalancer, seed: number): Promise<RunResult> {
  if (setup.wrapEndpoint || setup.wrapClient || setup.virtualTimers) return runService(setup, spec, seed)
  return Promise.resolve(runDirect(setup, spec, seed))
}

export type { ServerSpec } from './servers.js'
export { SimServer } from './servers.js'
export type { BalancerAlgorithm }
