// namerd under hostile requests: for each request below 1 MiB that used to stall the server, the
// worst event-loop delay namerd's process sees while serving it (perf_hooks.monitorEventLoopDelay,
// 1 ms resolution, measured inside namerd's process), and the slowest answer to a tiny
// `GET /api/1/dtabs` sent every 5 ms meanwhile. namerd (file store in a temp dir) runs in a child
// process started from this file; a request that takes longer than 30 s is cut off, its process
// killed and a fresh one started for the next request.
// Run: `npx tsx bench/namerd-hostile.bench.ts` (or `npm run bench -- hostile`).
// SWITCHBOARD_SRC=<dir> measures another checkout's src/ (how the "before" figures were taken).
import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'

const LIMIT_MS = 100
const CASE_TIMEOUT_MS = 30_000
const src = resolve(process.env['SWITCHBOARD_SRC'] ?? join(import.meta.dirname, '..', 'src'))

if (process.argv[2] === '--server') {
  const load = (p: string) => import(pathToFileURL(join(src, p)).href)
  const { startNamerd } = await load('namerd/server.ts')
  const { namerdConfigCodec } = await load('namerd/config.ts')
  const { decodeConfig } = await load('config/decode.ts')
  const dir = mkdtempSync(join(tmpdir(), 'namerd-hostile-bench-'))
  const decoded = decodeConfig(namerdConfigCodec(), {
    admin: { ip: '127.0.0.1', port: 0 },
    storage: { kind: 'switchboard.file', dir, namespaces: { demo: '/svc => /$/inet/127.0.0.1;' } },
    interfaces: [{ kind: 'io.l5d.httpController', ip: '127.0.0.1', port: 0 }],
  })
  if (decoded._tag !== 'Right') throw new Error(JSON.stringify(decoded.left))
  const namerd = await startNamerd(decoded.right, { log: () => {} })
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  process.on('message', async (m: string) => {
    if (m === 'reset') histogram.reset()
    if (m === 'read') process.send?.({ delayMs: histogram.max / 1e6 })
    if (m === 'stop') {
      await namerd.close()
      rmSync(dir, { recursive: true, force: true })
      process.exit(0)
    }
  })
  process.send?.({ url: namerd.interfaces[0].url })
} else {
  await main()
}

