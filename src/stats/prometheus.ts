import type { HistogramSnapshot, MetricsSnapshot, StatUnit } from './stats.js'

/** Options of the Prometheus exposition. */
export interface PrometheusOptions {
  /** Prepended to every family name (linkerd's `io.l5d.prometheus` `prefix`), e.g. `linkerd_`. Default none. */
  readonly prefix?: string | undefined
}

/** One sample of a family: its name (a histogram's `_bucket`, `_sum`, `_count`), raw labels, value. */
export interface PrometheusSample {
  readonly name: string
  readonly labels: readonly (readonly [string, string])[]
  readonly value: number
}

/** A metric family of the exposition: name, type, HELP text and samples. */
export interface PrometheusFamily {
  readonly name: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly help: string
  readonly samples: readonly PrometheusSample[]
}

interface Family {
  readonly name: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly help: string
  readonly samples: PrometheusSample[]
  /** Label sets already written, to refuse a second series with the same labels. */
  readonly seen: Set<string>
}

/** A metric name mapped onto a family and labels. */
export interface PrometheusSeries {
  /** The family name without the `_total` of counters, in snake_case. */
  readonly family: string
  /** Label names and raw values, in order. */
  readonly labels: readonly (readonly [string, string])[]
  /** The shape of the scope with labelled elements replaced by `<label>`, for HELP. */
  readonly shape: string
  /** The unit of the last element (`_ms` latencies are exported in seconds). */
  readonly unit: StatUnit
}

/** Scope elements whose next element is a label value (linkerd's telemeter, plus namerd's scopes). */
const LABELLED = new Set(['service', 'client', 'server', 'namer', 'store', 'namespace', 'interpreter', 'api'])
/** What follows `rt` when the client has no router label of its own (`createClient`'s `rt/service/...`). */
const RT_KINDS = new Set(['service', 'client', 'server', 'bindcache'])
const WORD = /^[a-z][a-z0-9_]*$/

/** `fooBar-baz.qux` → `foo_bar_baz_qux`: a scope element from code, made a snake_case name part. */
function snake(s: string): string {
  const out = s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '')
  return out === '' ? 'x' : /^[0-9]/.test(out) ? `n${out}` : out
}

const UNIT_SUFFIX: Record<StatUnit, string> = {
  milliseconds: '_ms',
  microseconds: '_us',
  nanoseconds: '_ns',
  seconds: '_seconds',
  bytes: '_bytes',
  '': '',
}

/**
 * How a metric's scope elements map to a Prometheus family and labels, as linkerd's Prometheus
 * telemeter does: `rt/<router>` → `rt="<router>"`; `service/<name>`, `client/<id>`,
 * `server/<addr>`, `namespace/<ns>`, `namer/<prefix>`, `store/<kind>`, namerd's `api/<endpoint>` → a
 * label of that name;
 * `failures/<class>` → the `failures_by_exception` family with `exception="<class>"` (so that `failures`
 * sums without double counting), `exn/<class>` → `exceptions{exception=...}`; `status/<code>` → `status_code`,
 * `status/<N>XX` → the `status_class` family. Other elements join the family name in snake_case;
 * an element that is not a lower-case word (`http/0/requests`) becomes a label named after the element
 * before it. Raw values stay in label values, so `users-v2` and `users_v2` never meet.
 *
 * @example
 * ```ts
 * prometheusSeries(['rt', 'service', 'svc/users-v2', 'request_latency_ms'])
 * // { family: 'rt_service_request_latency_seconds', labels: [['service', 'svc/users-v2']], ... }
 * ```
 */
