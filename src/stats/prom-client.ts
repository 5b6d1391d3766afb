import { importOptional, MissingDependencyError } from '../core/optional.js'
import { type PrometheusFamily, type PrometheusOptions, prometheusFamilies } from './prometheus.js'
import type { InMemoryStats } from './stats.js'

/**
 * The part of a prom-client `Registry` switchboard uses (so that prom-client stays an optional peer).
 */
export interface PromClientRegistryLike {
  registerMetric(metric: never): void
  getSingleMetric(name: string): unknown
  removeSingleMetric(name: string): void
}

interface PromClientValue {
  labels: Record<string, string | number>
  value: number
  metricName?: string
}

/** What a prom-client registry asks a metric for at scrape time. */
interface BridgedMetric {
  name: string
  help: string
  type: PrometheusFamily['type']
  aggregator: 'sum'
  get(): Promise<{ name: string; help: string; type: string; values: PromClientValue[]; aggregator: 'sum' }>
  reset(): void
}

/** A bridge from a switchboard receiver into a prom-client `Registry`. */
export interface PromClientCollector {
  /** Registers the families that appeared since the last sync (each scrape also does, for the next). */
  sync(): void
  /** The family names registered so far. */
  readonly names: readonly string[]
  /** Removes every bridged family from the registry. */
  close(): void
}

/**
 * Puts a switchboard receiver's metrics into an existing prom-client `Registry`, mapped as
 * `prometheusText` maps them (labels, `_total`, histograms in seconds). Families are read live at
 * each scrape; a family that first appears between scrapes is registered when `sync()` is called —
 * which the bridge does at creation and during every scrape, so it shows from the next scrape on.
 * A name already registered by someone else is left alone. prom-client itself is not imported: pass
 * the registry you have.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client'
 * const registry = new Registry()
 * const bridge = promClientCollector(client.stats, registry)
 * await registry.metrics() // includes rt_service_requests_total{service="svc/users"} ...
 * ```
 */
export function promClientCollector(
  stats: InMemoryStats,
  registry: PromClientRegistryLike,
  options: PrometheusOptions = {},
): PromClientCollector {
  const mine = new Map<string, BridgedMetric>()
  let families: Map<string, PrometheusFamily> | undefined
  let closed = false
  /** One snapshot per scrape: the registry calls every family's get() in the same tick. */
  const current = (): Map<string, PrometheusFamily> => {
    if (!families) {
      families = new Map(prometheusFamilies(stats.snapshot(), options).map((f) => [f.name, f]))
      queueMicrotask(() => {
        families = undefined
      })
    }
    return families
  }
  const sync = () => {
    if (closed) return
    for (const f of prometheusFamilies(stats.snapshot(), options)) {
      if (mine.has(f.name) || registry.getSingleMetric(f.name) !== undefined) continue
      const name = f.name
      const metric: BridgedMetric = {
        name,
        help: f.help,
        type: f.type,
        aggregator: 'sum',
        reset: () => {},
        get: async () => {
          const fam = current().get(name)
          queueMicrotask(sync)
          const values: PromClientValue[] = (fam?.samples ?? []).map((s) => ({
            labels: Object.fromEntries(s.labels),
            value: s.value,
            ...(s.name === name ? {} : { metricName: s.name }),
          }))
          return { name, help: fam?.help ?? metric.help, type: metric.type, values, aggregator: 'sum' }
        },
      }
      registry.registerMetric(metric as never)
      mine.set(name, metric)
    }
  }
  sync()
  return {
    sync,
    get names() {
      return [...mine.keys()]
    },
    close() {
      closed = true
      for (const [name, m] of mine)
        if (registry.getSingleMetric(name) === m) registry.removeSingleMetric(name)
      mine.clear()
    },
  }
}

/** A source of process/runtime metrics in Prometheus text, appended to an admin scrape. */
export interface ProcessMetrics {
  /** The exposition text of the process metrics (ends with a newline, or is empty). */
  text(): Promise<string>
  /** `prom-client` when its `collectDefaultMetrics` is used, else `builtin`. */
  readonly source: 'prom-client' | 'builtin'
  close(): void
}

/**
 * Process and runtime metrics for an admin endpoint: prom-client's `collectDefaultMetrics` (CPU,
 * memory, heap spaces, event-loop lag, GC, handles...) in a private registry when prom-client is
 * installed (without its `nodejs_active_*_total` gauges, which fail `promtool check metrics`), else
 * `builtinProcessMetrics()`. Pass `{ promClient: false }` to use the built-in set.
 *
 * @example
 * ```ts
 * const process = await processMetrics()
 * const body = stats.prometheus() + (await process.text())
 * ```
 */
export async function processMetrics(options: { promClient?: boolean } = {}): Promise<ProcessMetrics> {
  if (options.promClient !== false) {
    try {
      const prom = await importOptional<typeof import('prom-client')>('prom-client', 'process metrics')
      const registry = new prom.Registry()
      prom.collectDefaultMetrics({ register: registry })
      // prom-client's `nodejs_active_*_total` are gauges, which promtool rejects ("non-counter
      // metrics should not have _total suffix"); their per-type twins without `_total` stay.
      for (const m of registry.getMetricsAsArray() as unknown as { name: string; type: string }[])
        if (m.type !== 'counter' && m.name.endsWith('_total')) registry.removeSingleMetric(m.name)
      return {
        source: 'prom-client',
        text: () => registry.metrics(),
        close: () => registry.clear(),
      }
    } catch (error) {
      if (!(error instanceof MissingDependencyError)) throw error
    }
  }
  return { source: 'builtin', text: async () => builtinProcessMetrics(), close: () => {} }
}

const startSeconds = Math.round(Date.now() / 1000 - process.uptime())

/**
 * A few process metrics without prom-client, with prom-client's names: CPU seconds, resident
 * memory, start time, heap used and total, external memory.
 *
 * @example
 * ```ts
 * builtinProcessMetrics() // '# HELP process_cpu_user_seconds_total ...'
 * ```
 */
export function builtinProcessMetrics(): string {
  const cpu = process.cpuUsage()
  const mem = process.memoryUsage()
  const rows: [string, 'counter' | 'gauge', string, number][] = [
    ['process_cpu_user_seconds_total', 'counter', 'Total user CPU time spent in seconds.', cpu.user / 1e6],
    [
      'process_cpu_system_seconds_total',
      'counter',
      'Total system CPU time spent in seconds.',
      cpu.system / 1e6,
    ],
    [
      'process_cpu_seconds_total',
      'counter',
      'Total user and system CPU time spent in seconds.',
      (cpu.user + cpu.system) / 1e6,
    ],
    [
      'process_start_time_seconds',
      'gauge',
      'Start time of the process since unix epoch in seconds.',
      startSeconds,
    ],
    ['process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', mem.rss],
    ['nodejs_heap_size_total_bytes', 'gauge', 'Process heap size from Node.js in bytes.', mem.heapTotal],
    ['nodejs_heap_size_used_bytes', 'gauge', 'Process heap size used from Node.js in bytes.', mem.heapUsed],
    ['nodejs_external_memory_bytes', 'gauge', 'Node.js external memory size in bytes.', mem.external],
  ]
  return rows.map(([n, t, h, v]) => `# HELP ${n} ${h}\n# TYPE ${n} ${t}\n${n} ${v}\n`).join('')
}
