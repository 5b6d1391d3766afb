// The simulator's named scenarios (benchmarks.md §1, §2, §7, §9).
//
// ADDING A SCENARIO
// A scenario is a named preset: knobs with defaults (overridable with `--set key=value`), the
// balancers it runs by default, and `setup(knobs)` returning a `SimSetup` (engine.ts):
//   - `servers`: one `ServerSpec` per backend (servers.ts): base `latency`, optional `slots` (FIFO
//     queue; omit for pure delay), `slowdown(t)`, `pauses`, `fails(t, random)` (return a failure's
//     latency in ms to fail the request, e.g. a fast NACK), `degradedAt(t)`, `joinAtMs`/`leaveAtMs`;
//   - `arrivals` (open loop, uniform or Poisson) and `durationMs`, optional `warmupMs` and `clients`.
// Register it with `registerScenario(...)` from any module imported by cli.ts (or push it here).
//
// Scenarios that need filters (failure accrual, fail fast, timeouts, retries, requeues) add
//   - `wrapEndpoint(endpoint, serverIndex, env)`: wraps each client's endpoint service for one
//     server; a failed request rejects with `SimServerError` (map it to a retryable failure here);
//   - `wrapClient(balancer, env)`: wraps each client's balancer service (retries above the balancer);
//   - `report(counters, env)`: extra result fields for the run, e.g.
//       report: (c) => ({ successPct: (100 * c.succeeded) / c.logical,
//                         amplification: c.serverAdmissions / c.logical })
//     Extra fields are averaged over seeds, added to each JSON result and shown as table columns
//     (list them in the scenario's `columns`).
// Any wrapper switches the engine to service mode (promises; ~0.3 s per 60 000 requests), where
// `env.clock` is the virtual clock every filter must use, and `env.random` a seeded stream of its own.
// `env.stats` is client 0's stats receiver (the balancer's `loadbalancer/*` counters are there too).

import type { SimSetup } from './engine.js'
import { exponentialLatency, finagleLatency, type Latency } from './latency.js'
import type { ServerSpec, Window } from './servers.js'

/**
 * One way to build the client stack for a scenario (e.g. "failure accrual + retry budget"): `apply`
 * adds wrappers to the scenario's setup. A scenario with variants gets one result row per balancer
 * and variant.
 */
export interface StackVariant {
  readonly name: string
  readonly description: string
  apply(setup: SimSetup, knobs: Readonly<Record<string, number>>): SimSetup
}

/** A named simulator preset. */
export interface Scenario {
  readonly name: string
  readonly description: string
  /** Tunable numbers with their defaults (`--set key=value`). */
  readonly knobs: Readonly<Record<string, number>>
  /** Balancers run when `--balancers` is not given. */
  readonly balancers: readonly string[]
  /** Seeds run when `--seeds` is not given. */
  readonly seeds: number
  /** Extra result fields shown as table columns. */
  readonly columns?: readonly string[] | undefined
  /** Client stacks to compare; each balancer runs with each (`--variants` picks some). */
  readonly variants?: readonly StackVariant[] | undefined
  /** A line printed under the table (e.g. the theoretical values). */
  readonly note?: ((knobs: Readonly<Record<string, number>>) => string) | undefined
  setup(knobs: Readonly<Record<string, number>>): SimSetup
}

const registry = new Map<string, Scenario>()

/** Adds a scenario (replacing one of the same name). */
export function registerScenario(scenario: Scenario): void {
  registry.set(scenario.name, scenario)
}

/** Every registered scenario, in registration order. */
export function scenarios(): Scenario[] {
  return [...registry.values()]
}

/** The named scenario, or an error listing the known names. */
export function scenarioNamed(name: string): Scenario {
  const s = registry.get(name)
  if (s === undefined)
    throw new Error(`unknown scenario '${name}'; known: ${[...registry.keys()].join(', ')}`)
  return s
}

/** A knob's value (knobsFor has merged defaults, so every declared knob is present). */
export function knob(k: Readonly<Record<string, number>>, name: string): number {
  const v = k[name]
  if (v === undefined) throw new Error(`missing knob '${name}'`)
  return v
}

/** `factor` during [fromMs, untilMs), 1 otherwise. */
export function slowBetween(fromMs: number, untilMs: number, factor: number): (t: number) => number {
  return (t) => (t >= fromMs && t < untilMs ? factor : 1)
}

function stable(latency: Latency, count: number, extra: Partial<ServerSpec> = {}): ServerSpec[] {
  return Array.from({ length: count }, () => ({ latency, ...extra }))
}

