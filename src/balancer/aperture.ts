import type { Clock } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import type { Random } from '../core/random.js'
import type { Counter } from '../stats/stats.js'
import {
  type AlgorithmInstance,
  type BalancerAlgorithm,
  checkMaxEffort,
  type Distributor,
  type PickNode,
  pickOfTwo,
} from './algorithm.js'
import { Ema } from './load/ema.js'
import { leastLoaded } from './load/leastLoaded.js'
import type { LoadMetric } from './load/metric.js'
import { DEFAULT_MAX_EFFORT } from './p2c.js'

/**
 * This client process's place in its fleet, for deterministic aperture: instance `instanceId` of
 * `totalInstances` (ids unique and contiguous from 0).
 *
 * @example
 * ```ts
 * const coordinate: ProcessCoordinate = { instanceId: Number(process.env.SHARD_ID), totalInstances: 40 }
 * ```
 */
export interface ProcessCoordinate {
  readonly instanceId: number
  readonly totalInstances: number
}

/**
 * The options of `aperture`.
 *
 * @example
 * ```ts
 * const options: ApertureOptions = { minAperture: 3, load: peakEwma({ decayTimeMs: 15_000 }) }
 * ```
 */
export interface ApertureOptions {
  /** The load band's averaging window, ms (default 15 000). */
  readonly smoothWinMs?: number | undefined
  /** Narrow when the average outstanding per node in the aperture is ≤ this (default 0.875). */
  readonly lowLoad?: number | undefined
  /** Widen when the average outstanding per node in the aperture is ≥ this (default 1.125). */
  readonly highLoad?: number | undefined
  /** The smallest random aperture (default 1; clamped to the number of nodes). */
  readonly minAperture?: number | undefined
  /** Picks tried before panicking (default 4). */
  readonly maxEffort?: number | undefined
  /** The load metric (default `leastLoaded()`; Finagle's `aperturePeakEwma` is `peakEwma({ decayTimeMs: smoothWinMs })`). */
  readonly load?: LoadMetric | undefined
  /** Given, the aperture is deterministic: a fixed slice of the ring chosen by this coordinate. */
  readonly coordinate?: ProcessCoordinate | undefined
  /** Deterministic aperture's size in nodes (default 12, Finagle's `minDeterministicAperture`). */
  readonly deterministicAperture?: number | undefined
}

/** Finagle redraws the second sample up to 5 times until it differs from the first. */
const REDRAWS = 5

interface BandOptions {
  readonly smoothWinMs: number
  readonly lowLoad: number
  readonly highLoad: number
  readonly minAperture: number
}

/**
 * The load band (Finagle's `LoadBand`): an EMA of the balancer's total outstanding requests,
 * updated on every start and end; the aperture widens by one when the average per node in it
 * reaches `highLoad`, and narrows by one when it falls to `lowLoad`. Converges to about one
 * outstanding request per node in the aperture.
 */
class LoadBand {
  private total = 0
  private readonly ema: Ema
  private readonly clock: Clock
  private readonly low: number
  private readonly high: number
  private readonly minAperture: number
  private readonly widen: Counter
  private readonly narrow: Counter
  logical: number
  size = 0
  constructor(clock: Clock, options: BandOptions, widen: Counter, narrow: Counter) {
    this.clock = clock
    this.ema = new Ema(options.smoothWinMs)
    this.low = options.lowLoad
    this.high = options.highLoad
    this.minAperture = options.minAperture
    this.logical = Math.max(1, options.minAperture)
    this.widen = widen
    this.narrow = narrow
  }
  get min(): number {
    return Math.min(this.minAperture, this.size)
  }
  /** The node count changed: keep the aperture inside [min, size]. */
  resize(size: number): void {
    this.size = size
    this.logical = Math.max(this.min, Math.min(this.logical, size))
    if (this.logical < 1 && size > 0) this.logical = 1
  }
  offeredLoad(): number {
    return this.ema.last()
  }
  adjust(delta: number): void {
    this.total += delta
    const avg = this.ema.update(this.clock.now(), this.total) / this.logical
    if (avg >= this.high && this.logical < this.size) {
      this.logical++
      this.widen.incr()
    } else if (avg <= this.low && this.logical > this.min) {
      this.logical--
      this.narrow.incr()
    }
  }
}

