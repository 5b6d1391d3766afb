// Several namerd replicas over one store: how long a dtab written through one replica takes to
// reach a watcher of another, next to the store's own watch latency measured in the same run.
//
// For each store (a real etcd, a real ZooKeeper, started on loopback by the integration harness):
// - "namerd": PUT /api/1/dtabs/bench on replica A (HTTP) until the new dtab arrives on an open
//   `?watch=true` stream of replica B (HTTP). A and B are namerd processes (the real executable).
// - "store alone": the same change made by the store's own client and seen by a second client's
//   watch (etcd: put → watch event; ZooKeeper: setData → data watch event → getData of the value).
// The two are interleaved, one change at a time, so both see the same machine load.
// Run: `npx tsx bench/namerd-replicas.bench.ts` (or `npm run bench -- replicas`).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { Etcd3 } from 'etcd3'
import zookeeper from 'node-zookeeper-client'
import { startEtcd, startZooKeeper, type TestServer } from '../test/integration/servers.js'

const CHANGES = Number(process.env['CHANGES'] ?? 300)
const WARMUP = 30

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
const ms = (x: number) => `${x.toFixed(2)} ms`

async function startReplica(storage: object): Promise<{ child: ChildProcess; api: string }> {
  const args = existsSync('dist/cli/namerd.js')
    ? ['dist/cli/namerd.js', '-']
    : ['--import', 'tsx', 'src/cli/namerd.ts', '-']
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  child.stdin!.end(
    JSON.stringify({ admin: { port: 0 }, storage, interfaces: [{ kind: 'io.l5d.httpController', port: 0 }] }),
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const deadline = Date.now() + 30_000
  while (!/http controller: (\S+)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`namerd did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return { child, api: /http controller: (\S+)/.exec(out)![1]! }
}

function put(api: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${api}/api/1/dtabs/bench`,
      { method: 'PUT', headers: { 'content-type': 'application/dtab' } },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** An open watch stream: `next(line)` resolves when that line arrives. */
function watchLines(url: string): Promise<{ waitFor(line: string): Promise<void>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'application/dtab' } }, (res) => {
      let partial = ''
      let want: { line: string; done: () => void } | undefined
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        partial += chunk
        for (let i = partial.indexOf('\n'); i >= 0; i = partial.indexOf('\n')) {
          const line = partial.slice(0, i)
          partial = partial.slice(i + 1)
          if (want && line === want.line) want.done()
        }
      })
      resolve({
        waitFor: (line) => new Promise<void>((done) => (want = { line, done })),
        close: () => req.destroy(),
      })
    })
    req.on('error', reject)
    req.end()
  })
}

interface Pair {
  readonly name: string
  /**
   * One change through namerd (A's HTTP API → B's watch stream): resolves, once the writer has its
   * answer too, with the time from sending the write to B's watcher having the new value.
   */
  namerd(i: number): Promise<number>
  /** The same change with the store's own clients. */
  alone(i: number): Promise<number>
  close(): Promise<void>
}

async function etcdPair(etcd: TestServer): Promise<Pair> {
  const storage = { kind: 'io.l5d.etcd', experimental: true, endpoints: [`http://${etcd.address}`] }
  const [a, b] = await Promise.all([startReplica(storage), startReplica(storage)])
  await put(a.api, '/svc=>/start')
  const stream = await watchLines(`${b.api}/api/1/dtabs/bench?watch=true`)
  const writer = new Etcd3({ hosts: `http://${etcd.address}` })
  const reader = new Etcd3({ hosts: `http://${etcd.address}` })
  const watcher = await reader.watch().key('/bench/raw').create()
  let want: { value: string; done: () => void } | undefined
  watcher.on('put', (kv) => {
    if (want && kv.value.toString() === want.value) want.done()
  })
  return {
    name: 'etcd 3.4',
    async namerd(i) {
      const dtab = `/svc=>/#/io.l5d.fs/v${i}`
      const start = performance.now()
      const seen = stream.waitFor(dtab).then(() => performance.now() - start)
      if ((await put(a.api, dtab)) !== 204) throw new Error('PUT failed')
      return seen
    },
    async alone(i) {
      const value = `/svc=>/#/io.l5d.fs/v${i}`
      const start = performance.now()
      const seen = new Promise<void>((done) => (want = { value, done })).then(() => performance.now() - start)
      await writer.put('/bench/raw').value(value)
      return seen
    },
    async close() {
      stream.close()
      await watcher.cancel()
      writer.close()
      reader.close()
      a.child.kill('SIGKILL')
      b.child.kill('SIGKILL')
    },
  }
}