export function prometheusSeries(segments: readonly string[]): PrometheusSeries {
  const words: string[] = []
  const labels: [string, string][] = []
  const shape: string[] = []
  const n = segments.length
  const last = n - 1
  let unit: StatUnit = ''
  const label = (key: string, value: string) => {
    let k = key
    for (let i = 2; labels.some(([l]) => l === k); i++) k = `${key}_${i}`
    labels.push([k, value])
    shape.push(`<${k}>`)
  }
  let i = 0
  while (i < n) {
    const s = segments[i]!
    if (i === last) {
      unit = statUnitOf(s)
      const base = unit === '' ? s : s.slice(0, s.length - UNIT_SUFFIX[unit].length)
      if (base !== '') words.push(snake(base))
      if (unit !== '' && unit !== 'bytes') words.push('seconds')
      else if (unit === 'bytes') words.push('bytes')
      shape.push(s)
      break
    }
    const next = segments[i + 1]!
    const remaining = n - i
    if (s === 'rt' && i === 0) {
      words.push('rt')
      shape.push('rt')
      // `rt/<router>/service/<name>/x` (l5d) or `rt/service/<name>/x` (a client without a router label).
      const routerFirst = !RT_KINDS.has(next) || (RT_KINDS.has(segments[i + 2] ?? '') && remaining >= 5)
      if (routerFirst && remaining >= 3) {
        label('rt', next)
        i += 2
      } else i++
      continue
    }
    if (LABELLED.has(s) && i + 1 < last) {
      words.push(s)
      shape.push(s)
      label(s, next)
      i += 2
      continue
    }
    if ((s === 'failures' || s === 'exn') && i + 1 === last) {
      words.push(s === 'exn' ? 'exceptions' : 'failures_by_exception')
      shape.push(s)
      label('exception', next)
      i += 2
      break
    }
    if (s === 'status' && i + 1 === last && /^[0-9]{3}$/.test(next)) {
      words.push('status')
      shape.push(s)
      label('status_code', next)
      break
    }
    if (s === 'status' && i + 1 === last && /^[0-9]XX$/.test(next)) {
      words.push('status', 'class')
      shape.push(s)
      label('status_class', next)
      break
    }
    if (WORD.test(s)) {
      words.push(s)
      shape.push(s)
    } else {
      const key = words.length > 0 ? words[words.length - 1]! : 'scope'
      label(LABELLED.has(key) ? key : `${key}_name`, s)
    }
    i++
  }
  return { family: words.join('_') || 'value', labels, shape: shape.join('/'), unit }
}

function statUnitOf(s: string): StatUnit {
  for (const u of ['milliseconds', 'microseconds', 'nanoseconds', 'seconds', 'bytes'] as const)
    if (s.endsWith(UNIT_SUFFIX[u])) return u
  return ''
}

const scaleOf = (unit: StatUnit) =>
  unit === 'milliseconds' ? 1e-3 : unit === 'microseconds' ? 1e-6 : unit === 'nanoseconds' ? 1e-9 : 1

/**
 * A label value escaped for the text format: `\` → `\\`, `"` → `\"`, newline → `\n`.
 *
 * @example
 * ```ts
 * escapeLabelValue('a"b') // 'a\\"b'
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

/**
 * A sample value in the text format: `+Inf`, `-Inf`, `NaN` or the shortest decimal.
 *
 * @example
 * ```ts
 * formatValue(Number.POSITIVE_INFINITY) // '+Inf'
 * ```
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Number.POSITIVE_INFINITY) return '+Inf'
  if (v === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(v)
}

const labelText = (labels: readonly (readonly [string, string])[]) =>
  labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`

/** Short descriptions of Finagle's and linkerd's stat names, for HELP. */
const DESCRIPTIONS: Record<string, string> = {
  requests: 'Requests',
  success: 'Requests classified as successful',
  failures: 'Requests classified as failed',
  pending: 'Requests in flight',
  connections: 'Open connections',
  request_latency_ms: 'Latency to the response head',
  status: 'Responses by HTTP status code',
  retries: 'Retries',
  requeues: 'Requests re-sent because nothing was sent the first time',
  budget_exhausted: 'Retries refused by the retry budget',
  budget: 'Retries the budget would allow now',
  size: 'Endpoints in the load balancer',
  available: 'Endpoints available to the load balancer',
  removals: 'Endpoints removed by failure accrual',
  revivals: 'Endpoints revived after failure accrual',
  lookups: 'Namer lookups',
  namespaces: 'Namespaces in the dtab store',
  watches: 'Open watch streams',
  writes: 'Dtab writes',
}

const UNMAPPED = {
  counter: 'switchboard_unmapped_total',
  gauge: 'switchboard_unmapped_value',
  histogram: 'switchboard_unmapped_distribution',
} as const

