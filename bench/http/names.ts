// `npm run -s bench:names -- [--json] [--names N] [--per-name N] [--long N]`: the cost of many
// distinct names through one client (issue 13). One backend in a separate process; the client's dtab
// `/svc => /$/inet/127.0.0.1/<port>` sends every Host to it, so each distinct Host is a distinct
// logical name (`/svc/<host>`, a path stack of its own) over one bound client, as a proxy in front of
// arbitrary Host headers sees them.
//
//   one name     N requests to one name: CPU per request (process.cpuUsage), the baseline
//   many names   the same N requests over `--names` distinct names, `--per-name` consecutive requests
//                each (64 in flight), in paired rounds with the baseline: CPU per request ratio
//   memory       heap and RSS after a full GC: after the baseline, after the names, and after as
//                many *other* names again; heap per evicted name = the growth of the second pass ÷
//                names (the cache is full both times, so what grows is what eviction leaves behind)
//   long         `--long N` requests to one name (default 1,000,000; 0 to skip): heap after GC every
//                N/10 requests (flat = no per-request leak)
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href
const { createClient } = (await import(dist('http/client.js'))) as typeof import('../../src/http/client.js')

const args = process.argv.slice(2)
const json = args.includes('--json')
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const names = flag('--names', 10_000)
const perName = flag('--per-name', 10)
const rounds = flag('--rounds', 3)
const long = flag('--long', 1_000_000)
const concurrency = 64
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc')

const child = fork(fileURLToPath(new URL('./backend.ts', import.meta.url)), ['1'], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
const [port] = await new Promise<number[]>((resolve, reject) => {
  child.once('message', (m) => resolve((m as { ports: number[] }).ports))
  child.once('exit', (code) => reject(new Error(`backend exited with ${code}`)))
})
const client = createClient({ dtab: `/svc => /$/inet/127.0.0.1/${port}` })

/** Sends `n` requests, 64 in flight; request i goes to `hostOf(i)`. */
async function send(n: number, hostOf: (i: number) => string): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      const res = await client.request(`http://${hostOf(i)}/bench`)
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      await res.body.text()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/** CPU µs per request of `send(n, hostOf)`. */
async function cpuPerRequest(n: number, hostOf: (i: number) => string): Promise<number> {
  const c0 = process.cpuUsage()
  await send(n, hostOf)
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / n
}

const mem = () => {
  gc()
  gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, rss: m.rss, external: m.external + m.arrayBuffers }
}
const mb = (x: number) => Number((x / 2 ** 20).toFixed(1))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const total = names * perName
const one = (_: number) => 'one'
let pass = 0
const many = () => {
  const p = pass++
  return (i: number) => `n${p}-${Math.floor(i / perName)}`
}

// warm up: JIT and connections, and one pass of names so that the memory baseline includes a full cache
await send(20_000, one)
const base = mem()
const oneCpu: number[] = []
const manyCpu: number[] = []
let afterFirst = base
for (let r = 0; r < rounds; r++) {
  const pair: [number[], () => Promise<number>][] = [
    [oneCpu, () => cpuPerRequest(total, one)],
    [manyCpu, () => cpuPerRequest(total, many())],
  ]
  if (r % 2 === 1) pair.reverse()
  for (const [into, run] of pair) into.push(await run())
  if (r === 0) afterFirst = mem()
}
const afterAll = mem()
// Each round after the first sent `names` new names (each evicting an old one): what is left behind.
const evicted = names * (rounds - 1)
const heapPerEvicted = rounds > 1 ? (afterAll.heap - afterFirst.heap) / evicted : Number.NaN

const heapSeries: number[] = []
if (long > 0) {
  const step = long / 10
  for (let k = 0; k < 10; k++) {
    await send(step, one)
    heapSeries.push(mb(mem().heap))
  }
}

const result = {
  names,
  perName,
  cpuUsPerRequestOneName: Number(median(oneCpu).toFixed(2)),
  cpuUsPerRequestManyNames: Number(median(manyCpu).toFixed(2)),
  cpuRatio: Number(median(manyCpu.map((x, i) => x / oneCpu[i]!)).toFixed(3)),
  heapPerEvictedNameBytes: Math.round(heapPerEvicted),
  rssGrowthMb: mb(afterFirst.rss - base.rss),
  rssGrowthAllRoundsMb: mb(afterAll.rss - base.rss),
  heapMb: { base: mb(base.heap), afterFirstPass: mb(afterFirst.heap), afterAll: mb(afterAll.heap) },
  externalMb: { base: mb(base.external), afterAll: mb(afterAll.external) },
  cache: client.stats.json(),
  longRunHeapMb: heapSeries,
}
const cacheStats = Object.fromEntries(
  Object.entries(result.cache).filter(([k]) => k.startsWith('rt/bindcache')),
) as Record<string, number>
if (json) console.log(JSON.stringify({ ...result, cache: cacheStats }))
else {
  const { cache: _c, ...rest } = result
  console.log(JSON.stringify({ ...rest, cache: cacheStats }, null, 2))
}
await client.close()
child.disconnect()
