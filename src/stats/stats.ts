import * as hdr from 'hdr-histogram-js'
import type { Disposer } from '../core/var.js'
import { type PrometheusOptions, prometheusText } from './prometheus.js'

/**
 * Where every floor of switchboard counts. Names are scoped with `/` as in Finagle
 * (`loadbalancer/size`, `retries/budget_exhausted`); a receiver is passed in, never global.
 *
 * @example
 * ```ts
 * const stats = inMemoryStats()
 * const lb = stats.scope('users', 'loadbalancer')
 * lb.counter('rebuilds').incr()
 * stats.counterValue('users/loadbalancer/rebuilds') // 1
 * ```
 */
export interface StatsReceiver {
  /** A receiver whose names are prefixed by `names` (empty names are skipped). */
  scope(...names: string[]): StatsReceiver
  counter(name: string): Counter
  /** Registers a gauge read at export time; the disposer removes it. */
  gauge(name: string, read: () => number): Disposer
  /** A distribution of values (latencies in ms, sizes), summarised by an HDR histogram. */
  stat(name: string): Stat
  /**
   * Optional: a scope like `scope(...names)` whose counters, gauges and stats can all be removed at
   * once with `remove()` (what a cache does when it lets go of a name, so that names seen once do not
   * keep their stats forever). Receivers without it keep everything.
   */
  removableScope?(...names: string[]): RemovableStats
}

/**
 * A scope whose metrics (made through it or any scope under it) `remove()` deletes from the receiver.
 * A metric used after that counts into nothing (make new ones from a fresh scope).
 *
 * @example
 * ```ts
 * const perName = stats.removableScope?.('service', 'svc/users')
 * perName?.counter('requests').incr()
 * perName?.remove() // 'service/svc/users/requests' is gone from the export
 * ```
 */
export interface RemovableStats extends StatsReceiver {
  remove(): void
}

export interface Counter {
  incr(delta?: number): void
}

export interface Stat {
  add(value: number): void
}

const noopCounter: Counter = { incr: () => {} }
const noopStat: Stat = { add: () => {} }

/**
 * The receiver that drops everything: the default where no receiver is given.
 *
 * @example
 * ```ts
 * nullStats.counter('requests').incr() // does nothing
 * ```
 */
export const nullStats: StatsReceiver = {
  scope: () => nullStats,
  counter: () => noopCounter,
  gauge: () => () => {},
  stat: () => noopStat,
}

/** A summary of a stat's distribution. */
export interface StatSummary {
  count: number
  sum: number
  min: number
  max: number
  avg: number
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
  p9999: number
}

/** A receiver that keeps everything in memory and exports it. */
export interface InMemoryStats extends StatsReceiver {
  counterValue(name: string): number
  gaugeValue(name: string): number | undefined
  statSummary(name: string): StatSummary | undefined
  /** linkerd's flat `/admin/metrics.json` shape: `{"a/b": 1, "lat.p99": 5, "lat.count": 10, ...}`. */
  json(): Record<string, number>
  /** linkerd's `metrics.json?tree=1` shape: nested by scope element, `counter`/`gauge`/`stat.*` leaves. */
  tree(): MetricsTree
  /** Every counter, gauge and histogram now, with scope elements and Prometheus buckets. */
  snapshot(): MetricsSnapshot
  /**
   * Prometheus text exposition format (version 0.0.4) as linkerd's Prometheus telemeter labels it:
   * `rt`, `service`, `client`, `server`, `namespace`... as labels, counters `_total`, latencies as
   * histograms in seconds. See `prometheusText`.
   */
  prometheus(options?: PrometheusOptions): string
}

/**
 * A node of linkerd's `metrics.json?tree=1`: `counter`, `gauge` or `stat.<summary>` values, and child
 * nodes keyed by scope element.
 */
export interface MetricsTree {
  [key: string]: number | MetricsTree
}

/**
 * Bucket upper bounds of the Prometheus histograms, in base units (seconds for `*_ms`/`*_us`/`*_ns`
 * stats, bytes for `*_bytes`, plain numbers otherwise), ascending; `+Inf` is implied.
 *
 * @example
 * ```ts
 * const stats = inMemoryStats({ buckets: { seconds: [0.01, 0.1, 1] } })
 * ```
 */
export interface HistogramBuckets {
  readonly seconds?: readonly number[] | undefined
  readonly bytes?: readonly number[] | undefined
  /** For stats without a unit (`retries/per_request`). */
  readonly count?: readonly number[] | undefined
}

/** Options of `inMemoryStats`. */
export interface InMemoryStatsOptions {
  /** Histogram bucket bounds by unit (default `DEFAULT_BUCKETS`). */
  readonly buckets?: HistogramBuckets | undefined
}

