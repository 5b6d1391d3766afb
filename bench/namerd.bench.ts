// namerd benchmarks: watch fan-out (time from a PUT to the last of 1,000 watchers) and
// GET /api/1/dtabs/<ns> throughput. namerd runs as its own process (the real executable, in-memory
// store), the load generator in this one, both on loopback.
// Run: `npx tsx bench/namerd.bench.ts` (or `npm run bench -- namerd`).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { Bench } from 'tinybench'
import { Pool } from 'undici'

const WATCHERS = 1000
const PUTS = 40
const THROUGHPUT_MS = 5000
const CONCURRENCY = 32

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const ms = (x: number) => `${x.toFixed(2)} ms`

/**
 * CPU time (user + system, ms) the process has used, from /proc (Linux); `undefined` elsewhere.
 * On a shared machine wall-clock figures measure the neighbours too; namerd's own CPU time per
 * operation does not.
 */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return (ticks * 1000) / 100 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}
const perOp = (before: number | undefined, after: number | undefined, ops: number) =>
  before === undefined || after === undefined ? 'n/a' : `${(((after - before) / ops) * 1000).toFixed(0)} µs`

async function startNamerd(): Promise<{ child: ChildProcess; api: string }> {
  // The built executable when there is one (what production runs), else the sources through tsx.
  const args = existsSync('dist/cli/namerd.js')
    ? ['dist/cli/namerd.js', '-']
    : ['--import', 'tsx', 'src/cli/namerd.ts', '-']
  console.log(`namerd: node ${args.join(' ')}`)
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  child.stdin!.end(
    JSON.stringify({
      admin: { port: 0 },
      storage: { kind: 'io.l5d.inMemory', namespaces: { bench: '/svc=>/#/io.l5d.fs/v0' } },
      interfaces: [{ kind: 'io.l5d.httpController', port: 0 }],
    }),
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const deadline = Date.now() + 20000
  for (;;) {
    const m = /http controller: (\S+)/.exec(out)
    if (m) return { child, api: m[1]! }
    if (Date.now() > deadline) throw new Error(`namerd did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

interface Watcher {
  /** Resolves when the watcher sees a line containing `marker`. */
  waitFor(marker: string): Promise<number>
  close(): void
}

function openWatch(url: string): Promise<Watcher> {
  return new Promise((resolve, reject) => {
    const waiting = new Map<string, (t: number) => void>()
    let partial = ''
    const req = httpRequest(url, { agent: false, headers: { accept: 'application/dtab' } }, (res) => {
      res.setEncoding('utf8')
      let first = true
      res.on('data', (chunk: string) => {
        const now = performance.now()
        partial += chunk
        let nl = partial.indexOf('\n')
        while (nl >= 0) {
          const line = partial.slice(0, nl)
          partial = partial.slice(nl + 1)
          nl = partial.indexOf('\n')
          if (first) {
            first = false
            resolve({
              waitFor: (marker) => new Promise((ok) => waiting.set(marker, ok)),
              close: () => req.destroy(),
            })
          }
          for (const [marker, ok] of waiting)
            if (line.includes(marker)) {
              waiting.delete(marker)
              ok(now)
            }
        }
      })
    })
    req.on('error', reject)
    req.end()
  })
}

async function put(pool: Pool, body: string): Promise<void> {
  const r = await pool.request({
    path: '/api/1/dtabs/bench',
    method: 'PUT',
    headers: { 'content-type': 'application/dtab' },
    body,
  })
  await r.body.text()
  if (r.statusCode !== 204) throw new Error(`PUT answered ${r.statusCode}`)
}

async function main(): Promise<void> {
  const { child, api } = await startNamerd()
  const pool = new Pool(api, { connections: CONCURRENCY })
  try {
    // 1. Watch fan-out.
    const opened = performance.now()
    const watchers: Watcher[] = []
    for (let i = 0; i < WATCHERS; i += 100) {
      watchers.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, WATCHERS - i) }, () =>
            openWatch(`${api}/api/1/dtabs/bench?watch=true`),
          ),
        )),
      )
    }
    console.log(`${WATCHERS} watches open in ${ms(performance.now() - opened)}`)
    const toLast: number[] = []
    const perDelivery: number[] = []
    const cpuFanoutBefore = cpuMs(child.pid)
    for (let i = 1; i <= PUTS; i++) {
      const marker = `/#/io.l5d.fs/v${i}`
      const seen = Promise.all(watchers.map((w) => w.waitFor(marker)))
      const start = performance.now()
      await put(pool, `/svc=>${marker}`)
      const times = await seen
      toLast.push(Math.max(...times) - start)
      for (const t of times) perDelivery.push(t - start)
      await new Promise((r) => setTimeout(r, 50))
    }
    const cpuFanoutAfter = cpuMs(child.pid)
    toLast.sort((a, b) => a - b)
    perDelivery.sort((a, b) => a - b)
    console.table([
      {
        case: `PUT → last of ${WATCHERS} watchers (${PUTS} PUTs)`,
        p50: ms(percentile(toLast, 50)),
        p99: ms(percentile(toLast, 99)),
        max: ms(toLast[toLast.length - 1]!),
        'namerd CPU per PUT': perOp(cpuFanoutBefore, cpuFanoutAfter, PUTS),
      },
      {
        case: `PUT → each watcher (${perDelivery.length} deliveries)`,
        p50: ms(percentile(perDelivery, 50)),
        p99: ms(percentile(perDelivery, 99)),
        max: ms(perDelivery[perDelivery.length - 1]!),
      },
    ])
    for (const w of watchers) w.close()

    // 2. GET throughput: CONCURRENCY requests in flight for THROUGHPUT_MS.
    const latencies: number[] = []
    let done = 0
    const until = performance.now() + THROUGHPUT_MS
    const startedAt = performance.now()
    const cpuGetBefore = cpuMs(child.pid)
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now()
          const r = await pool.request({
            path: '/api/1/dtabs/bench',
            method: 'GET',
            headers: { accept: 'application/json' },
          })
          await r.body.text()
          if (r.statusCode !== 200) throw new Error(`GET answered ${r.statusCode}`)
          latencies.push(performance.now() - t0)
          done++
        }
      }),
    )
    const elapsed = (performance.now() - startedAt) / 1000
    const cpuGetAfter = cpuMs(child.pid)
    latencies.sort((a, b) => a - b)
    console.table([
      {
        case: `GET /api/1/dtabs/<ns>, ${CONCURRENCY} in flight, ${THROUGHPUT_MS / 1000} s`,
        'requests/s': Math.round(done / elapsed).toLocaleString('en-US'),
        p50: ms(percentile(latencies, 50)),
        p99: ms(percentile(latencies, 99)),
        'namerd CPU per GET': perOp(cpuGetBefore, cpuGetAfter, done),
      },
    ])

    // 3. One GET at a time (tinybench): the round-trip cost without queueing.
    const bench = new Bench({ name: 'namerd', time: 2000, warmup: true, retainSamples: false })
    bench.add('GET /api/1/dtabs/<ns>, one at a time', async () => {
      const r = await pool.request({ path: '/api/1/dtabs/bench', method: 'GET' })
      await r.body.text()
    })
    await bench.run()
    console.table(
      bench.tasks.map((t) => {
        const r = t.result as { latency: { p50: number; p99: number } }
        return { case: t.name, 'median (ms)': r.latency.p50.toFixed(3), 'p99 (ms)': r.latency.p99.toFixed(3) }
      }),
    )
  } finally {
    await pool.close()
    child.kill('SIGTERM')
  }
}

await main()