const DEFAULT_BALANCERS = ['roundRobin', 'p2c', 'p2cPeakEwma', 'aperture', 'heap', 'oracle'] as const

/** Buoyant's "Beyond Round Robin" run: one node ×10 slower for the middle half. */
function slowNodeSetup(k: Readonly<Record<string, number>>): SimSetup {
  return {
    servers: [
      {
        latency: finagleLatency,
        slowdown: slowBetween(knob(k, 'slowFromMs'), knob(k, 'slowUntilMs'), knob(k, 'slowFactor')),
      },
      ...stable(finagleLatency, knob(k, 'servers') - 1),
    ],
    arrivals: { kind: 'uniform', ratePerSec: knob(k, 'rate') },
    durationMs: knob(k, 'durationMs'),
  }
}

const BUOYANT_KNOBS = {
  servers: 11,
  rate: 1000,
  durationMs: 60_000,
  slowFromMs: 15_000,
  slowUntilMs: 45_000,
  slowFactor: 10,
}

registerScenario({
  name: 'buoyant',
  description:
    "Buoyant's published setup: 11 backends with Finagle's production latencies, open loop 1 000 req/s for 60 s, one node ×10 slower during 15–45 s",
  knobs: BUOYANT_KNOBS,
  balancers: DEFAULT_BALANCERS,
  seeds: 10,
  setup: slowNodeSetup,
})

registerScenario({
  name: 'slow-middle',
  description:
    "Finagle's balancersim `slowmiddle`: 10 stable backends + 1 that is ×10 slower during 15–45 s, 1 250 req/s for 45 s",
  knobs: { ...BUOYANT_KNOBS, rate: 1250, durationMs: 45_000 },
  balancers: DEFAULT_BALANCERS,
  seeds: 10,
  setup: slowNodeSetup,
})

registerScenario({
  name: 'low-rate',
  description: 'The buoyant scenario at 100 req/s (≈17 in flight): least loaded degenerates toward random',
  knobs: { ...BUOYANT_KNOBS, rate: 100 },
  balancers: DEFAULT_BALANCERS,
  seeds: 10,
  setup: slowNodeSetup,
})

registerScenario({
  name: 'low-rate-10',
  description: 'The buoyant scenario at 10 req/s (≈2 in flight): almost every P2C comparison is 0 vs 0',
  knobs: { ...BUOYANT_KNOBS, rate: 10 },
  balancers: DEFAULT_BALANCERS,
  // Runs are tiny (600 requests), and at this rate random aperture sends nearly everything to one
  // node: only seeds where that node is the slow one show it, so take many.
  seeds: 50,
  setup: slowNodeSetup,
})

registerScenario({
  name: 'gc-pause',
  description:
    'GC pauses: `pausedNodes` of 11 nodes freeze for `pauseMs` every `periodMs`, staggered; work due during a pause ends when it ends',
  knobs: { servers: 11, rate: 1000, durationMs: 60_000, pausedNodes: 2, pauseMs: 1000, periodMs: 10_000 },
  balancers: DEFAULT_BALANCERS,
  seeds: 10,
  setup: (k) => {
    const paused = knob(k, 'pausedNodes')
    const period = knob(k, 'periodMs')
    const servers: ServerSpec[] = []
    for (let i = 0; i < knob(k, 'servers'); i++) {
      if (i >= paused) {
        servers.push({ latency: finagleLatency })
        continue
      }
      const pauses: Window[] = []
      const offset = period / 2 + (i * period) / paused
      for (let s = offset; s < knob(k, 'durationMs'); s += period)
        pauses.push({ startMs: s, endMs: s + knob(k, 'pauseMs') })
      servers.push({ latency: finagleLatency, pauses })
    }
    return {
      servers,
      arrivals: { kind: 'uniform', ratePerSec: knob(k, 'rate') },
      durationMs: knob(k, 'durationMs'),
    }
  },
})

registerScenario({
  name: 'cold-start',
  description:
    "Finagle's `coldstart`: 10 stable backends; an 11th joins at `joinAtMs` ×5 slower, warming to ×1 over 10 s, then ×10 during [join+19 s, join+23 s]; 1 250 req/s for 45 s",
  knobs: { servers: 11, rate: 1250, durationMs: 45_000, joinAtMs: 10_000 },
  balancers: DEFAULT_BALANCERS,
  seeds: 10,
  setup: (k) => {
    const join = knob(k, 'joinAtMs')
    const slowdown = (t: number) => {
      const e = t - join
      if (e < 10_000) return e <= 0 ? 5 : Math.max(1, Math.min(5, 10_000 / e))
      return e >= 19_000 && e < 23_000 ? 10 : 1
    }
    return {
      servers: [
        ...stable(finagleLatency, knob(k, 'servers') - 1),
        { latency: finagleLatency, slowdown, joinAtMs: join },
      ],
      arrivals: { kind: 'uniform', ratePerSec: knob(k, 'rate') },
      durationMs: knob(k, 'durationMs'),
    }
  },
})