/**
 * The default bucket bounds: latencies from 1 ms to 60 s, sizes from 64 B to 64 MiB, counts 0..100.
 *
 * @example
 * ```ts
 * DEFAULT_BUCKETS.seconds // [0.001, 0.0025, 0.005, ..., 60]
 * ```
 */
export const DEFAULT_BUCKETS: Required<{ [K in keyof HistogramBuckets]: readonly number[] }> = {
  seconds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  bytes: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
  count: [0, 1, 2, 3, 5, 10, 25, 50, 100],
}

/** The unit a stat's name says it records in, by its suffix. */
export type StatUnit = 'milliseconds' | 'microseconds' | 'nanoseconds' | 'seconds' | 'bytes' | ''

/**
 * The unit of a stat by the suffix of its name: `_ms`, `_us`, `_ns`, `_seconds`, `_bytes`, else none.
 *
 * @example
 * ```ts
 * statUnit('request_latency_ms') // 'milliseconds'
 * ```
 */
export function statUnit(name: string): StatUnit {
  if (name.endsWith('_ms')) return 'milliseconds'
  if (name.endsWith('_us')) return 'microseconds'
  if (name.endsWith('_ns')) return 'nanoseconds'
  if (name.endsWith('_seconds')) return 'seconds'
  if (name.endsWith('_bytes')) return 'bytes'
  return ''
}

/**
 * How many base units (seconds, bytes) one recorded unit is: `0.001` for milliseconds.
 *
 * @example
 * ```ts
 * unitScale('milliseconds') // 0.001
 * ```
 */
export function unitScale(unit: StatUnit): number {
  switch (unit) {
    case 'milliseconds':
      return 1e-3
    case 'microseconds':
      return 1e-6
    case 'nanoseconds':
      return 1e-9
    default:
      return 1
  }
}

/** One metric of a snapshot: its flat name (`rt/service/svc/users/requests`) and its scope elements. */
export interface MetricId {
  /** The flat name, elements joined by `/`, as in `metrics.json`. */
  readonly name: string
  /** The scope elements as given (`['rt', 'service', 'svc/users', 'requests']`): an element may hold `/`. */
  readonly segments: readonly string[]
}

/** A histogram in a snapshot: its summary (recorded units) and cumulative buckets in base units. */
export interface HistogramSnapshot extends MetricId {
  readonly unit: StatUnit
  readonly summary: StatSummary
  /** The exact sum of the recorded values, in base units (seconds, bytes). */
  readonly sumBase: number
  /** Cumulative counts by upper bound in base units, ascending, ending with `+Inf` (= count). */
  readonly buckets: readonly { readonly le: number; readonly count: number }[]
}

/**
 * Everything a receiver holds at one moment, for exporters (Prometheus, the JSON tree, prom-client).
 * Each list is sorted by name.
 */
export interface MetricsSnapshot {
  readonly counters: readonly (MetricId & { readonly value: number })[]
  readonly gauges: readonly (MetricId & { readonly value: number })[]
  readonly histograms: readonly HistogramSnapshot[]
}

/**
 * A stat's values: the first `EAGER` values are kept as they are (a name that sees a few requests
 * costs a few hundred bytes, not an HDR histogram's 16 KiB), then an HDR histogram takes over.
 * Summaries are the same either way: the kept values are read through a histogram at export time.
 */
interface Histo {
  h: hdr.Histogram | undefined
  few: number[]
  sum: number
  segments: readonly string[]
  unit: StatUnit
  /** Upper bounds in recorded units. */
  bounds: readonly number[]
  /** Base-unit bounds (for export). */
  baseBounds: readonly number[]
  /** Non-cumulative counts, one more than bounds (the last is +Inf). */
  counts: number[]
  exactSum: number
}

const EAGER = 32

const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 })

function record(x: Histo, v: number): void {
  x.sum += v
  if (x.h !== undefined) x.h.recordValue(v)
  else if (x.few.length < EAGER) x.few.push(v)
  else {
    const h = newHistogram()
    for (const f of x.few) h.recordValue(f)
    h.recordValue(v)
    x.h = h
    x.few = []
  }
}

/** The histogram of a stat (a temporary one while it holds only a few values). */
function histogramOf(x: Histo): hdr.Histogram {
  if (x.h !== undefined) return x.h
  const h = newHistogram()
  for (const f of x.few) h.recordValue(f)
  return h
}

function join(prefix: string, name: string): string {
  if (prefix === '') return name
  if (name === '') return prefix
  return `${prefix}/${name}`
}

/**
 * A receiver that keeps counters, gauges and HDR histograms in memory, and exports them as JSON
 * (linkerd's `metrics.json` shape) or Prometheus text.
 *
 * @example
 * ```ts
 * const stats = inMemoryStats()
 * stats.stat('request_latency_ms').add(12)
 * stats.prometheus() // '# TYPE request_latency_ms summary\nrequest_latency_ms{quantile="0.5"} 12\n...'
 * ```
 */
