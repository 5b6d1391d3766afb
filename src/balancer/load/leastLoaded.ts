import type { LoadMetric, NodeLoad } from './metric.js'

class LeastLoadedLoad implements NodeLoad {
  pending = 0
  load(): number {
    return this.pending
  }
  start(): number {
    this.pending++
    return 0
  }
  end(_stamp: number): void {
    this.pending--
  }
}

const LEAST_LOADED: LoadMetric = { name: 'least_loaded', create: () => new LeastLoadedLoad() }

/**
 * Least loaded (Finagle's `LeastLoaded`): a node's load is its number of outstanding requests, +1
 * when one is dispatched to it and −1 when it ends, successfully or not. Latency counts only through
 * the requests a slow node holds on to.
 *
 * @example
 * ```ts
 * const lb = balancer({ addresses, connect, algorithm: p2c({ load: leastLoaded() }) })
 * ```
 */
export function leastLoaded(): LoadMetric {
  return LEAST_LOADED
}