registerScenario({
  name: 'heterogeneous',
  description:
    '10 queueing servers (4 workers each, FIFO); 2 of them permanently ×2 slower; 150 req/s ≈ 70 % of total capacity',
  knobs: { servers: 10, slowServers: 2, slowFactor: 2, slots: 4, rate: 150, durationMs: 60_000 },
  balancers: DEFAULT_BALANCERS,
  seeds: 10,
  setup: (k) => {
    const slow = knob(k, 'slowFactor')
    const slots = knob(k, 'slots')
    const servers: ServerSpec[] = []
    for (let i = 0; i < knob(k, 'servers'); i++)
      servers.push({
        latency: finagleLatency,
        slots,
        ...(i < knob(k, 'slowServers') ? { slowdown: () => slow } : {}),
      })
    return {
      servers,
      arrivals: { kind: 'uniform', ratePerSec: knob(k, 'rate') },
      durationMs: knob(k, 'durationMs'),
    }
  },
})

/** Mitzenmacher's limit of the mean time in system with d choices at load λ (benchmarks.md §7). */
export function supermarketSojourn(d: number, lambda: number): number {
  if (d === 1) return 1 / (1 - lambda)
  let sum = 0
  for (let i = 1; i < 200; i++) {
    const term = lambda ** ((d ** i - d) / (d - 1))
    sum += term
    if (term < 1e-12) break
  }
  return sum
}

registerScenario({
  name: 'supermarket',
  description:
    "Mitzenmacher's supermarket model: Poisson arrivals at λ·n, n single-worker FIFO servers with exponential service; mean time in system in units of the mean service time",
  knobs: { servers: 100, lambda: 0.9, serviceMs: 100, durationMs: 250_000, warmupMs: 50_000 },
  balancers: ['random', 'p2c', 'heap'],
  seeds: 4,
  columns: ['meanSojourn'],
  note: (k) =>
    `theory (n → ∞, λ = ${k['lambda']}): one random choice ${supermarketSojourn(1, knob(k, 'lambda')).toFixed(3)}, two choices ${supermarketSojourn(2, knob(k, 'lambda')).toFixed(3)}`,
  setup: (k) => {
    const serviceMs = knob(k, 'serviceMs')
    return {
      servers: stable(exponentialLatency(serviceMs), knob(k, 'servers'), { slots: 1 }),
      arrivals: { kind: 'poisson', ratePerSec: (knob(k, 'lambda') * knob(k, 'servers') * 1000) / serviceMs },
      durationMs: knob(k, 'durationMs'),
      warmupMs: knob(k, 'warmupMs'),
      report: (c) => ({ meanSojourn: c.meanMs / serviceMs }),
    }
  },
})

registerScenario({
  name: 'aperture-fleet',
  description:
    '100 client processes × 30 servers, 3 000 req/s in total: connections used (distinct client→server pairs) and per-server load spread',
  knobs: { clients: 100, servers: 30, rate: 3000, durationMs: 30_000 },
  balancers: ['p2c', 'aperture', 'apertureDeterministic'],
  seeds: 3,
  columns: ['connections', 'loadCvPct', 'loadMaxOverMin'],
  setup: (k) => ({
    servers: stable(finagleLatency, knob(k, 'servers')),
    arrivals: { kind: 'uniform', ratePerSec: knob(k, 'rate') },
    durationMs: knob(k, 'durationMs'),
    clients: knob(k, 'clients'),
    report: (c) => {
      const mean = c.perServer.reduce((a, b) => a + b, 0) / c.perServer.length
      const sd = Math.sqrt(c.perServer.reduce((a, b) => a + (b - mean) ** 2, 0) / c.perServer.length)
      const min = Math.min(...c.perServer)
      const max = Math.max(...c.perServer)
      return {
        connections: c.connections,
        loadCvPct: mean === 0 ? 0 : (100 * sd) / mean,
        loadMaxOverMin: min === 0 ? Number.POSITIVE_INFINITY : max / min,
      }
    },
  }),
})
