import type { Random } from '../core/random.js'
import type { BalancerAlgorithm, Distributor, PickNode } from './algorithm.js'
import { leastLoaded } from './load/leastLoaded.js'

// A node seen down at the top of the heap sinks below every healthy node (Finagle adds Int.MaxValue).
const PENALTY = 2 ** 31

function key(n: PickNode): number {
  return n.mark === 0 ? n.pending : n.pending + PENALTY
}

/**
 * A binary min-heap of nodes keyed by outstanding requests. `node.slot` is the node's position;
 * `node.mark` is 1 while the node is penalized (seen down) and on the down list.
 */
class HeapDistributor<N extends PickNode> implements Distributor<N> {
  private readonly heap: N[]
  private readonly down: N[] = []
  private readonly random: Random
  constructor(nodes: readonly N[], random: Random) {
    this.random = random
    this.heap = [...nodes]
    for (let i = 0; i < this.heap.length; i++) {
      const n = this.heap[i]!
      n.slot = i
      n.mark = 0
    }
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  pick(): N {
    // Nodes that came back lose their penalty.
    if (this.down.length > 0) {
      for (let i = this.down.length - 1; i >= 0; i--) {
        const n = this.down[i]!
        if (n.status === 'open' && this.holds(n)) {
          n.mark = 0
          this.down.splice(i, 1)
          this.siftUp(n.slot)
        }
      }
    }
    for (;;) {
      const top = this.heap[0]!
      // Penalized at the top: every node is down; use it anyway (the balancer counts the panic).
      if (top.mark !== 0 || top.status === 'open') return top
      top.mark = 1
      this.down.push(top)
      this.siftDown(0)
    }
  }

  needsRebuild(): boolean {
    return false
  }

  acquired(node: N): void {
    if (this.holds(node)) this.siftDown(node.slot)
  }

  released(node: N): void {
    if (!this.holds(node)) return
    const i = node.slot
    if (node.pending === 0 && node.mark === 0 && this.heap.length > 1) {
      // An idle node swaps with a random position, so picks spread over all idle nodes instead of
      // returning to the same one.
      const j = this.random.int(this.heap.length)
      if (j !== i) {
        const other = this.heap[j]!
        this.place(other, i)
        this.place(node, j)
        this.fix(i)
        this.fix(node.slot)
        return
      }
    }
    this.siftUp(i)
  }

  private holds(n: N): boolean {
    return this.heap[n.slot] === n
  }

  private place(n: N, i: number): void {
    this.heap[i] = n
    n.slot = i
  }

  private fix(i: number): void {
    this.siftDown(this.siftUp(i))
  }

  private siftUp(i: number): number {
    const n = this.heap[i]!
    const k = key(n)
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = this.heap[p]!
      if (key(parent) <= k) break
      this.place(parent, i)
      i = p
    }
    this.place(n, i)
    return i
  }

  private siftDown(i: number): number {
    const size = this.heap.length
    const n = this.heap[i]!
    const k = key(n)
    for (;;) {
      const l = 2 * i + 1
      if (l >= size) break
      const r = l + 1
      let c = l
      let kc = key(this.heap[l]!)
      if (r < size) {
        const kr = key(this.heap[r]!)
        if (kr < kc) {
          c = r
          kc = kr
        }
      }
      if (kc >= k) break
      this.place(this.heap[c]!, i)
      i = c
    }
    this.place(n, i)
    return i
  }
}

/**
 * Strict least loaded (Finagle's `HeapBalancer`): a min-heap of nodes by outstanding requests; every
 * pick takes the top. O(log n) per pick and release. A node found down at the top is penalized and
 * sinks; it is revived when it reports open again. When every node is down the top is used anyway
 * and counted as a panic. Not weight-aware: weights go through weight classes.
 *
 * @example
 * ```ts
 * const lb = balancer({ addresses, connect, algorithm: heap() })
 * ```
 */
export function heap(): BalancerAlgorithm {
  return {
    name: 'heap_least_loaded',
    // The heap skips down nodes itself; a non-open pick means every node is down.
    maxEffort: 1,
    weighted: false,
    load: leastLoaded(),
    instantiate: (ctx) => ({ build: (nodes) => new HeapDistributor(nodes, ctx.random) }),
  }
}
