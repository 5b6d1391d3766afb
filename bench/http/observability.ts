// `npm run bench:observability -- [--requests N] [--rounds N]` (defaults 4000, 16): what metrics and
// (switched-off) tracing cost on the client hot path. Two switchboard clients over the same loopback
// backends (a separate process, bench/http/backend.ts), 64 requests in flight, in paired rounds whose
// order alternates:
//   metrics   the default: every floor counts into an inMemoryStats (counters, gauges, HDR +
//             Prometheus buckets), tracing off
//   none      the same stack with a receiver that drops everything
// and, for information, `traced`: tracing on through an OpenTelemetry tracer that samples nothing
// (spans are created but not recorded). Reported: the median over rounds of each client's
// throughput relative to `none` in the same round, and p50/p99 latency.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as api from '@opentelemetry/api'
import { AlwaysOffSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import * as hdr from 'hdr-histogram-js'

const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href
const { createClient } = (await import(dist('http/client.js'))) as typeof import('../../src/http/client.js')
const { fsNamer } = (await import(dist('namers/fs.js'))) as typeof import('../../src/namers/fs.js')
const { inMemoryStats, nullStats } = (await import(
  dist('stats/index.js')
)) as typeof import('../../src/stats/index.js')
const { tracingFromOpenTelemetry } = (await import(
  dist('telemetry/index.js')
)) as typeof import('../../src/telemetry/index.js')

const args = process.argv.slice(2)
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const requests = flag('--requests', 4_000)
const rounds = flag('--rounds', 16)
const concurrency = 64

const child = fork(fileURLToPath(new URL('./backend.ts', import.meta.url)), ['3'], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
const ports = await new Promise<number[]>((resolve, reject) => {
  child.once('message', (m) => resolve((m as { ports: number[] }).ports))
  child.once('exit', (code) => reject(new Error(`backend exited with ${code}`)))
})
const disco = mkdtempSync(join(tmpdir(), 'sb-obs-bench-'))
writeFileSync(join(disco, 'bench'), ports.map((p) => `127.0.0.1 ${p}`).join('\n'))

/** An InMemoryStats whose receiver drops everything (the exports are empty). */
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
const provider = new BasicTracerProvider({ sampler: new AlwaysOffSampler() })
const make = (kind: string) =>
  createClient({
    dtab: '/svc => /#/io.l5d.fs',
    namers: [fsNamer({ rootDir: disco })],
    stats: kind === 'none' ? dropping() : inMemoryStats(),
    ...(kind === 'traced' ? { tracing: tracingFromOpenTelemetry(api, provider.getTracer('bench')) } : {}),
  })
const names = ['metrics', 'none', 'traced'] as const
const clients = Object.fromEntries(names.map((n) => [n, make(n)]))

async function round(name: string, n: number, h?: hdr.Histogram): Promise<number> {
  const c = clients[name]!
  let next = 0
  const start = performance.now()
  const worker = async () => {
    while (next < n) {
      next++
      const t0 = performance.now()
      const rep = await c.request('http://bench/')
      await rep.body.text()
      h?.recordValue(Math.round((performance.now() - t0) * 1000))
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return n / ((performance.now() - start) / 1000)
}

for (const n of names) await round(n, 2000) // warm up: connections, JIT
const rps: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
const lat = Object.fromEntries(names.map((n) => [n, hdr.build({ numberOfSignificantValueDigits: 3 })]))
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [...names] : [...names].reverse()
  for (const n of order) rps[n]!.push(await round(n, requests, lat[n]))
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
console.log(
  `${rounds} paired rounds of ${requests} requests, ${concurrency} in flight, node ${process.version}`,
)
console.log('client   req/s (median)  vs none (median of per-round ratios)  p50 µs  p99 µs')
for (const n of names) {
  const ratios = rps[n]!.map((x, i) => x / rps['none']![i]!)
  const h = lat[n]!
  console.log(
    `${n.padEnd(8)} ${median(rps[n]!).toFixed(0).padStart(14)}  ${((median(ratios) - 1) * 100).toFixed(1).padStart(6)} %${' '.repeat(31)}${h.getValueAtPercentile(50)}  ${h.getValueAtPercentile(99)}`,
  )
}
for (const c of Object.values(clients)) await c.close()
await provider.shutdown()
child.disconnect()
rmSync(disco, { recursive: true, force: true })
