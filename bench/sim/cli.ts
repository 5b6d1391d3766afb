// npm run sim -- <scenario> [--balancers a,b,…] [--variants a,b,…] [--seeds N] [--json] [--set key=value,…]
//                           [--svg path | --no-svg]
// npm run sim -- --list
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { BALANCERS } from './balancers.js'
import './hanging.js'
import { runScenario, toJson, toSvg, toTable } from './report.js'
import './resilience.js'
import { scenarioNamed, scenarios } from './scenarios.js'

interface Args {
  scenario?: string
  balancers?: string[]
  variants?: string[]
  seeds?: number
  json: boolean
  list: boolean
  knobs: Record<string, number>
  svg: string | null | undefined
}

const USAGE =
  'usage: npm run sim -- <scenario> [--balancers a,b,…] [--variants a,b,…] [--seeds N] [--json] [--set key=value,…] [--svg path | --no-svg]\n       npm run sim -- --list'

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, list: false, knobs: {}, svg: undefined }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`)
      return v
    }
    if (a === '--json') args.json = true
    else if (a === '--list') args.list = true
    else if (a === '--no-svg') args.svg = null
    else if (a === '--svg') args.svg = value()
    else if (a === '--balancers')
      args.balancers = value()
        .split(',')
        .filter((s) => s !== '')
    else if (a === '--variants')
      args.variants = value()
        .split(',')
        .filter((s) => s !== '')
    else if (a === '--seeds') {
      const v = value()
      const n = Number(v)
      if (!Number.isInteger(n) || n < 1) throw new Error(`--seeds expects a positive integer, found '${v}'`)
      args.seeds = n
    } else if (a === '--set') {
      for (const kv of value().split(',')) {
        const m = /^([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(kv)
        const n = m ? Number(m[2]) : Number.NaN
        if (!m || !Number.isFinite(n)) throw new Error(`--set expects key=number, found '${kv}'`)
        args.knobs[m[1]!] = n
      }
    } else if (a.startsWith('-')) throw new Error(`unknown option '${a}'\n${USAGE}`)
    else if (args.scenario === undefined) args.scenario = a
    else throw new Error(`unexpected argument '${a}'\n${USAGE}`)
  }
  return args
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if (args.list || args.scenario === undefined) {
    const lines = ['scenarios:']
    for (const s of scenarios())
      lines.push(
        `  ${s.name.padEnd(16)} ${s.description}`,
        `  ${''.padEnd(16)} knobs: ${JSON.stringify(s.knobs)}`,
        ...(s.variants ? [`  ${''.padEnd(16)} variants: ${s.variants.map((v) => v.name).join(', ')}`] : []),
      )
    lines.push('balancers:')
    for (const b of BALANCERS) lines.push(`  ${b.name.padEnd(22)} ${b.description}`)
    if (args.scenario === undefined && !args.list) lines.unshift(USAGE)
    console.log(lines.join('\n'))
    return
  }
  const scenario = scenarioNamed(args.scenario)
  const started = performance.now()
  const report = await runScenario(scenario, {
    balancers: args.balancers,
    variants: args.variants,
    seeds: args.seeds,
    knobs: args.knobs,
  })
  const svgPath = args.svg === undefined ? `docs/img/sim-${scenario.name}.svg` : args.svg
  if (svgPath !== null) {
    mkdirSync(dirname(svgPath), { recursive: true })
    writeFileSync(
      svgPath,
      toSvg(report, `${scenario.name}: latency by percentile (mean of ${report.seeds} seeds)`),
    )
  }
  if (args.json) {
    console.log(JSON.stringify(toJson(report)))
    return
  }
  const lines = [
    `${scenario.name}: ${scenario.description}`,
    `knobs ${JSON.stringify(report.knobs)}, ${report.seeds} seeds, times in virtual ms (means over seeds)`,
    '',
    toTable(report, scenario.columns),
  ]
  const note = scenario.note?.(report.knobs)
  if (note) lines.push('', note)
  lines.push(
    '',
    `${((performance.now() - started) / 1000).toFixed(1)} s wall${svgPath === null ? '' : `; chart: ${svgPath}`}`,
  )
  console.log(lines.join('\n'))
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
})
