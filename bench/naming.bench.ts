// Naming benchmarks: reading dtabs and looking paths up.
// Run: `npx tsx bench/naming.bench.ts` (or `npm run bench -- naming`).
//
// To add a case, push onto `cases` below; a case is a name and a synchronous or async function.
// The table prints every case; the checks at the end print PASS/FAIL lines.
import { Bench } from 'tinybench'
import { Dtab, Path } from '../src/naming/index.js'

/** A realistic dtab of `n` entries: a catch-all, then per-service canaries and fail-overs. */
export function dtabText(n: number): string {
  const lines = ['/srv => /#/io.l5d.consul/dc1 ;']
  for (let i = 1; i < n; i++) {
    lines.push(
      i % 2 === 0
        ? `/svc/service${i} => 1 * /srv/service${i}-canary & 9 * /srv/service${i} | /$/inet/127.0.0.1/${8000 + i} ;`
        : `/svc/*/service${i} => /#/io.l5d.k8s/prod/http/service${i} | ~ ; # namespaced`,
    )
  }
  return lines.join('\n')
}

const text10 = dtabText(10)
const text1000 = dtabText(1000)
const dtab10 = Dtab.read(text10)
const dtab1000 = Dtab.read(text1000)
const hit = Path.read('/svc/service4/api/v1/users')
const miss = Path.read('/svc/nothing/here')
const sink: unknown[] = []

export interface BenchCase {
  readonly name: string
  readonly fn: () => unknown
}

export const cases: BenchCase[] = [
  { name: 'Dtab.read 10 entries', fn: () => sink.push(Dtab.read(text10)) },
  { name: 'Dtab.read 1,000 entries', fn: () => sink.push(Dtab.read(text1000)) },
  { name: 'Dtab.show 1,000 entries', fn: () => sink.push(dtab1000.show()) },
  { name: 'Dtab.lookup hit, 10 entries', fn: () => sink.push(dtab10.lookup(hit)) },
  { name: 'Dtab.lookup miss, 10 entries', fn: () => sink.push(dtab10.lookup(miss)) },
  { name: 'Dtab.lookup hit, 1,000 entries', fn: () => sink.push(dtab1000.lookup(hit)) },
  { name: 'Path.read 5 labels', fn: () => sink.push(Path.read('/svc/service4/api/v1/users')) },
]

async function main(): Promise<void> {
  const bench = new Bench({ name: 'naming', time: 1000, warmup: true, retainSamples: false })
  for (const c of cases) {
    bench.add(c.name, () => {
      c.fn()
      if (sink.length > 1000) sink.length = 0
    })
  }
  await bench.run()

  const fastest = new Map<string, number>()
  const rows = bench.tasks.map((task) => {
    const r = task.result
    if (r.state !== 'completed') return { case: task.name, state: r.state }
    fastest.set(task.name, r.latency.min)
    return {
      case: task.name,
      'min (µs)': (r.latency.min * 1000).toFixed(2),
      'median (µs)': (r.latency.p50 * 1000).toFixed(2),
      'mean (µs)': (r.latency.mean * 1000).toFixed(2),
      'p99 (µs)': (r.latency.p99 * 1000).toFixed(2),
      'median ops/s': Math.round(1000 / r.latency.p50).toLocaleString('en-US'),
      samples: r.latency.df + 1,
    }
  })
  console.table(rows)
  console.log(`dtab text: 10 entries ${text10.length} chars, 1,000 entries ${text1000.length} chars`)

  // Parsing is linear: 1,000 entries should cost about 100 × 10 entries (within 2×). The fastest
  // sample of each is compared, since on a shared machine every other statistic also measures the
  // neighbours; the text-length ratio is printed too (later entries have longer numbers).
  const small = fastest.get('Dtab.read 10 entries')
  const large = fastest.get('Dtab.read 1,000 entries')
  if (small === undefined || large === undefined) {
    console.log('FAIL linear parsing: a read case did not complete')
    process.exitCode = 1
    return
  }
  const ratio = large / small
  const ok = ratio >= 50 && ratio <= 200
  const chars = text1000.length / text10.length
  console.log(
    `${ok ? 'PASS' : 'FAIL'} linear parsing: 1,000 entries / 10 entries = ${ratio.toFixed(1)}× ` +
      `(want 50–200×; the text is ${chars.toFixed(1)}× longer)`,
  )
  if (!ok) process.exitCode = 1
}

await main()