/**
 * Random aperture over one vector: nodes ordered by their random token (stable across rebuilds,
 * different in every process), open ones first; picks are weighted P2C over the first `logical`.
 */
class RandomApertureDistributor<N extends PickNode> implements Distributor<N> {
  private readonly nodes: readonly N[]
  private readonly cdf: Float64Array | undefined
  private readonly weights: Float64Array
  private readonly busyAtBuild: readonly N[]
  private readonly band: LoadBand
  private readonly random: Random
  private readonly zero: Counter
  constructor(nodes: readonly N[], band: LoadBand, random: Random, zero: Counter) {
    const byToken = [...nodes].sort((a, b) => a.token - b.token || (a.key < b.key ? -1 : 1))
    const open = byToken.filter((n) => n.status === 'open')
    const busy = byToken.filter((n) => n.status === 'busy')
    const closed = byToken.filter((n) => n.status === 'closed')
    this.nodes = [...open, ...busy, ...closed]
    this.busyAtBuild = busy
    this.band = band
    this.random = random
    this.zero = zero
    const total = this.nodes.reduce((s, n) => s + n.weight, 0)
    this.weights = Float64Array.from(this.nodes, (n) =>
      total > 0 ? n.weight / total : 1 / this.nodes.length,
    )
    const equal = this.nodes.every((n) => n.weight === this.nodes[0]!.weight)
    if (equal) this.cdf = undefined
    else {
      const cdf = new Float64Array(this.nodes.length)
      let acc = 0
      this.weights.forEach((w, i) => {
        acc += w
        cdf[i] = acc
      })
      this.cdf = cdf
    }
  }
  private draw(): number {
    const n = this.nodes.length
    const aperture = this.band.logical
    if (this.cdf === undefined) return this.random.int(aperture)
    // Weighted: a point in the first aperture/n of the cumulative weight, found by binary search.
    const p = this.random.next() * (aperture / n)
    const cdf = this.cdf
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! > p) hi = mid
      else lo = mid + 1
    }
    return lo
  }
  pick(): N {
    if (this.nodes.length === 1 || this.band.logical <= 1) return this.nodes[0]!
    const a = this.draw()
    let b = this.draw()
    for (let i = 0; i < REDRAWS && b === a; i++) b = this.draw()
    return pickOfTwo(this.nodes[a]!, this.nodes[b]!, this.zero, this.weights[a]!, this.weights[b]!)
  }
  needsRebuild(): boolean {
    for (const n of this.busyAtBuild) if (n.status === 'open') return true
    return false
  }
  /** The nodes inside the aperture. */
  physical(): number {
    return Math.min(this.band.logical, this.nodes.length)
  }
}

/**
 * FNV-1a, 32 bits: a process-independent order for deterministic aperture's ring.
 *
 * @example
 * ```ts
 * stableHash('10.0.0.1:80') === stableHash('10.0.0.1:80') // in every process
 * ```
 */
export function stableHash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * Deterministic aperture: servers laid on the unit ring in a globally agreed order, arc length ∝
 * weight; this client serves the slice [offset, offset + width) where offset = instanceId/total and
 * width is the aperture rounded up to whole peer slices, so every point of the ring is covered by
 * the same number of clients. A server's weight here is its overlap with the slice. Sampling by
 * Vose's alias method, O(1).
 */