export function inMemoryStats(options: InMemoryStatsOptions = {}): InMemoryStats {
  const counters = new Map<string, { value: number; segments: readonly string[] }>()
  const gauges = new Map<string, Set<() => number>>()
  const gaugeSegments = new Map<string, readonly string[]>()
  const histos = new Map<string, Histo>()
  const buckets = {
    seconds: checkBounds('seconds', options.buckets?.seconds ?? DEFAULT_BUCKETS.seconds),
    bytes: checkBounds('bytes', options.buckets?.bytes ?? DEFAULT_BUCKETS.bytes),
    count: checkBounds('count', options.buckets?.count ?? DEFAULT_BUCKETS.count),
  }

  const counterAt = (full: string, segments: readonly string[]) => {
    let c = counters.get(full)
    if (!c) {
      c = { value: 0, segments }
      counters.set(full, c)
    }
    return c
  }
  const histoAt = (full: string, segments: readonly string[]) => {
    let h = histos.get(full)
    if (!h) {
      const unit = statUnit(segments[segments.length - 1] ?? '')
      const scale = unitScale(unit)
      const baseBounds = unit === 'bytes' ? buckets.bytes : unit === '' ? buckets.count : buckets.seconds
      h = {
        h: undefined,
        few: [],
        sum: 0,
        segments,
        unit,
        baseBounds,
        bounds: baseBounds.map((b) => b / scale),
        counts: new Array<number>(baseBounds.length + 1).fill(0),
        exactSum: 0,
      }
      histos.set(full, h)
    }
    return h
  }
  const gaugeValue = (full: string): number | undefined => {
    const fs = gauges.get(full)
    if (!fs || fs.size === 0) return undefined
    let total = 0
    for (const f of fs) total += f()
    return total
  }
  const summary = (full: string): StatSummary | undefined => {
    const x = histos.get(full)
    if (!x) return undefined
    const h = histogramOf(x)
    const count = h.totalCount
    const q = (p: number) => (count === 0 ? 0 : h.getValueAtPercentile(p))
    return {
      count,
      sum: x.sum,
      min: count === 0 ? 0 : h.getValueAtPercentile(0),
      max: count === 0 ? 0 : h.maxValue,
      avg: count === 0 ? 0 : x.sum / count,
      p50: q(50),
      p90: q(90),
      p95: q(95),
      p99: q(99),
      p999: q(99.9),
      p9999: q(99.99),
    }
  }

  /** Full names made through a removable scope: `c` counters, `s` stats, gauges with their reader. */
  interface Owned {
    counters: Set<string>
    stats: Set<string>
    gauges: [string, () => number][]
    removed: boolean
  }
  const receiver = (prefix: string, segs: readonly string[], owned?: Owned): StatsReceiver => ({
    scope: (...names) => {
      const kept = names.filter((n) => n !== '')
      return receiver(kept.reduce(join, prefix), [...segs, ...kept], owned)
    },
    removableScope(...names) {
      const mine: Owned = { counters: new Set(), stats: new Set(), gauges: [], removed: false }
      const kept = names.filter((n) => n !== '')
      const r = receiver(kept.reduce(join, prefix), [...segs, ...kept], mine)
      return {
        ...r,
        remove() {
          mine.removed = true
          for (const k of mine.counters) counters.delete(k)
          for (const k of mine.stats) histos.delete(k)
          for (const [k, read] of mine.gauges) {
            const fs = gauges.get(k)
            fs?.delete(read)
            if (fs?.size === 0) {
              gauges.delete(k)
              gaugeSegments.delete(k)
            }
          }
          mine.counters.clear()
          mine.stats.clear()
          mine.gauges = []
        },
      }
    },
    counter(name) {
      const full = join(prefix, name)
      const c = counterAt(full, segmentsOf(segs, name))
      owned?.counters.add(full)
      return {
        incr: (delta = 1) => {
          c.value += delta
        },
      }
    },
    gauge(name, read) {
      const full = join(prefix, name)
      let fs = gauges.get(full)
      if (!fs) {
        fs = new Set()
        gauges.set(full, fs)
        gaugeSegments.set(full, segmentsOf(segs, name))
      }
      const set = fs
      set.add(read)
      owned?.gauges.push([full, read])
      return () => {
        set.delete(read)
      }
    },
    stat(name) {
      const full = join(prefix, name)
      const segments = segmentsOf(segs, name)
      owned?.stats.add(full)
      // The histogram is made on the first value (a stat that is never used costs nothing).
      let x: Histo | undefined
      return {
        add: (value) => {
          if (x === undefined) {
            if (owned?.removed) return
            x = histoAt(full, segments)
          }
          const exact = Math.max(value, 0) || 0
          record(x, Math.round(exact))
          x.exactSum += exact
          const { bounds, counts } = x
          let i = 0
          while (i < bounds.length && exact > bounds[i]!) i++
          counts[i]!++
        },
      }
    },
  })

  const root = receiver('', [])
  const snapshot = (): MetricsSnapshot => {
    const cs = [...counters].sort(byKey).map(([name, c]) => ({ name, segments: c.segments, value: c.value }))
    const gs: (MetricId & { value: number })[] = []
    for (const k of [...gauges.keys()].sort()) {
      const v = gaugeValue(k)
      if (v !== undefined) gs.push({ name: k, segments: gaugeSegments.get(k) ?? k.split('/'), value: v })
    }
    const hs = [...histos.keys()].sort().map((name): HistogramSnapshot => {
      const x = histos.get(name)!
      let cumulative = 0
      const bs = x.baseBounds.map((le, i) => {
        cumulative += x.counts[i]!
        return { le, count: cumulative }
      })
      cumulative += x.counts[x.counts.length - 1]!
      bs.push({ le: Number.POSITIVE_INFINITY, count: cumulative })
      return {
        name,
        segments: x.segments,
        unit: x.unit,
        summary: summary(name)!,
        sumBase: x.exactSum * unitScale(x.unit),
        buckets: bs,
      }
    })
    return { counters: cs, gauges: gs, histograms: hs }
  }
  return {
    ...root,
    counterValue: (name) => counters.get(name)?.value ?? 0,
    gaugeValue,
    statSummary: summary,
    json() {
      const out: Record<string, number> = {}
      for (const [k, c] of [...counters].sort(byKey)) out[k] = c.value
      for (const k of [...gauges.keys()].sort()) {
        const v = gaugeValue(k)
        if (v !== undefined) out[k] = v
      }
      for (const k of [...histos.keys()].sort()) {
        const s = summary(k)!
        out[`${k}.count`] = s.count
        out[`${k}.sum`] = s.sum
        out[`${k}.avg`] = s.avg
        out[`${k}.min`] = s.min
        out[`${k}.max`] = s.max
        out[`${k}.p50`] = s.p50
        out[`${k}.p90`] = s.p90
        out[`${k}.p95`] = s.p95
        out[`${k}.p99`] = s.p99
        out[`${k}.p9990`] = s.p999
        out[`${k}.p9999`] = s.p9999
      }
      return out
    },
    snapshot,
    tree: () => metricsTree(snapshot()),
    prometheus: (opts) => prometheusText(snapshot(), opts),
  }
}

