// Several namerd processes over one real etcd and one real ZooKeeper, driven through linkerd's HTTP
// API only, with the configurations of examples/namerd-etcd.yaml and examples/namerd-zk.yaml: what
// one replica accepts, the others serve and stream; racing conditional updates through both lose no
// acknowledged write; the store going away and coming back is survived by open watch streams; and a
// replica killed with SIGKILL loses nothing.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { call, type LineStream, watch } from './http-helpers.js'
import { freshPrefix } from './replicas.js'
import { startEtcd, startZooKeeper, type TestServer } from './servers.js'

let etcd: TestServer
let zk: TestServer
beforeAll(async () => {
  ;[etcd, zk] = await Promise.all([startEtcd(), startZooKeeper()])
}, 60_000)
afterAll(async () => {
  await Promise.all([etcd?.close(), zk?.close()])
})

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface Replica {
  readonly child: ChildProcess
  readonly api: string
  readonly admin: string
  kill(): Promise<void>
}

/** Starts `npx namerd <config>` (through tsx) and waits until it prints where it listens. */
async function startReplica(config: string): Promise<Replica> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/namerd.ts', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  cleanups.push(kill)
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const deadline = Date.now() + 20_000
  while (!/admin: +(\S+)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`namerd did not start:\n${out}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    child,
    api: /http controller: (\S+)/.exec(out)![1]!,
    admin: /admin: +(\S+)/.exec(out)![1]!,
    kill,
  }
}

/** The example configuration of `kind`, pointed at the test server, on free ports, under `prefix`. */
async function exampleConfig(kind: 'etcd' | 'zk', prefix: string): Promise<string> {
  const doc = YAML.parse(await readFile(`examples/namerd-${kind}.yaml`, 'utf8'))
  doc.admin.port = 0
  doc.interfaces[0].port = 0
  doc.storage.pathPrefix = prefix
  if (kind === 'etcd') doc.storage.endpoints = [`http://${etcd.address}`]
  else doc.storage.zkAddrs = [{ host: '127.0.0.1', port: zk.port }]
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-replicas-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, `namerd-${kind}.yaml`)
  await writeFile(file, YAML.stringify(doc))
  return file
}

