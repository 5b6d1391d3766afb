import { type BalancerAlgorithm, checkMaxEffort, type Distributor, type PickNode } from './algorithm.js'
import { leastLoaded } from './load/leastLoaded.js'

/**
 * The options of `roundRobin`.
 *
 * @example
 * ```ts
 * const options: RoundRobinOptions = { maxEffort: 5 }
 * ```
 */
export interface RoundRobinOptions {
  /** Picks tried before panicking (default 5, Finagle's `MajorityUnhealthy`). */
  readonly maxEffort?: number | undefined
}

interface Cursor {
  i: number
}

class RoundRobinDistributor<N extends PickNode> implements Distributor<N> {
  private readonly selections: readonly N[]
  private readonly down: readonly N[]
  private readonly cursor: Cursor
  private sawDown = false
  constructor(nodes: readonly N[], cursor: Cursor) {
    const up = nodes.filter((n) => n.status === 'open')
    this.down = nodes.filter((n) => n.status !== 'open')
    this.selections = up.length > 0 ? up : this.down
    this.cursor = cursor
  }
  pick(): N {
    const n = this.selections[this.cursor.i++ % this.selections.length]!
    if (this.cursor.i >= 0x7fffffff) this.cursor.i = 0
    if (n.status !== 'open') this.sawDown = true
    return n
  }
  needsRebuild(): boolean {
    if (this.sawDown) return true
    for (const n of this.down) if (n.status === 'open') return true
    return false
  }
}

/**
 * Round robin (Finagle's `RoundRobinBalancer`): the open nodes in turn, ignoring load and latency.
 * When a picked node is not open, or a down node comes back, the vector is rebuilt on the next
 * request. Kept as the baseline the others are measured against; not recommended in production
 * because one slow node gets its full share of traffic.
 *
 * @example
 * ```ts
 * const lb = balancer({ addresses, connect, algorithm: roundRobin({ maxEffort: 5 }) })
 * ```
 */
export function roundRobin(options: RoundRobinOptions = {}): BalancerAlgorithm {
  return {
    name: 'round_robin',
    maxEffort: checkMaxEffort('roundRobin', options.maxEffort ?? 5),
    weighted: false,
    load: leastLoaded(),
    instantiate: (ctx) => {
      // One cursor per balancer, starting at a random offset so that a fleet of clients does not
      // hit the same node first.
      const cursor: Cursor = { i: ctx.random.int(1 << 30) }
      return { build: (nodes) => new RoundRobinDistributor(nodes, cursor) }
    },
  }
}