function segmentsOf(scope: readonly string[], name: string): readonly string[] {
  const parts = name.split('/').filter((p) => p !== '')
  return parts.length === 0 ? scope : [...scope, ...parts]
}

function checkBounds(unit: string, bounds: readonly number[]): readonly number[] {
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i]!
    if (!Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))
      throw new RangeError(
        `inMemoryStats: buckets.${unit}[${i}] must be a finite number above the one before, got ${b}`,
      )
  }
  return [...bounds]
}

/**
 * The nested `metrics.json?tree=1` form of a snapshot (linkerd's `MetricsTree` JSON).
 *
 * @example
 * ```ts
 * metricsTree(stats.snapshot()).rt // { service: { 'svc/users': { requests: { counter: 5 } } } }
 * ```
 */
export function metricsTree(snapshot: MetricsSnapshot): MetricsTree {
  const root: MetricsTree = {}
  const nodeAt = (segments: readonly string[]): MetricsTree => {
    let node = root
    for (const s of segments) {
      let child = node[s]
      if (typeof child !== 'object') {
        child = {}
        node[s] = child
      }
      node = child
    }
    return node
  }
  for (const c of snapshot.counters) nodeAt(c.segments)['counter'] = c.value
  for (const g of snapshot.gauges) nodeAt(g.segments)['gauge'] = g.value
  for (const h of snapshot.histograms) {
    const node = nodeAt(h.segments)
    const s = h.summary
    node['stat.count'] = s.count
    if (s.count > 0) {
      node['stat.max'] = s.max
      node['stat.min'] = s.min
      node['stat.p50'] = s.p50
      node['stat.p90'] = s.p90
      node['stat.p95'] = s.p95
      node['stat.p99'] = s.p99
      node['stat.p9990'] = s.p999
      node['stat.p9999'] = s.p9999
      node['stat.sum'] = s.sum
      node['stat.avg'] = s.avg
    }
  }
  return root
}

function byKey<V>(a: [string, V], b: [string, V]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

/** linkerd's Prometheus naming: scope separators become `:`, other invalid characters `_`. */
export function promName(name: string): string {
  const n = name.replace(/\//g, ':').replace(/[^a-zA-Z0-9_:]/g, '_')
  return /^[0-9]/.test(n) ? `_${n}` : n
}
