// Running a scenario over balancers × seeds, and presenting the means: a text table, one JSON
// object, and an SVG chart of latency by percentile.
import { balancerNamed } from './balancers.js'
import { FIGURES, type Figures, type RunResult, runOnce, type SimSetup } from './engine.js'
import type { Scenario, StackVariant } from './scenarios.js'

/** One balancer's figures, as means over the seeds. */
export interface BalancerSummary extends Figures {
  readonly balancer: string
  /** The scenario's stack variant, when it has variants. */
  readonly variant?: string | undefined
  readonly slowNodeShare: number | null
  /** The lowest and highest p99 over the seeds. */
  readonly p99Range: readonly [number, number]
  readonly extra: Readonly<Record<string, number>>
}

/** A scenario's outcome. */
export interface ScenarioReport {
  readonly scenario: string
  readonly seeds: number
  readonly knobs: Readonly<Record<string, number>>
  readonly results: readonly BalancerSummary[]
}

/** What to run. */
export interface RunOptions {
  readonly balancers?: readonly string[] | undefined
  readonly seeds?: number | undefined
  readonly knobs?: Readonly<Record<string, number>> | undefined
  /** Stack variants to run (default: all the scenario has). */
  readonly variants?: readonly string[] | undefined
}

/** Applies knob overrides, rejecting names the scenario does not have. */
export function knobsFor(scenario: Scenario, overrides: Readonly<Record<string, number>> = {}) {
  for (const k of Object.keys(overrides))
    if (!(k in scenario.knobs))
      throw new Error(
        `scenario '${scenario.name}' has no knob '${k}'; knobs: ${Object.keys(scenario.knobs).join(', ')}`,
      )
  return { ...scenario.knobs, ...overrides }
}

/** Runs every balancer (with every stack variant, if the scenario has them) on seeds 1..N and averages. */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioReport> {
  const knobs = knobsFor(scenario, options.knobs)
  const setup = scenario.setup(knobs)
  const balancers = options.balancers ?? scenario.balancers
  const seeds = options.seeds ?? scenario.seeds
  const variants = variantsOf(scenario, options.variants)
  if (variants.length === 0) return runSetup(scenario.name, setup, { balancers, seeds, knobs })
  // One row per balancer and stack variant.
  const results: BalancerSummary[] = []
  for (const balancer of balancers)
    for (const variant of variants) {
      const r = await runSetup(scenario.name, variant.apply(setup, knobs), {
        balancers: [balancer],
        seeds,
        knobs,
      })
      for (const row of r.results) results.push({ ...row, variant: variant.name })
    }
  return { scenario: scenario.name, seeds, knobs, results }
}

/**
 * Runs a setup that is not a registered scenario (your own servers and latency model) with the named
 * balancers on seeds 1..N, and averages.
 *
 * @example
 * ```ts
 * const report = await runSetup('mine', { servers, arrivals: { kind: 'poisson', ratePerSec: 400 }, durationMs: 30_000 },
 *   { balancers: ['p2c', 'p2cPeakEwma'], seeds: 5 })
 * console.log(toTable(report))
 * ```
 */
export async function runSetup(
  name: string,
  setup: SimSetup,
  options: {
    balancers: readonly string[]
    seeds: number
    knobs?: Readonly<Record<string, number>> | undefined
  },
): Promise<ScenarioReport> {
  const specs = options.balancers.map(balancerNamed)
  const results: BalancerSummary[] = []
  for (const spec of specs) {
    const runs: RunResult[] = []
    for (let seed = 1; seed <= options.seeds; seed++) runs.push(await runOnce(setup, spec, seed))
    results.push(summarize(spec.name, runs))
  }
  return { scenario: name, seeds: options.seeds, knobs: options.knobs ?? {}, results }
}

/** The variants to run: the named ones (an error lists the known names), else all the scenario has. */
function variantsOf(scenario: Scenario, names: readonly string[] | undefined): StackVariant[] {
  const all = scenario.variants ?? []
  if (names === undefined) return [...all]
  return names.map((n) => {
    const v = all.find((x) => x.name === n)
    if (v === undefined)
      throw new Error(
        `scenario '${scenario.name}' has no variant '${n}'; variants: ${all.map((x) => x.name).join(', ') || 'none'}`,
      )
    return v
  })
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length
}

/** Means over seeds of one balancer's runs. */
export function summarize(balancer: string, runs: readonly RunResult[]): BalancerSummary {
  const m = (f: (r: RunResult) => number) => mean(runs.map(f))
  const shares = runs.map((r) => r.slowNodeShare).filter((x): x is number => x !== null)
  const extra: Record<string, number> = {}
  for (const key of Object.keys(runs[0]?.extra ?? {})) extra[key] = m((r) => r.extra[key] ?? 0)
  const p99s = runs.map((r) => r.p99)
  const figures = Object.fromEntries(FIGURES.map((f) => [f, m((r) => r[f])])) as unknown as Figures
  return {
    balancer,
    ...figures,
    slowNodeShare: shares.length === 0 ? null : mean(shares),
    p99Range: [Math.min(...p99s), Math.max(...p99s)],
    extra,
  }
}