function startServer(): Promise<{ child: ChildProcess; base: string }> {
  const child = fork(fileURLToPath(import.meta.url), ['--server'], {
    execArgv: ['--import', 'tsx'],
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((ok, fail) => {
    child.once('message', (m: { url: string }) => ok({ child, base: m.url }))
    child.once('exit', (code) => fail(new Error(`namerd exited with ${code}`)))
  })
}

function ask(child: ChildProcess): Promise<number> {
  return new Promise((ok) => {
    child.once('message', (m: { delayMs: number }) => ok(m.delayMs))
    child.send('read')
  })
}

async function main() {
  const MiB = 1024 * 1024
  /** Repeats `unit(i)` joined by `sep` until the text is just under `bytes`. */
  function fill(bytes: number, sep: string, unit: (i: number) => string, head = '', tail = ''): string {
    const parts: string[] = []
    let size = head.length + tail.length
    for (let i = 0; ; i++) {
      const u = unit(i)
      if (size + u.length + sep.length >= bytes) break
      parts.push(u)
      size += u.length + sep.length
    }
    return head + parts.join(sep) + tail
  }

  const wideAlt = (n: number) => Array.from({ length: n }, () => '~').join('|')
  const manyEntries = fill(MiB - 64, ';', (i) => `/svc/s${i}=>/$/inet/127.0.0.1/${1000 + (i % 60000)}`)
  const oneWideEntry = fill(MiB - 64, ' | ', (i) => `/b${i}`, '/a=>')
  const deepTree = (() => {
    let s = '/svc/x'
    for (let i = 0; i < 999; i++) s = `(${s} | ~)`
    return `/a=>${s}`
  })()

  interface Case {
    readonly name: string
    readonly method: string
    readonly path: string
    readonly body?: string
    readonly type?: string
  }
  const q = (dtab: string) => encodeURIComponent(dtab)
  const cases: Case[] = [
    {
      name: 'bind, dtab param with a 4,000-alternative Alt',
      method: 'GET',
      path: `/api/1/bind/demo?path=/a/x&dtab=${q(`/a=>${wideAlt(4000)}|/b`)}`,
    },
    {
      name: 'delegate, dtab param with a 3,000-alternative Alt',
      method: 'GET',
      path: `/api/1/delegate/demo?path=/a/x&dtab=${q(`/a=>${wideAlt(3000)}|/b`)}`,
    },
    {
      name: 'bind, dtab param nested 1,000 deep',
      method: 'GET',
      path: `/api/1/bind/demo?path=/a&dtab=${q(deepTree)}`,
    },
    {
      name: 'PUT 1 MiB dtab, ~30,000 dentries',
      method: 'PUT',
      path: '/api/1/dtabs/big',
      body: manyEntries,
      type: 'application/dtab',
    },
    { name: 'GET that 1 MiB dtab as JSON', method: 'GET', path: '/api/1/dtabs/big' },
    { name: 'bind against that 1 MiB namespace', method: 'GET', path: '/api/1/bind/big?path=/svc/s29999' },
    {
      name: 'PUT 1 MiB dtab, one 150,000-alternative dentry',
      method: 'PUT',
      path: '/api/1/dtabs/wide',
      body: oneWideEntry,
      type: 'application/dtab',
    },
    { name: 'bind against that wide namespace', method: 'GET', path: '/api/1/bind/wide?path=/a' },
    { name: 'delegate against that wide namespace', method: 'GET', path: '/api/1/delegate/wide?path=/a' },
    {
      name: 'POST /api/1/delegate, 1 MiB JSON dtab',
      method: 'POST',
      path: '/api/1/delegate',
      body: JSON.stringify({ path: '/a', dtab: oneWideEntry.slice(0, MiB - 100).replace(/ \| \/b\d*$/, '') }),
      type: 'application/json',
    },
  ]

  let server = await startServer()
  const rows: { name: string; status: string; ms: number; delay: number; ping: number }[] = []
  for (const c of cases) {
    await new Promise((r) => setTimeout(r, 200))
    const base = server.base
    server.child.send('reset')
    let pingMax = 0
    let stop = false
    const pinger = (async () => {
      while (!stop) {
        const t = performance.now()
        await fetch(`${base}/api/1/dtabs`, { signal: AbortSignal.timeout(CASE_TIMEOUT_MS) })
          .then((r) => r.arrayBuffer())
          .catch(() => {})
        pingMax = Math.max(pingMax, performance.now() - t)
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
    await new Promise((r) => setTimeout(r, 20))
    const t0 = performance.now()
    let status = ''
    try {
      const res = await fetch(`${base}${c.path}`, {
        method: c.method,
        signal: AbortSignal.timeout(CASE_TIMEOUT_MS),
        ...(c.body === undefined
          ? {}
          : { body: c.body, headers: { 'content-type': c.type ?? 'text/plain' } }),
      })
      await res.arrayBuffer()
      status = String(res.status)
    } catch {
      status = 'timeout'
    }
    const ms = performance.now() - t0
    stop = true
    let delay: number
    if (status === 'timeout') {
      server.child.kill('SIGKILL')
      await pinger
      delay = ms
      server = await startServer()
      // The killed namerd's state is gone: recreate what later cases read.
      for (const prior of cases.slice(0, cases.indexOf(c))) {
        if (prior.method === 'PUT')
          await fetch(`${server.base}${prior.path}`, {
            method: 'PUT',
            body: prior.body ?? '',
            headers: { 'content-type': prior.type ?? '' },
          }).catch(() => {})
      }
    } else {
      await pinger
      delay = await ask(server.child)
    }
    rows.push({ name: c.name, status, ms, delay, ping: pingMax })
    console.log(`${c.name}: ${status} in ${ms.toFixed(0)} ms, loop delay ${delay.toFixed(1)} ms`)
  }
  server.child.send('stop')

  const pad = (s: string, n: number) => s.padEnd(n)
  console.log(`\nsource: ${src}`)
  console.log(`| ${pad('request', 52)} | status | answer ms | max loop delay ms | max ping ms |`)
  console.log(`| ${'-'.repeat(52)} | -----: | --------: | ----------------: | ----------: |`)
  for (const r of rows) {
    const d = r.status === 'timeout' ? `> ${r.delay.toFixed(0)}` : r.delay.toFixed(1)
    console.log(
      `| ${pad(r.name, 52)} | ${r.status.padStart(6)} | ${r.ms.toFixed(1).padStart(9)} | ${d.padStart(17)} | ${r.ping.toFixed(1).padStart(11)} |`,
    )
  }
  const worst = Math.max(...rows.map((r) => r.delay))
  console.log(
    `worst event-loop delay: ${worst.toFixed(1)} ms (limit ${LIMIT_MS} ms) ${worst <= LIMIT_MS ? 'PASS' : 'FAIL'}`,
  )
}
