// The client side: namerdInterpreter against a real namerd on loopback, including a namerd
// restart (clients keep routing through the outage and pick up changes once it is back).
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Var } from '../../src/core/var.js'
import {
  type NamerdInterpreter,
  type NamerdStreamError,
  namerdInterpreter,
} from '../../src/namerd/client/interpreter.js'
import { fsNamerKind, inMemoryStoreKind, type NamerdSpec } from '../../src/namerd/config.js'
import { type Namerd, startNamerd } from '../../src/namerd/server.js'
import type { Addr } from '../../src/naming/addr.js'
import { DelegateTree } from '../../src/naming/delegate-tree.js'
import { Dtab } from '../../src/naming/dtab.js'
import { resolve } from '../../src/naming/interpreter.js'
import { Path } from '../../src/naming/path.js'
import { Backoff } from '../../src/retry/backoff.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { call } from './http-helpers.js'

let dir: string
let namerd: Namerd | undefined
let interpreter: NamerdInterpreter | undefined
const disposers: (() => void)[] = []

async function startAt(port: number, dtab: string): Promise<Namerd> {
  const storage = inMemoryStoreKind.codec.decode({ kind: 'io.l5d.inMemory', namespaces: { default: dtab } })
  const fs = fsNamerKind.codec.decode({ kind: 'io.l5d.fs', rootDir: dir })
  if (storage._tag === 'Left' || fs._tag === 'Left') throw new Error('bad test config')
  const spec: NamerdSpec = {
    admin: { ip: '127.0.0.1', port: 0, shutdownGraceMs: 0 },
    storage: storage.right,
    namers: [fs.right],
    interfaces: [
      { kind: 'io.l5d.httpController', ip: '127.0.0.1', port, authToken: undefined, maxBodyBytes: 1 << 20 },
    ],
  }
  return startNamerd(spec, { log: () => {} })
}

/** Resolves when `v` satisfies `p`; rejects after `timeoutMs`. */
function until<T>(v: Var<T>, p: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  return new Promise((ok, fail) => {
    let done = false
    let stop: (() => void) | undefined
    const timer = setTimeout(() => {
      done = true
      stop?.()
      fail(new Error(`timed out; last value ${JSON.stringify(v.sample())}`))
    }, timeoutMs)
    stop = v.observe((x) => {
      if (done || !p(x)) return
      done = true
      clearTimeout(timer)
      queueMicrotask(() => stop?.())
      ok(x)
    })
    if (done) stop()
  })
}
const ports = (a: Addr) => (a.kind === 'bound' ? a.addresses.map((x) => x.port).sort() : a.kind)

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-interp-'))
  await writeFile(join(dir, 'users'), '127.0.0.1 8080\n')
  await writeFile(join(dir, 'users-v2'), '127.0.0.1 9080\n')
})

afterEach(async () => {
  for (const d of disposers.splice(0)) d()
  await interpreter?.close()
  interpreter = undefined
  await namerd?.close()
  namerd = undefined
  await rm(dir, { recursive: true, force: true })
})