const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x)

/** The JSON form: `{"scenario", "seeds", "knobs", "results": [{"balancer", "p50", ...}]}`. */
export function toJson(report: ScenarioReport): object {
  return {
    scenario: report.scenario,
    seeds: report.seeds,
    knobs: report.knobs,
    results: report.results.map((r) => ({
      balancer: r.balancer,
      ...(r.variant === undefined ? {} : { variant: r.variant }),
      p50: round(r.p50),
      p90: round(r.p90),
      p99: round(r.p99),
      p999: round(r.p999),
      overOneSecondPct: round(r.overOneSecondPct, 4),
      slowNodeShare: r.slowNodeShare === null ? null : round(r.slowNodeShare, 4),
      p95: round(r.p95),
      p9999: round(r.p9999),
      meanMs: round(r.meanMs),
      successPct: round(r.successPct, 4),
      panicked: round(r.panicked, 2),
      p99Min: round(r.p99Range[0]),
      p99Max: round(r.p99Range[1]),
      ...Object.fromEntries(Object.entries(r.extra).map(([k, v]) => [k, round(v, 4)])),
    })),
  }
}

/** A plain-text table, one row per balancer. */
export function toTable(report: ScenarioReport, columns: readonly string[] = []): string {
  const stacks = report.results.some((r) => r.variant !== undefined)
  const header = [
    'balancer',
    ...(stacks ? ['stack'] : []),
    'p50',
    'p90',
    'p95',
    'p99',
    'p99.9',
    'p99.99',
    '>1s %',
    'slow node %',
    'p99 min–max',
    ...columns,
  ]
  const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(Math.abs(x) >= 10 ? 1 : 2))
  const rows = report.results.map((r) => [
    r.balancer,
    ...(stacks ? [r.variant ?? '-'] : []),
    fmt(r.p50),
    fmt(r.p90),
    fmt(r.p95),
    fmt(r.p99),
    fmt(r.p999),
    fmt(r.p9999),
    r.overOneSecondPct.toFixed(3),
    r.slowNodeShare === null ? '-' : r.slowNodeShare.toFixed(2),
    `${fmt(r.p99Range[0])}–${fmt(r.p99Range[1])}`,
    ...columns.map((c) => {
      const v = r.extra[c]
      return v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(3)
    }),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const textColumns = stacks ? 2 : 1
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i < textColumns ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#7f7f7f', '#17becf', '#8c564b']

/** An SVG line chart of latency (ms) by percentile, one line per balancer. */
export function toSvg(report: ScenarioReport, title: string): string {
  const pcts: Array<[string, (r: BalancerSummary) => number]> = [
    ['p50', (r) => r.p50],
    ['p90', (r) => r.p90],
    ['p95', (r) => r.p95],
    ['p99', (r) => r.p99],
    ['p99.9', (r) => r.p999],
    ['p99.99', (r) => r.p9999],
  ]
  const W = 720
  const H = 420
  const left = 70
  const right = 180
  const top = 50
  const bottom = 50
  const maxY = Math.max(1, ...report.results.flatMap((r) => pcts.map(([, f]) => f(r))))
  const step = niceStep(maxY / 5)
  const yMax = Math.ceil(maxY / step) * step
  const x = (i: number) => left + (i * (W - left - right)) / (pcts.length - 1)
  const y = (v: number) => top + (H - top - bottom) * (1 - v / yMax)
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - right / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  )
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`,
    )
  }
  pcts.forEach(([label], i) => {
    out.push(`<text x="${x(i).toFixed(1)}" y="${H - bottom + 20}" text-anchor="middle">${label}</text>`)
  })
  out.push(
    `<text x="18" y="${(top + H - bottom) / 2}" transform="rotate(-90 18 ${(top + H - bottom) / 2})" text-anchor="middle">latency (virtual ms)</text>`,
  )
  report.results.forEach((r, k) => {
    const color = COLORS[k % COLORS.length]!
    const pts = pcts.map(([, f], i) => `${x(i).toFixed(1)},${y(f(r)).toFixed(1)}`).join(' ')
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`)
    pcts.forEach(([, f], i) => {
      out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(f(r)).toFixed(1)}" r="3" fill="${color}"/>`)
    })
    const ly = top + 10 + k * 20
    out.push(
      `<line x1="${W - right + 20}" x2="${W - right + 44}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${W - right + 50}" y="${ly + 4}">${escapeXml(r.variant === undefined ? r.balancer : `${r.balancer} ${r.variant}`)}</text>`,
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p
  return 10 * p
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