const put = (api: string, ns: string, dtab: string, ifMatch?: string) =>
  call(`${api}/api/1/dtabs/${ns}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/dtab', ...(ifMatch !== undefined && { 'if-match': ifMatch }) },
    body: dtab,
  })
const get = (api: string, ns: string) =>
  call(`${api}/api/1/dtabs/${ns}`, { headers: { accept: 'application/dtab' } })
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

// Generous: after a 200-write race, a replica may work through a backlog of watch events on a loaded machine.
async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await f().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const pingStatus = async (r: Replica) => (await call(`${r.admin}/admin/ping`)).status
const metric = async (r: Replica, name: string) =>
  (JSON.parse((await call(`${r.admin}/admin/metrics.json`)).body) as Record<string, number>)[name]
const server = (kind: 'etcd' | 'zk') => (kind === 'etcd' ? etcd : zk)

describe.each(['etcd', 'zk'] as const)('namerd replicas over %s', (kind) => {
  it('agree, race safely, and keep their watch streams through a store restart', async () => {
    const config = await exampleConfig(kind, freshPrefix())
    const [a, b] = await Promise.all([startReplica(config), startReplica(config)])
    await until('both replicas ready', async () =>
      (await pingStatus(a)) === 200 && (await pingStatus(b)) === 200 ? true : undefined,
    )

    const connected = `store/io.l5d.${kind}/connected`
    expect(await metric(a, connected)).toBe(1)

    // A write on A reaches a watch stream on B within a second, every time.
    const stream: LineStream = await watch(`${b.api}/api/1/dtabs/default?watch=true`, {
      accept: 'application/dtab',
    })
    cleanups.push(() => stream.close())
    expect(stream.status).toBe(200)
    for (let i = 0; i < 5; i++) {
      const start = performance.now()
      expect((await put(a.api, 'default', `/svc=>/#/io.l5d.fs/v${i}`)).status).toBe(204)
      expect(await stream.next(1000)).toBe(`/svc=>/#/io.l5d.fs/v${i}`)
      expect(performance.now() - start).toBeLessThan(1000)
    }

    // Conditional updates: the ETag of one replica is good on the other; a stale one is 412.
    const current = await get(b.api, 'default')
    const etag = current.headers.etag as string
    expect((await put(a.api, 'default', '/svc=>/#/io.l5d.fs/v5', etag)).status).toBe(204)
    expect(await stream.next(1000)).toBe('/svc=>/#/io.l5d.fs/v5')
    expect((await put(b.api, 'default', '/svc=>/#/io.l5d.fs/stale', etag)).status).toBe(412)

    // 200 conditional updates through both replicas at once: no two acknowledged updates started
    // from the same version, and the store ends with the one that came last.
    expect((await put(a.api, 'race', '/svc=>/start')).status).toBe(204)
    const acked: { dtab: string; base: string }[] = []
    let n = 0
    const writer = async (api: string) => {
      while (acked.length < 200) {
        const seen = await get(api, 'race')
        const base = seen.headers.etag as string
        const dtab = `/svc=>/#/io.l5d.fs/w${n++}`
        const r = await put(api, 'race', dtab, base)
        if (r.status === 204) acked.push({ dtab, base })
        else expect(r.status).toBe(412)
      }
    }
    await Promise.all([writer(a.api), writer(b.api)])
    expect(new Set(acked.map((w) => w.base)).size).toBe(acked.length)
    const finalA = await get(a.api, 'race')
    const finalB = await until('B to agree with A', async () => {
      const r = await get(b.api, 'race')
      return r.headers.etag === finalA.headers.etag ? r : undefined
    })
    const etags = new Set(acked.map((w) => w.base))
    // The final version is the successor of exactly one acknowledged write's base: the last one.
    const last = acked.find((w) => `${w.dtab}\n` === finalA.body)
    expect(last).toBeDefined()
    expect(etags.has(finalA.headers.etag as string)).toBe(false)
    expect(finalB.body).toBe(finalA.body)

    // The store goes away: writes are 503 with the reason, reads serve the last dtab, ping is 503.
    await server(kind).stop()
    const refused = await until('a 503 from A', async () => {
      const r = await put(a.api, 'default', '/svc=>/#/io.l5d.fs/during')
      return r.status === 503 ? r : undefined
    })
    expect(refused.body).toMatch(/^dtab store is unavailable: /)
    expect((await get(b.api, 'default')).body).toBe('/svc=>/#/io.l5d.fs/v5\n')
    await until('B not ready', async () => ((await pingStatus(b)) === 503 ? true : undefined))
    expect(await metric(b, connected)).toBe(0)
    expect(await metric(b, `store/io.l5d.${kind}/health`)).toBe(2) // reconnecting

    // It comes back: both replicas are ready again and B's open stream gets every later write.
    await server(kind).start()
    await until('both replicas ready again', async () =>
      (await pingStatus(a)) === 200 && (await pingStatus(b)) === 200 ? true : undefined,
    )
    expect(await metric(b, `store/io.l5d.${kind}/reconnects`)).toBeGreaterThanOrEqual(1)
    for (let i = 6; i < 9; i++) {
      expect((await put(a.api, 'default', `/svc=>/#/io.l5d.fs/v${i}`)).status).toBe(204)
      expect(await stream.next(2000)).toBe(`/svc=>/#/io.l5d.fs/v${i}`)
    }
  }, 120_000)

  it('a replica killed with SIGKILL in the middle of a burst of writes loses nothing', async () => {
    const config = await exampleConfig(kind, freshPrefix())
    const [a, b] = await Promise.all([startReplica(config), startReplica(config)])
    await until('A ready', async () => ((await pingStatus(a)) === 200 ? true : undefined))
    const WRITERS = 8
    const acked = new Array<number>(WRITERS).fill(0)
    let killed = false
    const writer = async (w: number) => {
      for (let v = 1; !killed; v++) {
        try {
          const r = await put(a.api, `ns${w}`, `/svc=>/#/io.l5d.fs/v${v}`)
          if (r.status !== 204) throw new Error(`unexpected ${r.status}: ${r.body}`)
          acked[w] = v
        } catch (error) {
          if (killed) return // the connection died with the process
          throw error
        }
      }
    }
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w))
    await sleep(500)
    killed = true
    await a.kill()
    await Promise.all(writers)
    expect(acked.reduce((x, y) => x + y, 0)).toBeGreaterThan(WRITERS)
    // Every acknowledged write is in the store: B serves it (or the write that was in flight).
    for (let w = 0; w < WRITERS; w++) {
      const body = await until(`ns${w} on B`, async () => {
        const r = await get(b.api, `ns${w}`)
        const v = Number(/v(\d+)\n$/.exec(r.body)?.[1])
        return r.status === 200 && (v === acked[w] || v === acked[w]! + 1) ? r.body : undefined
      })
      expect(body).toMatch(/^\/svc=>\/#\/io\.l5d\.fs\/v\d+\n$/)
    }
    // A replica started in its place serves the same.
    const c = await startReplica(config)
    await until('C ready', async () => ((await pingStatus(c)) === 200 ? true : undefined))
    for (let w = 0; w < WRITERS; w++)
      expect((await get(c.api, `ns${w}`)).body).toBe((await get(b.api, `ns${w}`)).body)
  })
})
