// `npm run bench:router -- [--json] [--requests N] [--rounds N] [--rate N] [--seconds N]`: the l5d
// router (dtab routing over the fs namer + p2c, the compiled dist/cli/l5d.js in its own process)
// against the same backends reached directly, node-http-proxy (round robin, keep-alive) and nginx
// (Debian nginx, one worker, upstream keep-alive), all on loopback, each proxy in its own process.
//   throughput: closed loop, 50 requests in flight, N requests per target per round; targets run in
//               paired rounds, in a rotating order; ratios are medians over rounds.
//   latency:    open loop at a fixed rate (default 1,000 req/s) for S seconds per target and round;
//               p50/p99 per target, and the p99 added over direct.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as hdr from 'hdr-histogram-js'
import { Pool } from 'undici'

const args = process.argv.slice(2)
const json = args.includes('--json')
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const requests = flag('--requests', 5000)
const rounds = flag('--rounds', 5)
const rate = flag('--rate', 1000)
const seconds = flag('--seconds', 5)
const inflight = 50
const children: ChildProcess[] = []
const dir = mkdtempSync(join(tmpdir(), 'switchboard-router-bench-'))
let nginxChild: ChildProcess | undefined
const cleanup = () => {
  // nginx's master stops its workers on SIGTERM (a SIGKILLed master would orphan them).
  nginxChild?.kill('SIGTERM')
  for (const c of children) if (c !== nginxChild) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
process.on('exit', cleanup)

function forked(file: string, argv: string[]): Promise<Record<string, unknown>> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), argv, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.push(child)
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, unknown>))
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)))
  })
}

const { ports } = (await forked('./http/backend.ts', ['2'])) as { ports: number[] }

// l5d from the compiled package, as users run it.
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
mkdirSync(join(dir, 'disco'))
writeFileSync(join(dir, 'disco', 'bench'), ports.map((p) => `127.0.0.1 ${p}`).join('\n'))
writeFileSync(
  join(dir, 'linkerd.yaml'),
  `admin: {port: 0}\nnamers:\n- kind: io.l5d.fs\n  rootDir: ${join(dir, 'disco')}\nrouters:\n- protocol: http\n  dtab: /svc => /#/io.l5d.fs\n  client:\n    loadBalancer: {kind: p2c}\n  servers: [{port: 0}]\n`,
)
const l5d = spawn(
  process.execPath,
  [fileURLToPath(new URL('../dist/cli/l5d.js', import.meta.url)), join(dir, 'linkerd.yaml')],
  {
    stdio: ['ignore', 'ignore', 'pipe'],
  },
)
children.push(l5d)
const l5dAddress = await new Promise<string>((resolve, reject) => {
  let err = ''
  l5d.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
    const m = /serving http on (\S+)/.exec(err)
    if (m && err.includes('initialized')) resolve(m[1]!)
  })
  l5d.once('exit', () => reject(new Error(`l5d exited: ${err}`)))
})

const { port: proxyPort } = (await forked('./router/http-proxy.ts', ports.map(String))) as { port: number }

// nginx: one worker, upstream keep-alive, in the temp dir.
const { createServer: createNetServer } = await import('node:net')
const nginxPort = await new Promise<number>((resolve) => {
  const s = createNetServer()
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port
    s.close(() => resolve(p))
  })
})
writeFileSync(
  join(dir, 'nginx.conf'),
  `worker_processes 1;\ndaemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/nginx-error.log;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;\n  upstream bench { ${ports.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 64; }\n  server {\n    listen 127.0.0.1:${nginxPort};\n    location / { proxy_pass http://bench; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; }\n  }\n}\n`,
)
const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' })
nginxChild = nginx
children.push(nginx)
await new Promise((r) => setTimeout(r, 500))

const targets: Record<string, string> = {
  direct: `http://127.0.0.1:${ports[0]}`,
  l5d: `http://${l5dAddress}`,
  'http-proxy': `http://127.0.0.1:${proxyPort}`,
  nginx: `http://127.0.0.1:${nginxPort}`,
}
const pools = Object.fromEntries(
  Object.entries(targets).map(([k, u]) => [k, new Pool(u, { connections: inflight })]),
)

async function once(pool: Pool): Promise<void> {
  const rep = await pool.request({ path: '/', method: 'GET', headers: { host: 'bench' } })
  await rep.body.dump()
  if (rep.statusCode !== 200) throw new Error(`status ${rep.statusCode}`)
}

async function throughput(pool: Pool, n: number): Promise<number> {
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next++ < n) await once(pool)
    }),
  )
  return n / ((performance.now() - start) / 1000)
}

async function latency(pool: Pool): Promise<hdr.Histogram> {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  })
  const total = rate * seconds
  const start = performance.now()
  const pending: Promise<void>[] = []
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    pending.push(
      once(pool).then(() => {
        // Measured from when the request was due (no coordinated omission).
        h.recordValue(Math.max(1, Math.round((performance.now() - due) * 1000)))
      }),
    )
  }
  await Promise.all(pending)
  return h
}

// Warm up every target.
for (const pool of Object.values(pools)) await throughput(pool, 2000)

const names = Object.keys(targets)
const tput: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
const p99: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
const p50: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
for (let r = 0; r < rounds; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]!)
  for (const n of order) tput[n]!.push(await throughput(pools[n]!, requests))
  for (const n of order) {
    const h = await latency(pools[n]!)
    p99[n]!.push(h.getValueAtPercentile(99) / 1000)
    p50[n]!.push(h.getValueAtPercentile(50) / 1000)
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ratio = (a: string, b: string) => median(tput[a]!.map((x, i) => x / tput[b]![i]!))
const result = {
  rounds,
  requestsPerRound: requests,
  inflight,
  rate,
  seconds,
  throughput: Object.fromEntries(names.map((n) => [n, Math.round(median(tput[n]!))])),
  p50ms: Object.fromEntries(names.map((n) => [n, Number(median(p50[n]!).toFixed(3))])),
  p99ms: Object.fromEntries(names.map((n) => [n, Number(median(p99[n]!).toFixed(3))])),
  ratios: {
    l5dVsHttpProxy: Number(ratio('l5d', 'http-proxy').toFixed(3)),
    l5dVsNginx: Number(ratio('l5d', 'nginx').toFixed(3)),
    l5dVsDirect: Number(ratio('l5d', 'direct').toFixed(3)),
  },
  addedP99ms: {
    l5d: Number(median(p99['l5d']!.map((x, i) => x - p99['direct']![i]!)).toFixed(3)),
    'http-proxy': Number(median(p99['http-proxy']!.map((x, i) => x - p99['direct']![i]!)).toFixed(3)),
    nginx: Number(median(p99['nginx']!.map((x, i) => x - p99['direct']![i]!)).toFixed(3)),
  },
}
if (json) console.log(JSON.stringify(result))
else console.log(JSON.stringify(result, null, 2))
for (const pool of Object.values(pools)) await pool.close()
cleanup()
await new Promise((r) => setTimeout(r, 300))
process.exit(0)