class DeterministicApertureDistributor<N extends PickNode> implements Distributor<N> {
  readonly members: readonly N[]
  private readonly weights: Float64Array
  private readonly prob: Float64Array
  private readonly alias: Int32Array
  private readonly random: Random
  private readonly zero: Counter
  readonly vectorHash: number
  constructor(
    nodes: readonly N[],
    coordinate: ProcessCoordinate,
    size: number,
    random: Random,
    zero: Counter,
  ) {
    this.random = random
    this.zero = zero
    const ring = [...nodes].sort((a, b) => {
      const ha = stableHash(a.key)
      const hb = stableHash(b.key)
      return ha - hb || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    })
    let vh = 0x811c9dc5
    for (const n of ring) vh = Math.imul(vh ^ stableHash(n.key), 0x01000193) >>> 0
    this.vectorHash = vh
    const n = ring.length
    const total = ring.reduce((s, x) => s + x.weight, 0)
    const arcs = ring.map((x) => (total > 0 ? x.weight / total : 1 / n))
    const T = coordinate.totalInstances
    const A = Math.min(size, n)
    // k peer slices cover the aperture: integer arithmetic so 12·100/30 is exactly 40, not 40.000…1.
    const k = Math.ceil((A * T) / n)
    const width = Math.min(1, k / T)
    const offset = coordinate.instanceId / T
    const members: N[] = []
    const weights: number[] = []
    let start = 0
    for (let i = 0; i < n; i++) {
      const end = start + arcs[i]!
      const w = width >= 1 ? arcs[i]! : overlap(start, end, offset, width)
      if (w > 1e-12) {
        members.push(ring[i]!)
        weights.push(w)
      }
      start = end
    }
    this.members = members
    this.weights = Float64Array.from(weights)
    const [prob, alias] = aliasTable(weights)
    this.prob = prob
    this.alias = alias
  }
  private draw(): number {
    const i = this.random.int(this.prob.length)
    return this.random.next() < this.prob[i]! ? i : this.alias[i]!
  }
  pick(): N {
    if (this.members.length === 1) return this.members[0]!
    const a = this.draw()
    let b = this.draw()
    for (let i = 0; i < REDRAWS && b === a; i++) b = this.draw()
    return pickOfTwo(this.members[a]!, this.members[b]!, this.zero, this.weights[a]!, this.weights[b]!)
  }
  needsRebuild(): boolean {
    return false
  }
}

/** Length of the overlap of [s, e) with the ring slice [offset, offset + width) (wrapping at 1). */
function overlap(s: number, e: number, offset: number, width: number): number {
  const seg = (a: number, b: number) => Math.max(0, Math.min(e, b) - Math.max(s, a))
  const end = offset + width
  return end <= 1 ? seg(offset, end) : seg(offset, 1) + seg(0, end - 1)
}

/** Vose's alias method: O(n) to build, O(1) per draw. */
function aliasTable(weights: readonly number[]): [Float64Array, Int32Array] {
  const n = weights.length
  const sum = weights.reduce((a, b) => a + b, 0)
  const scaled = weights.map((w) => (w * n) / sum)
  const prob = new Float64Array(n)
  const alias = new Int32Array(n)
  const small: number[] = []
  const large: number[] = []
  for (let i = 0; i < n; i++) (scaled[i]! < 1 ? small : large).push(i)
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!
    const l = large.pop()!
    prob[s] = scaled[s]!
    alias[s] = l
    scaled[l] = scaled[l]! + scaled[s]! - 1
    ;(scaled[l]! < 1 ? small : large).push(l)
  }
  for (const i of [...small, ...large]) {
    prob[i] = 1
    alias[i] = i
  }
  return [prob, alias]
}

function checkNumber(name: string, value: number, ok: boolean, expected: string): number {
  if (!ok) throw new InvalidOptionError('aperture', name, expected, value)
  return value
}

/**
 * Aperture (Finagle's aperture balancers): each client talks to a subset of the nodes, the
 * aperture, and runs weighted P2C inside it. Fewer connections, and each open connection carries
 * enough traffic for its load metric to mean something.
 *
 * - Random aperture (default): nodes in a random per-process order; a load band keeps about one
 *   outstanding request per node in the aperture, widening at `highLoad` and narrowing at `lowLoad`
 *   (never below `minAperture`). Across a fleet, server load follows a binomial spread.
 * - Deterministic aperture (with `coordinate`): clients agree on the ring order and each takes its
 *   own slice, `deterministicAperture` (12) nodes wide rounded up to whole peer slices; server load is
 *   even by construction and connections drop from clients × servers to about clients × 12.
 *
 * Gauges `logical_aperture`, `physical_aperture`, `use_deterministic_ordering`, `vector_hash`,
 * `loadband/offered_load_ema`; counters `loadband/widen`, `loadband/narrow`.
 *
 * @example
 * ```ts
 * const lb = balancer({ addresses, connect, algorithm: aperture({ minAperture: 3 }) })
 * const fleetMember = aperture({ coordinate: { instanceId: 7, totalInstances: 100 } })
 * ```
 */