async function zkPair(zk: TestServer): Promise<Pair> {
  const storage = { kind: 'io.l5d.zk', zkAddrs: [{ host: '127.0.0.1', port: zk.port }] }
  const [a, b] = await Promise.all([startReplica(storage), startReplica(storage)])
  await put(a.api, '/svc=>/start')
  const stream = await watchLines(`${b.api}/api/1/dtabs/bench?watch=true`)
  const connect = () =>
    new Promise<zookeeper.Client>((resolve) => {
      const c = zookeeper.createClient(zk.address)
      c.once('connected', () => resolve(c))
      c.connect()
    })
  const [writer, reader] = await Promise.all([connect(), connect()])
  await new Promise<void>((r) => writer.mkdirp('/bench-raw', () => r()))
  let want: { value: string; done: () => void } | undefined
  // What a ZooKeeper watcher does to see a value: the event, then a read that re-arms the watch.
  const read = () =>
    reader.getData('/bench-raw', read, (error, data) => {
      if (!error && want && data?.toString() === want.value) want.done()
    })
  read()
  return {
    name: 'ZooKeeper 3.8',
    async namerd(i) {
      const dtab = `/svc=>/#/io.l5d.fs/v${i}`
      const start = performance.now()
      const seen = stream.waitFor(dtab).then(() => performance.now() - start)
      if ((await put(a.api, dtab)) !== 204) throw new Error('PUT failed')
      return seen
    },
    async alone(i) {
      const value = `/svc=>/#/io.l5d.fs/v${i}`
      const start = performance.now()
      const seen = new Promise<void>((done) => (want = { value, done })).then(() => performance.now() - start)
      await new Promise<void>((r, j) =>
        writer.setData('/bench-raw', Buffer.from(value), -1, (e) => (e ? j(e) : r())),
      )
      return seen
    },
    async close() {
      stream.close()
      writer.close()
      reader.close()
      a.child.kill('SIGKILL')
      b.child.kill('SIGKILL')
    },
  }
}

async function measure(pair: Pair): Promise<void> {
  const namerd: number[] = []
  const alone: number[] = []
  for (let i = 0; i < WARMUP + CHANGES; i++) {
    // Alternate which goes first, so neither always runs right after the other.
    const order = i % 2 === 0 ? (['namerd', 'alone'] as const) : (['alone', 'namerd'] as const)
    for (const which of order) {
      const latency = await pair[which](i * 2 + (which === 'namerd' ? 0 : 1))
      if (i >= WARMUP) (which === 'namerd' ? namerd : alone).push(latency)
    }
  }
  namerd.sort((x, y) => x - y)
  alone.sort((x, y) => x - y)
  const row = (label: string, xs: number[]) =>
    `| ${pair.name} | ${label} | ${ms(percentile(xs, 50))} | ${ms(percentile(xs, 90))} | ${ms(percentile(xs, 99))} |`
  console.log(row('namerd A PUT → namerd B watch', namerd))
  console.log(row('store client → store watcher', alone))
  const p50 = percentile(namerd, 50) / percentile(alone, 50)
  const p99 = percentile(namerd, 99) / percentile(alone, 99)
  console.log(
    `${pair.name}: ratio namerd / store alone: p50 ${p50.toFixed(2)}, p99 ${p99.toFixed(2)} — ${p50 <= 2 && p99 <= 2 ? 'PASS' : 'OVER 2'} (target ≤ 2)`,
  )
}

const [etcd, zk] = await Promise.all([startEtcd(), startZooKeeper()])
try {
  console.log(`${CHANGES} changes each (after ${WARMUP} warm-up), one at a time, interleaved`)
  console.log('| store | path | p50 | p90 | p99 |')
  console.log('| --- | --- | ---: | ---: | ---: |')
  for (const make of [() => etcdPair(etcd), () => zkPair(zk)]) {
    const pair = await make()
    try {
      await measure(pair)
    } finally {
      await pair.close()
    }
  }
} finally {
  await Promise.all([etcd.close(), zk.close()])
}
