import * as hdr from 'hdr-histogram-js'
import type { Disposer } from '../core/var.js'

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
  /** Prometheus text exposition format (version 0.0.4). */
  prometheus(): string
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
export function inMemoryStats(): InMemoryStats {
  const counters = new Map<string, { value: number }>()
  const gauges = new Map<string, Set<() => number>>()
  const histos = new Map<string, Histo>()

  const counterAt = (full: string) => {
    let c = counters.get(full)
    if (!c) {
      c = { value: 0 }
      counters.set(full, c)
    }
    return c
  }
  const histoAt = (full: string) => {
    let h = histos.get(full)
    if (!h) {
      h = { h: undefined, few: [], sum: 0 }
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
  const receiver = (prefix: string, owned?: Owned): StatsReceiver => ({
    scope: (...names) => receiver(names.filter((n) => n !== '').reduce(join, prefix), owned),
    removableScope(...names) {
      const mine: Owned = { counters: new Set(), stats: new Set(), gauges: [], removed: false }
      const r = receiver(names.filter((n) => n !== '').reduce(join, prefix), mine)
      return {
        ...r,
        remove() {
          mine.removed = true
          for (const k of mine.counters) counters.delete(k)
          for (const k of mine.stats) histos.delete(k)
          for (const [k, read] of mine.gauges) {
            const fs = gauges.get(k)
            fs?.delete(read)
            if (fs?.size === 0) gauges.delete(k)
          }
          mine.counters.clear()
          mine.stats.clear()
          mine.gauges = []
        },
      }
    },
    counter(name) {
      const full = join(prefix, name)
      const c = counterAt(full)
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
      owned?.stats.add(full)
      // The histogram is made on the first value (a stat that is never used costs nothing).
      let x: Histo | undefined
      return {
        add: (value) => {
          if (x === undefined) {
            if (owned?.removed) return
            x = histoAt(full)
          }
          record(x, Math.max(0, Math.round(value)))
        },
      }
    },
  })

  const root = receiver('')
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
    prometheus() {
      const lines: string[] = []
      for (const [k, c] of [...counters].sort(byKey)) {
        const n = promName(k)
        lines.push(`# TYPE ${n} counter`, `${n} ${c.value}`)
      }
      for (const k of [...gauges.keys()].sort()) {
        const v = gaugeValue(k)
        if (v === undefined) continue
        const n = promName(k)
        lines.push(`# TYPE ${n} gauge`, `${n} ${v}`)
      }
      for (const k of [...histos.keys()].sort()) {
        const s = summary(k)!
        const n = promName(k)
        lines.push(`# TYPE ${n} summary`)
        for (const [q, v] of [
          ['0.5', s.p50],
          ['0.9', s.p90],
          ['0.95', s.p95],
          ['0.99', s.p99],
          ['0.999', s.p999],
          ['0.9999', s.p9999],
        ] as const)
          lines.push(`${n}{quantile="${q}"} ${v}`)
        lines.push(`${n}_sum ${s.sum}`, `${n}_count ${s.count}`)
      }
      return lines.length === 0 ? '' : `${lines.join('\n')}\n`
    },
  }
}

function byKey<V>(a: [string, V], b: [string, V]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

/** linkerd's Prometheus naming: scope separators become `:`, other invalid characters `_`. */
export function promName(name: string): string {
  const n = name.replace(/\//g, ':').replace(/[^a-zA-Z0-9_:]/g, '_')
  return /^[0-9]/.test(n) ? `_${n}` : n
}
