// `npm run bench:observability:cpu -- [--requests N] [--rounds N]` (defaults 20000, 30): the CPU cost
// of metrics and switched-off tracing on the client hot path alone. The endpoint is an in-process
// fake answering at once (no sockets), so the stack's own work — identify, bind cache, balancer,
// filters, stats — is all that is measured; CPU time (process.cpuUsage) rather than wall time, so a
// busy machine skews it less. Paired rounds, order alternating:
//   metrics   the default: inMemoryStats (counters, gauges, HDR + Prometheus buckets), tracing off
//   none      the same stack with a receiver that drops everything
// Reported: the median over rounds of metrics' CPU per request relative to none's in the same round.

const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href
const { createClient } = (await import(dist('http/client.js'))) as typeof import('../../src/http/client.js')
const { ResponseBody } = (await import(dist('http/body.js'))) as typeof import('../../src/http/body.js')
const { Service } = (await import(dist('core/service.js'))) as typeof import('../../src/core/service.js')
const { inMemoryStats, nullStats } = (await import(
  dist('stats/index.js')
)) as typeof import('../../src/stats/index.js')

const args = process.argv.slice(2)
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const requests = flag('--requests', 20_000)
const rounds = flag('--rounds', 30)

const dropping = () => {
  const real = inMemoryStats()
  return {
    ...real,
    scope: nullStats.scope,
    counter: nullStats.counter,
    gauge: nullStats.gauge,
    stat: nullStats.stat,
  }
}
const endpoint = () =>
  Service.of(async () => ({ statusCode: 200, statusMessage: 'OK', headers: {}, body: ResponseBody.of('ok') }))
const make = (kind: 'metrics' | 'none') =>
  createClient({
    dtab: '/svc/bench => /$/inet/127.0.0.1/1 & /$/inet/127.0.0.1/2 & /$/inet/127.0.0.1/3',
    stats: kind === 'none' ? dropping() : inMemoryStats(),
    endpoint: endpoint as never,
  })
const clients = { metrics: make('metrics'), none: make('none') }

async function round(name: 'metrics' | 'none', n: number): Promise<number> {
  const c = clients[name]
  const before = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const rep = await c.request('http://bench/')
    await rep.body.text()
  }
  const used = process.cpuUsage(before)
  return (used.user + used.system) / n // µs of CPU per request
}

for (const n of ['metrics', 'none'] as const) await round(n, 5000)
const per: Record<string, number[]> = { metrics: [], none: [] }
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? (['metrics', 'none'] as const) : (['none', 'metrics'] as const)
  for (const n of order) per[n]!.push(await round(n, requests))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ratios = per['metrics']!.map((x, i) => x / per['none']![i]!)
console.log(
  `${rounds} paired rounds of ${requests} sequential requests, fake endpoint, node ${process.version}`,
)
console.log(`none     ${median(per['none']!).toFixed(2)} µs CPU per request`)
console.log(`metrics  ${median(per['metrics']!).toFixed(2)} µs CPU per request`)
console.log(
  `metrics vs none: ${((median(ratios) - 1) * 100).toFixed(1)} % (median of per-round ratios; quartiles ${(([...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 4)]! - 1) * 100).toFixed(1)} % .. ${(([...ratios].sort((a, b) => a - b)[Math.floor((3 * ratios.length) / 4)]! - 1) * 100).toFixed(1)} %)`,
)
for (const c of Object.values(clients)) await c.close()