export function aperture(options: ApertureOptions = {}): BalancerAlgorithm {
  const smoothWinMs = options.smoothWinMs ?? 15_000
  checkNumber(
    'smoothWinMs',
    smoothWinMs,
    smoothWinMs > 0 && Number.isFinite(smoothWinMs),
    'a finite number > 0',
  )
  const highLoad = options.highLoad ?? 1.125
  checkNumber('highLoad', highLoad, highLoad > 0 && Number.isFinite(highLoad), 'a finite number > 0')
  const lowLoad = options.lowLoad ?? 0.875
  checkNumber(
    'lowLoad',
    lowLoad,
    lowLoad >= 0 && lowLoad < highLoad,
    `a number in [0, highLoad = ${highLoad})`,
  )
  const minAperture = options.minAperture ?? 1
  checkNumber('minAperture', minAperture, Number.isInteger(minAperture) && minAperture >= 1, 'an integer ≥ 1')
  const dSize = options.deterministicAperture ?? 12
  checkNumber('deterministicAperture', dSize, Number.isInteger(dSize) && dSize >= 1, 'an integer ≥ 1')
  const coordinate = options.coordinate
  if (coordinate !== undefined) {
    const { instanceId: id, totalInstances: total } = coordinate
    checkNumber('coordinate.totalInstances', total, Number.isInteger(total) && total >= 1, 'an integer ≥ 1')
    checkNumber(
      'coordinate.instanceId',
      id,
      Number.isInteger(id) && id >= 0 && id < total,
      `an integer in [0, ${total})`,
    )
  }
  const load = options.load ?? leastLoaded()
  return {
    name: `aperture_${load.name}`,
    maxEffort: checkMaxEffort('aperture', options.maxEffort ?? DEFAULT_MAX_EFFORT),
    weighted: true,
    load,
    instantiate: (ctx): AlgorithmInstance => {
      const s = ctx.stats
      if (coordinate !== undefined) {
        let current: DeterministicApertureDistributor<PickNode> | undefined
        const gauges = [
          s.gauge('use_deterministic_ordering', () => 1),
          s.gauge('logical_aperture', () => Math.min(dSize, current?.members.length ?? 0)),
          s.gauge('physical_aperture', () => current?.members.length ?? 0),
          s.gauge('vector_hash', () => current?.vectorHash ?? 0),
        ]
        return {
          build: <N extends PickNode>(nodes: readonly N[]) => {
            const d = new DeterministicApertureDistributor(nodes, coordinate, dSize, ctx.random, ctx.p2cZero)
            current = d as unknown as DeterministicApertureDistributor<PickNode>
            return d
          },
          close: () => {
            for (const g of gauges) g()
          },
        }
      }
      const band = new LoadBand(
        ctx.clock,
        { smoothWinMs, lowLoad, highLoad, minAperture },
        s.counter('loadband/widen'),
        s.counter('loadband/narrow'),
      )
      let current: RandomApertureDistributor<PickNode> | undefined
      const gauges = [
        s.gauge('use_deterministic_ordering', () => 0),
        s.gauge('logical_aperture', () => band.logical),
        s.gauge('physical_aperture', () => current?.physical() ?? 0),
        s.gauge('loadband/offered_load_ema', () => band.offeredLoad()),
      ]
      return {
        build: <N extends PickNode>(nodes: readonly N[]) => {
          // Unlike Finagle, a rebuild keeps the current aperture instead of restarting from the
          // minimum, so a node-set update does not collapse a wide aperture.
          band.resize(nodes.length)
          const d = new RandomApertureDistributor(nodes, band, ctx.random, ctx.p2cZero)
          current = d as unknown as RandomApertureDistributor<PickNode>
          return d
        },
        started: () => band.adjust(1),
        finished: () => band.adjust(-1),
        close: () => {
          for (const g of gauges) g()
        },
      }
    },
  }
}
