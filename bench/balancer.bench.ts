// Balancer micro benchmarks: the cost of one pick plus release at 10, 100, 1 000 and 10 000 nodes
// for each algorithm, and the heap held by a 10 000-node balancer.
// Run: `npm run bench:balancer` (node --expose-gc, so the memory figures are after a full GC).
//
// Each measured call does OPS acquire/release pairs against a balancer that keeps CONCURRENCY
// requests outstanding (the oldest is released as a new one is acquired), so loads are not all zero
// and peak EWMA sees real round-trip times on a virtual clock that advances 1 µs per request.
import { Bench } from 'tinybench'
import {
  aperture,
  type BalancerAlgorithm,
  balancer,
  type EndpointAddress,
  heap,
  type Lease,
  p2c,
  p2cPeakEwma,
  roundRobin,
} from '../src/balancer/index.js'
import { manualClock } from '../src/core/clock.js'
import { seededRandom } from '../src/core/random.js'
import { Service } from '../src/core/service.js'

const SIZES = [10, 100, 1000, 10_000] as const
const OPS = 100
const CONCURRENCY = 8

const ALGORITHMS: Array<[string, () => BalancerAlgorithm]> = [
  ['p2c', () => p2c()],
  ['p2cPeakEwma', () => p2cPeakEwma()],
  ['aperture', () => aperture()],
  ['aperture (deterministic)', () => aperture({ coordinate: { instanceId: 3, totalInstances: 10 } })],
  ['heap', () => heap()],
  ['roundRobin', () => roundRobin()],
]

const endpoint = Service.const('ok')
const addressesOf = (n: number): EndpointAddress[] =>
  Array.from({ length: n }, (_, i) => ({
    host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 8080,
  }))

function setup(algorithm: BalancerAlgorithm, n: number) {
  const clock = manualClock()
  const lb = balancer({
    addresses: addressesOf(n),
    connect: () => endpoint,
    algorithm,
    clock,
    random: seededRandom(1),
  })
  const ring: Lease<unknown, string>[] = []
  for (let i = 0; i < CONCURRENCY; i++) ring.push(lb.acquire())
  let k = 0
  const run = () => {
    for (let i = 0; i < OPS; i++) {
      clock.advance(0.001)
      ring[k]!.release()
      ring[k] = lb.acquire()
      k = (k + 1) % CONCURRENCY
    }
  }
  return { lb, run }
}

async function timing(): Promise<Map<string, number[]>> {
  const bench = new Bench({ name: 'balancer', time: 400, warmup: true, retainSamples: false })
  for (const [name, algorithm] of ALGORITHMS)
    for (const n of SIZES) {
      const { run } = setup(algorithm(), n)
      bench.add(`${name} @${n}`, run)
    }
  await bench.run()
  const perOp = new Map<string, number[]>()
  for (const task of bench.tasks) {
    const r = task.result
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`)
    const [name] = task.name.split(' @')
    const ns = (r.latency.p50 * 1e6) / OPS
    perOp.set(name!, [...(perOp.get(name!) ?? []), ns])
  }
  return perOp
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

function memory(): Array<[string, number]> {
  const out: Array<[string, number]> = []
  const addresses = addressesOf(10_000)
  for (const [name, algorithm] of ALGORITHMS) {
    const before = heapUsed()
    const lbs = Array.from({ length: 5 }, () =>
      balancer({ addresses, connect: () => endpoint, algorithm: algorithm(), random: seededRandom(1) }),
    )
    for (const lb of lbs) lb.acquire().release()
    const after = heapUsed()
    out.push([name, (after - before) / lbs.length])
    for (const lb of lbs) void lb.close()
  }
  return out
}

async function main(): Promise<void> {
  // Sanity: a pick really picks (a bench of a broken balancer would flatter us).
  const { lb } = setup(p2c(), 10)
  const lease = lb.acquire()
  const ok = typeof lease.address.host === 'string' && lb.endpoints().some((e) => e.pending > 0)
  lease.release()

  const perOp = await timing()
  const rows = [...perOp].map(([name, ns]) => {
    const row: Record<string, string> = { algorithm: name }
    SIZES.forEach((n, i) => {
      row[`${n} nodes (ns)`] = ns[i]!.toFixed(0)
    })
    row['10 000 ÷ 10'] = (ns[3]! / ns[0]!).toFixed(2)
    return row
  })
  console.log(`pick + release, median ns per pair (${OPS} pairs per sample, ${CONCURRENCY} outstanding):`)
  console.table(rows)

  if ((globalThis as { gc?: () => void }).gc === undefined)
    console.log('(run with node --expose-gc for memory figures after a full GC)')
  const mem = memory()
  console.log(
    'heap held by one 10 000-node balancer (endpoint service shared, so this is the balancer alone):',
  )
  console.table(
    mem.map(([name, bytes]) => ({
      algorithm: name,
      'MiB per balancer': (bytes / 2 ** 20).toFixed(2),
      'bytes per node': (bytes / 10_000).toFixed(0),
    })),
  )
  console.log(`${ok ? 'PASS' : 'FAIL'} a pick dispatches to a node and counts it`)
  if (!ok) process.exitCode = 1
}

await main()
