// `npm run bench:http -- [--json] [--requests N] [--rounds N]` (defaults 5000, 20): the cost of the whole switchboard
// stack against plain undici. Backends run in a separate process (bench/http/backend.ts). Four
// clients send the same number of requests with the same concurrency (64 in flight), in rounds,
// in a rotating order so that none always runs first or last:
//   raw       undici.request to one Pool per endpoint, round robin (no routing, no filters)
//   switchboard client.request through identify → bind (fs namer) → p2c → failure accrual, requeues,
//             retries, stats, with default settings
//   balancedPool undici's BalancedPool over the same endpoints
//   cockatiel  undici.request (round robin over Pools) inside cockatiel retry + breaker + timeout
// and, for information: switchboard's dispatcher under undici.request (sbDispatcher), the path
// undici.fetch and the global fetch take (undici's request layer, then an interceptor); and fetch,
// undici.fetch straight to the pools (rawFetch) against client.fetch (sbFetch).
// Throughput is requests per second over a round (bodies read to the end); latency is per request,
// start to end of body, in an HDR histogram per client and round. The JSON ratios are medians over
// rounds of switchboard / raw within each round.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel'
import * as hdr from 'hdr-histogram-js'
import { BalancedPool, fetch, Pool, request } from 'undici'

// The compiled package, as users run it (tsx would add its own helpers to every function). Loaded by
// URL at run time, typed from the sources, so the type check of a fresh clone needs no dist/.
const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href
const { createClient } = (await import(dist('http/client.js'))) as typeof import('../../src/http/client.js')
const { fsNamer } = (await import(dist('namers/fs.js'))) as typeof import('../../src/namers/fs.js')

const args = process.argv.slice(2)
const json = args.includes('--json')
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const requests = flag('--requests', 5_000)
const rounds = flag('--rounds', 20)
const concurrency = 64
const backends = 3

const child = fork(fileURLToPath(new URL('./backend.ts', import.meta.url)), [String(backends)], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
const ports = await new Promise<number[]>((resolve, reject) => {
  child.once('message', (m) => resolve((m as { ports: number[] }).ports))
  child.once('exit', (code) => reject(new Error(`backend exited with ${code}`)))
})
const origins = ports.map((p) => `http://127.0.0.1:${p}`)

// raw: a Pool per endpoint, round robin
const pools = origins.map((o) => new Pool(o))
let rr = 0
const raw = async () => {
  const i = rr++ % pools.length
  const res = await request(`${origins[i]}/bench`, { dispatcher: pools[i]! })
  await res.body.text()
}

// switchboard: the fs namer finds the three endpoints; everything else is default
const disco = mkdtempSync(join(tmpdir(), 'sb-bench-'))
writeFileSync(join(disco, 'bench'), ports.map((p) => `127.0.0.1 ${p}`).join('\n'))
const namer = fsNamer({ rootDir: disco })
const client = createClient({ dtab: '/svc => /#/io.l5d.fs', namers: [namer] })
const switchboard = async () => {
  const res = await client.request('http://bench/bench')
  await res.body.text()
}

// the same client through its undici dispatcher (what undici.fetch and the global fetch use)
const viaDispatcher = async () => {
  const res = await request('http://bench/bench', { dispatcher: client.dispatcher })
  await res.body.text()
}

// fetch, for information: undici.fetch straight to the pools, and client.fetch
let fr = 0
const rawFetch = async () => {
  const i = fr++ % pools.length
  const res = await fetch(`${origins[i]}/bench`, { dispatcher: pools[i]! })
  await res.text()
}
const sbFetch = async () => {
  const res = await client.fetch('http://bench/bench')
  await res.text()
}

const balanced = new BalancedPool(origins)
const balancedPool = async () => {
  const res = await request(`${origins[0]}/bench`, { dispatcher: balanced })
  await res.body.text()
}

const policy = wrap(
  retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
  circuitBreaker(handleAll, { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(5) }),
  timeout(2_000, TimeoutStrategy.Aggressive),
)
let cr = 0
const cockatielPools = origins.map((o) => new Pool(o))
const cockatielClient = () =>
  policy.execute(async ({ signal }) => {
    const i = cr++ % cockatielPools.length
    const res = await request(`${origins[i]}/bench`, { dispatcher: cockatielPools[i]!, signal })
    await res.body.text()
  })

type Runner = () => Promise<void>
const runners: [string, Runner][] = [
  ['raw', raw],
  ['switchboard', switchboard],
  ['balancedPool', balancedPool],
  ['cockatiel', cockatielClient],
  ['sbDispatcher', viaDispatcher],
  ['rawFetch', rawFetch],
  ['sbFetch', sbFetch],
]
const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 })
const histograms = new Map(runners.map(([n]) => [n, newHistogram()]))
const rps = new Map<string, number[]>(runners.map(([n]) => [n, []]))
// p99 of each round: the machine is shared, so a hiccup lands in one round of one client; the median
// over rounds is what the clients themselves cost.
const p99s = new Map<string, number[]>(runners.map(([n]) => [n, []]))

