// The balancers the simulator knows by name. Each entry builds a real algorithm from src/balancer;
// `oracle` and `random` are yardsticks built on the same public `BalancerAlgorithm` interface a user
// would implement for a custom balancer.
import {
  aperture,
  type BalancerAlgorithm,
  type Distributor,
  heap,
  leastLoaded,
  type PickNode,
  p2c,
  p2cPeakEwma,
  roundRobin,
} from '../../src/balancer/index.js'
import type { Random } from '../../src/core/random.js'
import type { AlgorithmEnv, SimBalancer } from './engine.js'

/**
 * The limit: knows what every server would take for a request sent now (queue wait, slow-down,
 * pause) and picks the fastest, breaking ties at random. No real balancer can do better.
 */
function oracle(env: AlgorithmEnv): BalancerAlgorithm {
  return {
    name: 'oracle',
    maxEffort: 1,
    weighted: true,
    load: leastLoaded(),
    instantiate: (ctx) => ({
      build: <N extends PickNode>(nodes: readonly N[]): Distributor<N> => ({
        pick: () => fastest(nodes, env, ctx.random),
        needsRebuild: () => false,
      }),
    }),
  }
}

function fastest<N extends PickNode>(nodes: readonly N[], env: AlgorithmEnv, random: Random): N {
  let best = nodes[0]!
  let bestMs = Number.POSITIVE_INFINITY
  let ties = 0
  for (const n of nodes) {
    if (n.status !== 'open') continue
    const ms = env.expectedMs(n.key)
    if (ms < bestMs) {
      best = n
      bestMs = ms
      ties = 1
    } else if (ms === bestMs && random.int(++ties) === 0) best = n
  }
  return best
}

/** One uniform random choice (d = 1 in the supermarket model). */
function random(): BalancerAlgorithm {
  return {
    name: 'random',
    maxEffort: 4,
    weighted: false,
    load: leastLoaded(),
    instantiate: (ctx) => ({
      build: <N extends PickNode>(nodes: readonly N[]): Distributor<N> => ({
        pick: () => nodes[ctx.random.int(nodes.length)]!,
        needsRebuild: () => false,
      }),
    }),
  }
}

export const BALANCERS: readonly SimBalancer[] = [
  {
    name: 'roundRobin',
    description: 'round robin (Finagle RoundRobinBalancer)',
    algorithm: () => roundRobin(),
  },
  { name: 'p2c', description: 'P2C least loaded (Finagle default)', algorithm: () => p2c() },
  {
    name: 'p2cPeakEwma',
    description: 'P2C peak EWMA, decay 10 s',
    algorithm: () => p2cPeakEwma({ decayTimeMs: 10_000 }),
  },
  {
    name: 'aperture',
    description: 'random aperture, least loaded, load band [0.875, 1.125]',
    algorithm: () => aperture(),
  },
  {
    name: 'apertureDeterministic',
    description: 'deterministic aperture (12 wide) from the client coordinate',
    algorithm: (env) => aperture({ coordinate: { instanceId: env.client, totalInstances: env.clients } }),
  },
  { name: 'heap', description: 'strict least loaded (min-heap)', algorithm: () => heap() },
  { name: 'random', description: 'one random choice (baseline)', algorithm: () => random() },
  { name: 'oracle', description: "knows every server's current latency (the limit)", algorithm: oracle },
]

/** The named balancer, or an error listing the known names. */
export function balancerNamed(name: string): SimBalancer {
  const b = BALANCERS.find((x) => x.name === name)
  if (b === undefined)
    throw new Error(`unknown balancer '${name}'; known: ${BALANCERS.map((x) => x.name).join(', ')}`)
  return b
}