describe('namerdInterpreter', () => {
  it('binds through namerd and follows dtab and endpoint changes', async () => {
    namerd = await startAt(0, '/svc=>/#/io.l5d.fs')
    const base = namerd.interfaces[0]!.url
    interpreter = namerdInterpreter({ baseUrl: base, backoff: Backoff.constant(20) })
    const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users'))
    disposers.push(addr.observe(() => {}))
    expect(ports(await until(addr, (a) => a.kind === 'bound'))).toEqual([8080])

    await call(`${base}/api/1/dtabs/default`, {
      method: 'PUT',
      headers: { 'content-type': 'application/dtab' },
      body: '/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2',
    })
    expect(ports(await until(addr, (a) => ports(a).toString() === '9080'))).toEqual([9080])

    await writeFile(join(dir, 'users-v2'), '127.0.0.1 9080\n127.0.0.1 9081\n')
    expect(ports(await until(addr, (a) => ports(a).length === 2))).toEqual([9080, 9081])
  })

  it('sends the local dtab, which overrides the namespace', async () => {
    namerd = await startAt(0, '/svc=>/#/io.l5d.fs')
    interpreter = namerdInterpreter({ baseUrl: namerd.interfaces[0]!.url })
    const tree = await interpreter
      .bind(Dtab.read('/svc/users=>/#/io.l5d.fs/users-v2'), Path.read('/svc/users'))
      .toPromise()
    expect(tree.kind === 'leaf' && tree.value.idStr).toBe('/#/io.l5d.fs/users-v2')
    const neg = await interpreter.bind(Dtab.empty, Path.read('/nothing')).toPromise()
    expect(neg.kind).toBe('neg')
  })

  it('keeps routing while namerd is stopped, and picks up a change within a second once it is back', async () => {
    namerd = await startAt(0, '/svc=>/#/io.l5d.fs')
    const port = namerd.interfaces[0]!.address.port
    const errors: NamerdStreamError[] = []
    const stats = inMemoryStats()
    interpreter = namerdInterpreter({
      baseUrl: namerd.interfaces[0]!.url,
      stats,
      onError: (e) => errors.push(e),
    })
    const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users'))
    disposers.push(addr.observe(() => {}))
    expect(ports(await until(addr, (a) => a.kind === 'bound'))).toEqual([8080])

    await namerd.close()
    namerd = undefined
    await new Promise((r) => setTimeout(r, 1500))
    // Still routing on the last good answer, and still trying.
    expect(ports(addr.sample())).toEqual([8080])
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0]!.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/api\/1\/(bind|addr)\/default\?/)
    expect(stats.counterValue('stream_failures')).toBeGreaterThan(0)

    namerd = await startAt(port, '/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2')
    const backAt = Date.now()
    await until(addr, (a) => ports(a).toString() === '9080', 3000)
    expect(Date.now() - backAt).toBeLessThan(1000)
  })

  it('a name first asked for while namerd is down is pending until namerd answers', async () => {
    namerd = await startAt(0, '/svc=>/#/io.l5d.fs')
    const port = namerd.interfaces[0]!.address.port
    await namerd.close()
    namerd = undefined
    interpreter = namerdInterpreter({ baseUrl: `http://127.0.0.1:${port}`, backoff: Backoff.constant(20) })
    const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users'))
    disposers.push(addr.observe(() => {}))
    await new Promise((r) => setTimeout(r, 100))
    expect(addr.sample().kind).toBe('pending')
    namerd = await startAt(port, '/svc=>/#/io.l5d.fs')
    expect(ports(await until(addr, (a) => a.kind === 'bound'))).toEqual([8080])
  })

  it('an error line from namerd is a failure that is retried, not the end of the name', async () => {
    namerd = await startAt(0, '/svc=>/$/fail')
    const base = namerd.interfaces[0]!.url
    const errors: NamerdStreamError[] = []
    interpreter = namerdInterpreter({
      baseUrl: base,
      backoff: Backoff.constant(20),
      onError: (e) => errors.push(e),
    })
    const tree = interpreter.bind(Dtab.empty, Path.read('/svc/users'))
    disposers.push(tree.observe(() => {}))
    // A Fail tree binds fine: its addr is what fails.
    expect((await tree.toPromise()).kind).toBe('fail')
    const addr = resolve(interpreter, Dtab.read('/svc/users=>/#/io.l5d.fs/users'), Path.read('/svc/users'))
    disposers.push(addr.observe(() => {}))
    expect(ports(await until(addr, (a) => a.kind === 'bound'))).toEqual([8080])
  })

  it('delegate explains a path through namerd', async () => {
    namerd = await startAt(0, '/svc=>/#/io.l5d.fs')
    interpreter = namerdInterpreter({ baseUrl: namerd.interfaces[0]!.url })
    const t = await interpreter.delegate(Dtab.empty, Path.read('/svc/users')).toPromise()
    expect(DelegateTree.render(t)).toBe(
      '/svc/users\n└─ /#/io.l5d.fs/users  => /#/io.l5d.fs/users  (/svc=>/#/io.l5d.fs)',
    )
  })

  it('close stops every stream', async () => {
    namerd = await startAt(0, '/svc=>/#/io.l5d.fs')
    const stats = inMemoryStats()
    interpreter = namerdInterpreter({ baseUrl: namerd.interfaces[0]!.url, stats })
    const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users'))
    disposers.push(addr.observe(() => {}))
    await until(addr, (a) => a.kind === 'bound')
    expect(stats.gaugeValue('streams')).toBe(2)
    await interpreter.close()
    expect(stats.gaugeValue('streams')).toBeUndefined()
    const deadline = Date.now() + 3000
    while (namerd.stats.gaugeValue('http/watches') !== 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10))
    expect(namerd.stats.gaugeValue('http/watches')).toBe(0)
  })
})