async function round(name: string, run: Runner, n: number, record: boolean): Promise<number> {
  const all = histograms.get(name)!
  const h = newHistogram()
  let next = 0
  const worker = async () => {
    while (next < n) {
      next++
      const t0 = performance.now()
      await run()
      if (record) h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)))
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsed = performance.now() - t0
  if (record) {
    all.add(h)
    p99s.get(name)!.push(h.getValueAtPercentile(99) / 1000)
  }
  return n / (elapsed / 1000)
}

// warm up every client (JIT, connections) before measuring
for (const [name, run] of runners) await round(name, run, Math.min(5_000, requests), false)
// Each round runs raw and switchboard back to back (which one first alternates), then the others in
// a rotating order. The ratios are taken within a round, from that adjacent pair, so that the load
// other processes put on the machine, which drifts over seconds, hits both sides alike.
const [rawRunner, sbRunner, ...others] = runners
for (let r = 0; r < rounds; r++) {
  const pair = r % 2 === 0 ? [rawRunner!, sbRunner!] : [sbRunner!, rawRunner!]
  const rest = others.map((_, k) => others[(r + k) % others.length]!)
  for (const [name, run] of [...pair, ...rest]) rps.get(name)!.push(await round(name, run, requests, true))
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
const p = (name: string, q: number) => histograms.get(name)!.getValueAtPercentile(q) / 1000
const result = {
  rawRps: Math.round(median(rps.get('raw')!)),
  switchboardRps: Math.round(median(rps.get('switchboard')!)),
  balancedPoolRps: Math.round(median(rps.get('balancedPool')!)),
  cockatielRps: Math.round(median(rps.get('cockatiel')!)),
  switchboardDispatcherRps: Math.round(median(rps.get('sbDispatcher')!)),
  rawFetchRps: Math.round(median(rps.get('rawFetch')!)),
  switchboardFetchRps: Math.round(median(rps.get('sbFetch')!)),
  throughputRatio: 0,
  p99Ratio: 0,
}
const perRound = (m: Map<string, number[]>) => m.get('switchboard')!.map((x, i) => x / m.get('raw')![i]!)
result.throughputRatio = Number(median(perRound(rps)).toFixed(3))
result.p99Ratio = Number(median(perRound(p99s)).toFixed(3))

if (json) console.log(JSON.stringify(result))
else {
  console.log(
    `${requests} requests x ${rounds} rounds, ${concurrency} in flight, ${backends} backends (separate process)`,
  )
  console.log('client        rps (median)  p50 ms  p99 ms  p999 ms  p99 ms (median of rounds)')
  for (const [name] of runners) {
    console.log(
      `${name.padEnd(13)} ${String(Math.round(median(rps.get(name)!))).padStart(12)}  ${p(name, 50).toFixed(2).padStart(6)}  ${p(name, 99).toFixed(2).padStart(6)}  ${p(name, 99.9).toFixed(2).padStart(7)}  ${median(p99s.get(name)!).toFixed(2).padStart(6)}`,
    )
  }
  console.log(`throughputRatio ${result.throughputRatio}  p99Ratio ${result.p99Ratio}`)
}

await client.close()
namer.close()
await Promise.all([...pools, ...cockatielPools].map((x) => x.close()))
await balanced.close()
rmSync(disco, { recursive: true, force: true })
child.disconnect()