/**
 * The Prometheus text exposition (format 0.0.4) of a snapshot, made to pass `promtool check metrics`:
 * families and labels from `prometheusSeries`, counters suffixed `_total`, latencies as histograms
 * in seconds (`_bucket{le=...}`, `_sum`, `_count`, aggregatable across instances), a `# HELP` and a
 * `# TYPE` line on every family. Should two metrics still meet on one series, the later one is
 * exported as `switchboard_unmapped_total` / `_value` / `_distribution` with `name="<raw name>"` rather than break the scrape.
 *
 * @example
 * ```ts
 * const stats = inMemoryStats()
 * stats.scope('rt', 'service', 'svc/users').counter('requests').incr()
 * prometheusText(stats.snapshot())
 * // # HELP rt_service_requests_total Requests (rt/service/<service>/requests)
 * // # TYPE rt_service_requests_total counter
 * // rt_service_requests_total{service="svc/users"} 1
 * ```
 */
export function prometheusText(snapshot: MetricsSnapshot, options: PrometheusOptions = {}): string {
  const out: string[] = []
  for (const f of prometheusFamilies(snapshot, options)) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`)
    for (const x of f.samples) out.push(`${x.name}${labelText(x.labels)} ${formatValue(x.value)}`)
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}

/**
 * The families of `prometheusText`, structured (for bridges such as `promClientCollector`), sorted
 * by name.
 *
 * @example
 * ```ts
 * prometheusFamilies(stats.snapshot()).map((f) => f.name) // ['rt_service_requests_total', ...]
 * ```
 */
export function prometheusFamilies(
  snapshot: MetricsSnapshot,
  options: PrometheusOptions = {},
): PrometheusFamily[] {
  const prefix = options.prefix ?? ''
  const families = new Map<string, Family>()
  /** Every sample name in use (a histogram's `_bucket`, `_sum`, `_count`), with its family. */
  const sampleNames = new Map<string, string>()
  const family = (name: string, type: Family['type'], help: string): Family | undefined => {
    const f = families.get(name)
    if (f) return f.type === type ? f : undefined
    const own = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]
    if (own.some((s) => sampleNames.has(s) && sampleNames.get(s) !== name)) return undefined
    const created: Family = { name, type, help, samples: [], seen: new Set() }
    families.set(name, created)
    for (const s of own) sampleNames.set(s, name)
    return created
  }
  const unmapped = (type: Family['type']) =>
    family(UNMAPPED[type], type, `switchboard ${type}s whose mapped name would collide, by raw name`)!
  const helpOf = (raw: string, series: PrometheusSeries) => {
    const leaf = series.shape.split('/').pop() ?? raw
    const d = DESCRIPTIONS[leaf] ?? DESCRIPTIONS[series.family.split('_').pop() ?? ''] ?? 'switchboard stat'
    return `${d}${series.unit !== '' && series.unit !== 'seconds' && series.unit !== 'bytes' ? ' (seconds)' : ''} (${series.shape})`
  }
  const place = (
    segments: readonly string[],
    name: string,
    type: Family['type'],
    write: (f: Family, labels: readonly (readonly [string, string])[]) => void,
  ) => {
    const series = prometheusSeries(segments)
    let base = `${prefix}${series.family}`
    if (!/^[a-zA-Z_]/.test(base)) base = `_${base}`
    const fname = type === 'counter' && !base.endsWith('_total') ? `${base}_total` : base
    const f = family(fname, type, helpOf(name, series))
    const key = labelText(series.labels)
    if (f && !f.seen.has(key)) {
      f.seen.add(key)
      write(f, series.labels)
    } else {
      const u = unmapped(type)
      write(u, [['name', name]])
    }
  }
  for (const c of snapshot.counters)
    place(c.segments, c.name, 'counter', (f, labels) => {
      const series = prometheusSeries(c.segments)
      f.samples.push({ name: f.name, labels, value: c.value * scaleOf(series.unit) })
    })
  for (const g of snapshot.gauges)
    place(g.segments, g.name, 'gauge', (f, labels) => {
      const series = prometheusSeries(g.segments)
      f.samples.push({ name: f.name, labels, value: g.value * scaleOf(series.unit) })
    })
  for (const h of snapshot.histograms) place(h.segments, h.name, 'histogram', histogramLines(h))
  return [...families.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, type, help, samples }) => ({ name, type, help, samples }))
}

function histogramLines(h: HistogramSnapshot) {
  return (f: Family, labels: readonly (readonly [string, string])[]) => {
    for (const b of h.buckets)
      f.samples.push({
        name: `${f.name}_bucket`,
        labels: [...labels, ['le', formatValue(b.le)]],
        value: b.count,
      })
    f.samples.push({ name: `${f.name}_sum`, labels, value: h.sumBase })
    f.samples.push({ name: `${f.name}_count`, labels, value: h.summary.count })
  }
}
