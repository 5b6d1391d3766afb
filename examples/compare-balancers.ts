// Compare balancer algorithms on your own service's latency model, in virtual time.
//
//   npx tsx examples/compare-balancers.ts [--seeds N] [--duration ms]
//
// The simulator drives the real balancers from `switchboard/balancer` with a virtual clock and
// seeded randomness, so a minute of traffic takes a fraction of a second and every run repeats
// exactly. Edit `myLatency` and `setup` to describe your fleet; `npm run sim -- --list` shows the
// published scenarios and the balancer names.
import type { SimSetup } from '../bench/sim/engine.js'
import { type Latency, lognormalLatency } from '../bench/sim/latency.js'
import { runSetup, toTable } from '../bench/sim/report.js'
import type { ServerSpec } from '../bench/sim/servers.js'

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const v = Number(process.argv[i + 1])
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name} expects a positive number, found '${process.argv[i + 1]}'`)
    process.exit(2)
  }
  return v
}

const seeds = option('seeds', 5)
const durationMs = option('duration', 60_000)

// A user-defined latency model: most requests hit a cache (lognormal, p50 8 ms, p99 40 ms), one in
// ten goes to the database (lognormal, p50 60 ms, p99 400 ms). Any (random) => ms function works.
const cacheHit = lognormalLatency(8, 40)
const database = lognormalLatency(60, 400)
const myLatency: Latency = (random) => (random.next() < 0.9 ? cacheHit(random) : database(random))

// Eight backends with 8 workers each (a FIFO queue, so piling requests on one backend costs).
// Backend 0 has a noisy neighbour: every 10 s it runs 6× slower for 3 s.
const noisyNeighbour = (t: number) => (t % 10_000 >= 7_000 ? 6 : 1)
const servers: ServerSpec[] = Array.from({ length: 8 }, (_, i) => ({
  latency: myLatency,
  slots: 8,
  ...(i === 0 ? { slowdown: noisyNeighbour } : {}),
}))

const setup: SimSetup = {
  servers,
  arrivals: { kind: 'poisson', ratePerSec: 1500 },
  durationMs,
  warmupMs: Math.min(5000, durationMs / 10),
}

const report = await runSetup('my-service', setup, {
  balancers: ['roundRobin', 'p2c', 'p2cPeakEwma', 'aperture', 'heap', 'oracle'],
  seeds,
})
console.log(`my-service: ${seeds} seeds × ${durationMs / 1000} s of virtual time, latencies in ms`)
console.log(toTable(report))
const best = [...report.results].filter((r) => r.balancer !== 'oracle').sort((a, b) => a.p99 - b.p99)[0]!
console.log(`\nlowest p99 (oracle aside): ${best.balancer} at ${best.p99.toFixed(1)} ms`)
