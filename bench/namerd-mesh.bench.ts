// namerd's io.l5d.mesh interface beside its HTTP watch: 1,000 watchers of one namespace, the time
// from a PUT to the last watcher's update. namerd runs as its own process (the real executable,
// in-memory store, both interfaces), the watchers in this one, all on loopback. Each watcher has
// its own connection (1,000 routers), as in bench/namerd.bench.ts.
// Run: `npx tsx bench/namerd-mesh.bench.ts` (WATCHERS=…, PUTS=… to change the sizes).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import type * as Grpc from '@grpc/grpc-js'
import { Pool } from 'undici'
import { pathToWire } from '../src/namerd/mesh/convert.js'
import { loadMeshGrpc } from '../src/namerd/mesh/proto.js'
import { Path } from '../src/naming/path.js'

const WATCHERS = Number(process.env['WATCHERS'] ?? 1000)
const PUTS = Number(process.env['PUTS'] ?? 20)

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const ms = (x: number) => `${x.toFixed(1)} ms`

function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return undefined
  }
}

async function startNamerd(): Promise<{ child: ChildProcess; api: string; mesh: string }> {
  const args = existsSync('dist/cli/namerd.js')
    ? ['dist/cli/namerd.js', '-']
    : ['--import', 'tsx', 'src/cli/namerd.ts', '-']
  console.log(`namerd: node ${args.join(' ')}`)
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  child.stdin!.end(
    JSON.stringify({
      admin: { port: 0 },
      storage: { kind: 'io.l5d.inMemory', namespaces: { bench: '/svc=>/$/inet/127.0.0.1/1' } },
      interfaces: [
        { kind: 'io.l5d.httpController', port: 0 },
        { kind: 'io.l5d.mesh', port: 0 },
      ],
    }),
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const deadline = Date.now() + 20000
  for (;;) {
    const h = /http controller: (\S+)/.exec(out)
    const m = /mesh interface: +(\S+)/.exec(out)
    if (h && m) return { child, api: h[1]!, mesh: m[1]! }
    if (Date.now() > deadline) throw new Error(`namerd did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A watcher: `waitFor(marker)` resolves with the time an update containing `marker` arrived. */
interface Watcher {
  waitFor(marker: string): Promise<number>
  close(): void
}

function watcherOf(onReady: (w: Watcher) => void) {
  const waiting = new Map<string, (t: number) => void>()
  let ready = false
  const w = {
    waitFor: (marker: string) => new Promise<number>((ok) => waiting.set(marker, ok)),
    close: () => {},
  }
  return {
    w,
    deliver(text: string) {
      const now = performance.now()
      if (!ready) {
        ready = true
        onReady(w)
      }
      for (const [marker, ok] of waiting)
        if (text.includes(marker)) {
          waiting.delete(marker)
          ok(now)
        }
    },
  }
}

function httpWatch(url: string): Promise<Watcher> {
  return new Promise((resolve, reject) => {
    const { w, deliver } = watcherOf(resolve)
    let partial = ''
    const req = httpRequest(url, { agent: false, headers: { accept: 'application/dtab' } }, (res) => {
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        partial += chunk
        let nl = partial.indexOf('\n')
        while (nl >= 0) {
          deliver(partial.slice(0, nl))
          partial = partial.slice(nl + 1)
          nl = partial.indexOf('\n')
        }
      })
    })
    w.close = () => req.destroy()
    req.on('error', reject)
    req.end()
  })
}

function meshWatch(
  ctor: Grpc.ServiceClientConstructor,
  grpc: typeof Grpc,
  target: string,
  method: string,
  request: object,
  show: (msg: unknown) => string,
  sharedClient?: Grpc.Client,
): Promise<Watcher> {
  return new Promise((resolve, reject) => {
    const { w, deliver } = watcherOf(resolve)
    // One channel per watcher (a router each), unless a shared one is given (one router).
    const client =
      sharedClient ??
      new ctor(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })
    const call = (client as unknown as Record<string, (r: object) => Grpc.ClientReadableStream<unknown>>)[
      method
    ]!(request)
    call.on('data', (msg: unknown) => deliver(show(msg)))
    call.on('error', (e: Grpc.ServiceError) => {
      if (e.code !== grpc.status.CANCELLED) reject(e)
    })
    w.close = () => {
      call.cancel()
      if (!sharedClient) client.close()
    }
  })
}

async function openAll(make: () => Promise<Watcher>): Promise<{ watchers: Watcher[]; openMs: number }> {
  const t0 = performance.now()
  const watchers: Watcher[] = []
  for (let i = 0; i < WATCHERS; i += 100)
    watchers.push(...(await Promise.all(Array.from({ length: Math.min(100, WATCHERS - i) }, make))))
  return { watchers, openMs: performance.now() - t0 }
}

let port = 1000
async function fanOut(
  label: string,
  pid: number | undefined,
  pool: Pool,
  watchers: readonly Watcher[],
  openMs: number,
) {
  const toLast: number[] = []
  const each: number[] = []
  const cpu0 = cpuMs(pid)
  for (let i = 0; i < PUTS; i++) {
    port++
    const marker = `127.0.0.1/${port}`
    const seen = Promise.all(watchers.map((w) => w.waitFor(marker)))
    const start = performance.now()
    const r = await pool.request({
      path: '/api/1/dtabs/bench',
      method: 'PUT',
      headers: { 'content-type': 'application/dtab' },
      body: `/svc=>/$/inet/${marker}`,
    })
    await r.body.text()
    if (r.statusCode !== 204) throw new Error(`PUT answered ${r.statusCode}`)
    const times = await seen
    toLast.push(Math.max(...times) - start)
    for (const t of times) each.push(t - start)
    await new Promise((r) => setTimeout(r, 50))
  }
  const cpu1 = cpuMs(pid)
  toLast.sort((a, b) => a - b)
  each.sort((a, b) => a - b)
  return {
    case: label,
    'open all': ms(openMs),
    'PUT → last p50': ms(percentile(toLast, 50)),
    'PUT → last p99': ms(percentile(toLast, 99)),
    'PUT → each p50': ms(percentile(each, 50)),
    'namerd CPU per PUT':
      cpu0 === undefined || cpu1 === undefined ? 'n/a' : `${((cpu1 - cpu0) / PUTS).toFixed(1)} ms`,
  }
}

async function main(): Promise<void> {
  const { child, api, mesh } = await startNamerd()
  const pool = new Pool(api, { connections: 4 })
  const { grpc, Delegator, Interpreter } = await loadMeshGrpc('bench')
  const rows: object[] = []
  try {
    {
      const { watchers, openMs } = await openAll(() => httpWatch(`${api}/api/1/dtabs/bench?watch=true`))
      rows.push(
        await fanOut(
          `HTTP GET /api/1/dtabs/<ns>?watch=true × ${WATCHERS}`,
          child.pid,
          pool,
          watchers,
          openMs,
        ),
      )
      for (const w of watchers) w.close()
    }
    {
      const { watchers, openMs } = await openAll(() =>
        httpWatch(`${api}/api/1/bind/bench?path=/svc/users&watch=true`),
      )
      rows.push(
        await fanOut(`HTTP GET /api/1/bind/<ns>?watch=true × ${WATCHERS}`, child.pid, pool, watchers, openMs),
      )
      for (const w of watchers) w.close()
    }
    const root = pathToWire(Path.of('bench'))
    const labels = (p: { elems?: Buffer[] } | undefined) =>
      (p?.elems ?? []).map((e) => e.toString()).join('/')
    {
      const { watchers, openMs } = await openAll(() =>
        meshWatch(Delegator, grpc, mesh, 'StreamDtab', { root }, (msg) => {
          const d = (
            msg as { dtab: { dtab: { dentries: { dst: { leaf: { id: { elems: Buffer[] } } } }[] } } }
          ).dtab.dtab
          return d.dentries.map((e) => labels(e.dst.leaf?.id)).join(';')
        }),
      )
      rows.push(await fanOut(`mesh Delegator/StreamDtab × ${WATCHERS}`, child.pid, pool, watchers, openMs))
      for (const w of watchers) w.close()
    }
    {
      const name = pathToWire(Path.read('/svc/users'))
      const { watchers, openMs } = await openAll(() =>
        meshWatch(Interpreter, grpc, mesh, 'StreamBoundTree', { root, name }, (msg) =>
          labels((msg as { tree: { leaf?: { id: { elems: Buffer[] } } } }).tree.leaf?.id),
        ),
      )
      rows.push(
        await fanOut(`mesh Interpreter/StreamBoundTree × ${WATCHERS}`, child.pid, pool, watchers, openMs),
      )
      for (const w of watchers) w.close()
    }
    {
      const name = pathToWire(Path.read('/svc/users'))
      const one = new Interpreter(mesh, grpc.credentials.createInsecure())
      const { watchers, openMs } = await openAll(() =>
        meshWatch(
          Interpreter,
          grpc,
          mesh,
          'StreamBoundTree',
          { root, name },
          (msg) => labels((msg as { tree: { leaf?: { id: { elems: Buffer[] } } } }).tree.leaf?.id),
          one,
        ),
      )
      rows.push(
        await fanOut(`mesh StreamBoundTree × ${WATCHERS}, one connection`, child.pid, pool, watchers, openMs),
      )
      for (const w of watchers) w.close()
      one.close()
    }
    console.table(rows)
  } finally {
    await pool.close()
    child.kill('SIGTERM')
  }
}

await main()
