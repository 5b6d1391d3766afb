// The mesh interface through real gRPC on loopback: meshInterpreter against namerd serving both
// io.l5d.mesh and the HTTP controller (dtab changes, fs namer changes, delegation equal to the
// HTTP API's, TLS), and a real namerd process killed and restarted under a routing client.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClientFromConfig } from '../../src/config/router.js'
import type { Var } from '../../src/core/var.js'
import { type MeshInterpreter, type MeshStreamError, meshInterpreter } from '../../src/namerd/client/mesh.js'
import { fsNamerKind, inMemoryStoreKind, type NamerdSpec } from '../../src/namerd/config.js'
import { type Namerd, startNamerd } from '../../src/namerd/server.js'
import type { Addr } from '../../src/naming/addr.js'
import { Dtab } from '../../src/naming/dtab.js'
import { resolve } from '../../src/naming/interpreter.js'
import { boundNames, delegateTreeJson, settleAddrs } from '../../src/naming/json.js'
import { Path } from '../../src/naming/path.js'
import { Backoff } from '../../src/retry/backoff.js'
import { makeCertificates } from './certs.js'
import { call } from './http-helpers.js'
import { freePort } from './servers.js'

let dir: string
let namerd: Namerd | undefined
let interpreter: MeshInterpreter | undefined
const cleanups: (() => Promise<void> | void)[] = []

async function start(dtab: string, extra: Partial<NamerdSpec['interfaces'][number]> = {}): Promise<Namerd> {
  const storage = inMemoryStoreKind.codec.decode({ kind: 'io.l5d.inMemory', namespaces: { default: dtab } })
  const fs = fsNamerKind.codec.decode({ kind: 'io.l5d.fs', rootDir: dir })
  if (storage._tag === 'Left' || fs._tag === 'Left') throw new Error('bad test config')
  const spec: NamerdSpec = {
    admin: { ip: '127.0.0.1', port: 0, shutdownGraceMs: 0 },
    storage: storage.right,
    namers: [fs.right],
    interfaces: [
      {
        kind: 'io.l5d.httpController',
        ip: '127.0.0.1',
        port: 0,
        authToken: undefined,
        maxBodyBytes: 1 << 20,
      },
      { kind: 'io.l5d.mesh', ip: '127.0.0.1', port: 0, ...extra } as NamerdSpec['interfaces'][number],
    ],
  }
  return startNamerd(spec, { log: () => {} })
}

/** Resolves with the first value of `v` satisfying `p` and when it came; rejects after `timeoutMs`. */
function until<T>(
  v: Var<T>,
  p: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<{ value: T; at: number }> {
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
      ok({ value: x, at: performance.now() })
    })
    if (done) stop()
  })
}
const ports = (a: Addr) => (a.kind === 'bound' ? a.addresses.map((x) => x.port).sort() : a.kind)
const putDtab = (base: string, ns: string, text: string) =>
  call(`${base}/api/1/dtabs/${ns}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/dtab' },
    body: text,
  })

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-mesh-'))
  await writeFile(join(dir, 'users'), '127.0.0.1 8080\n')
  await writeFile(join(dir, 'users-v2'), '127.0.0.1 9080\n')
})

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  await interpreter?.close()
  interpreter = undefined
  await namerd?.close()
  namerd = undefined
  await rm(dir, { recursive: true, force: true })
})

describe('meshInterpreter against namerd’s io.l5d.mesh interface', () => {
  it('sees a dtab change within 100 ms and an address change from the fs namer', async () => {
    namerd = await start('/svc=>/#/io.l5d.fs')
    const http = namerd.interfaces[0]!.url
    interpreter = meshInterpreter({ target: namerd.meshInterfaces[0]!.target, backoff: Backoff.constant(20) })
    const tree = interpreter.bind(Dtab.empty, Path.read('/svc/users'))
    const leafId = (s: ReturnType<typeof tree.states.sample>) =>
      s.kind === 'ok' && s.value.kind === 'leaf' ? s.value.value.idStr : undefined
    const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users'))
    cleanups.push(addr.observe(() => {}))
    expect(ports((await until(addr, (a) => a.kind === 'bound')).value)).toEqual([8080])

    // The dtab change reaches the bound tree in one pushed message.
    const seen = until(tree.states, (s) => leafId(s) === '/#/io.l5d.fs/users-v2')
    const sent = performance.now()
    const put = await putDtab(http, 'default', '/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2')
    expect(put.status).toBe(204)
    const { at } = await seen
    expect(at - sent).toBeLessThan(100)
    // ... and the new id's endpoints follow on their own stream.
    expect(ports((await until(addr, (a) => ports(a).toString() === '9080')).value)).toEqual([9080])

    await writeFile(join(dir, 'users-v2'), '127.0.0.1 9080\n127.0.0.1 9081\n')
    expect(ports((await until(addr, (a) => ports(a).length === 2)).value)).toEqual([9080, 9081])
    expect(namerd.stats.counterValue('mesh/Interpreter/StreamBoundTree/requests')).toBe(1)
    expect(namerd.stats.counterValue('mesh/Resolver/StreamReplicas/requests')).toBe(2)
  })

  it('sends the local dtab (which overrides the namespace) and follows an unknown namespace', async () => {
    namerd = await start('/svc=>/#/io.l5d.fs')
    interpreter = meshInterpreter({ target: namerd.meshInterfaces[0]!.target })
    const tree = await interpreter
      .bind(Dtab.read('/svc/users=>/#/io.l5d.fs/users-v2'), Path.read('/svc/users'))
      .toPromise()
    expect(tree.kind === 'leaf' && tree.value.idStr).toBe('/#/io.l5d.fs/users-v2')
    expect((await interpreter.bind(Dtab.empty, Path.read('/nothing')).toPromise()).kind).toBe('neg')

    const other = meshInterpreter({ target: namerd.meshInterfaces[0]!.target, root: '/later' })
    cleanups.push(() => other.close())
    const addr = resolve(other, Dtab.empty, Path.read('/svc/users'))
    cleanups.push(addr.observe(() => {}))
    expect((await until(addr, (a) => a.kind !== 'pending')).value.kind).toBe('neg')
    await putDtab(namerd.interfaces[0]!.url, 'later', '/svc=>/#/io.l5d.fs')
    expect(ports((await until(addr, (a) => a.kind === 'bound')).value)).toEqual([8080])
    expect((await other.dtab().toPromise()).show()).toBe('/svc=>/#/io.l5d.fs')
  })

  it('the delegation tree equals the HTTP API’s', async () => {
    const dtab =
      '/host=>/#/io.l5d.fs;/svc=>/host;/svc/users=>1*/host/users & 3*/host/users-v2;/svc/gone=>~;/svc/bad=>!;/svc/alt=>/host/missing | /host/users'
    namerd = await start(dtab)
    const http = namerd.interfaces[0]!.url
    interpreter = meshInterpreter({ target: namerd.meshInterfaces[0]!.target })
    for (const p of ['/svc/users', '/svc/gone', '/svc/bad', '/svc/alt', '/svc/users-v2/rest']) {
      for (const local of ['', '/svc/alt=>/host/users-v2']) {
        const t = await interpreter.delegate(Dtab.read(local), Path.read(p)).toPromise()
        const mesh = delegateTreeJson(t, await settleAddrs(boundNames(t)))
        const q = new URLSearchParams({ path: p, dtab: local })
        const body = (await call(`${http}/api/1/delegate/default?${q}`)).body
        expect(mesh, `${p} with ${local || 'no local dtab'}`).toBe(body)
      }
    }
  })

  it('a bad root fails the name instead of leaving it pending', async () => {
    namerd = await start('/svc=>/#/io.l5d.fs')
    const errors: MeshStreamError[] = []
    interpreter = meshInterpreter({
      target: namerd.meshInterfaces[0]!.target,
      root: '/..',
      backoff: Backoff.constant(50),
      onError: (e) => errors.push(e),
    })
    await expect(interpreter.bind(Dtab.empty, Path.read('/svc/users')).toPromise()).rejects.toThrow(
      /INVALID_ARGUMENT: invalid dtab namespace/,
    )
    expect(errors[0]!.grpcCode).toBe(3)
    expect(() => meshInterpreter({ target: 'x:1', root: '/a/b' })).toThrow(
      'io.l5d.mesh: root may only contain a single path element, found /a/b',
    )
  })

  it('serves gRPC over TLS', async () => {
    const certDir = await mkdtemp(join(tmpdir(), 'switchboard-mesh-tls-'))
    cleanups.push(() => rm(certDir, { recursive: true, force: true }))
    const certs = makeCertificates(certDir)
    namerd = await start('/svc=>/#/io.l5d.fs', {
      tls: { certPath: certs.serverCertFile, keyPath: certs.serverKeyFile },
    })
    const target = namerd.meshInterfaces[0]!.target
    interpreter = meshInterpreter({ target, tls: { trustCerts: [certs.caFile], commonName: 'localhost' } })
    const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users'))
    cleanups.push(addr.observe(() => {}))
    expect(ports((await until(addr, (a) => a.kind === 'bound')).value)).toEqual([8080])
    // A plaintext client gets nothing from a TLS interface.
    const plain = meshInterpreter({ target, backoff: Backoff.constant(50) })
    cleanups.push(() => plain.close())
    const tree = plain.bind(Dtab.empty, Path.read('/svc/users'))
    cleanups.push(tree.observe(() => {}))
    await new Promise((r) => setTimeout(r, 300))
    expect(tree.states.sample().kind).toBe('pending')
  })

  it('with requireClientAuth, serves only clients with a certificate from caCertPath', async () => {
    const certDir = await mkdtemp(join(tmpdir(), 'switchboard-mesh-mtls-'))
    cleanups.push(() => rm(certDir, { recursive: true, force: true }))
    const certs = makeCertificates(certDir)
    namerd = await start('/svc=>/#/io.l5d.fs', {
      tls: {
        certPath: certs.serverCertFile,
        keyPath: certs.serverKeyFile,
        caCertPath: certs.caFile,
        requireClientAuth: true,
      },
    })
    const target = namerd.meshInterfaces[0]!.target
    const tls = { trustCerts: [certs.caFile], commonName: 'localhost' }
    interpreter = meshInterpreter({
      target,
      tls: { ...tls, clientAuth: { certPath: certs.clientCertFile, keyPath: certs.clientKeyFile } },
    })
    const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users'))
    cleanups.push(addr.observe(() => {}))
    expect(ports((await until(addr, (a) => a.kind === 'bound')).value)).toEqual([8080])
    const errors: MeshStreamError[] = []
    const anonymous = meshInterpreter({
      target,
      tls,
      backoff: Backoff.constant(50),
      onError: (e) => errors.push(e),
    })
    cleanups.push(() => anonymous.close())
    const tree = anonymous.bind(Dtab.empty, Path.read('/svc/users'))
    cleanups.push(tree.observe(() => {}))
    await new Promise((r) => setTimeout(r, 500))
    expect(tree.states.sample().kind).toBe('pending')
    expect(errors.length).toBeGreaterThan(0)
  })

  it('close stops every stream on both sides', async () => {
    namerd = await start('/svc=>/#/io.l5d.fs')
    interpreter = meshInterpreter({ target: namerd.meshInterfaces[0]!.target })
    const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users'))
    cleanups.push(addr.observe(() => {}))
    await until(addr, (a) => a.kind === 'bound')
    expect(namerd.meshInterfaces[0]!.streams).toBe(2)
    await interpreter.close()
    const deadline = Date.now() + 5000
    while (namerd.meshInterfaces[0]!.streams !== 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10))
    expect(namerd.meshInterfaces[0]!.streams).toBe(0)
  })
})

// ---- a real namerd process, killed and restarted ----

function runNamerd(configFile: string) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/namerd.ts', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<void>((r) => child.on('exit', () => r()))
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  cleanups.push(kill)
  return {
    kill,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      while (!/mesh interface: +\S+/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`namerd did not start: ${out}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
}

async function backend(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(name))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())))
  return { server, port: (server.address() as AddressInfo).port }
}

describe('a router on io.l5d.mesh while its namerd process is killed and restarted', () => {
  it('keeps routing on the last answer and resumes with namerd’s new dtab', async () => {
    const v1 = await backend('v1')
    const v2 = await backend('v2')
    await writeFile(join(dir, 'users'), `127.0.0.1 ${v1.port}\n`)
    await writeFile(join(dir, 'users-v2'), `127.0.0.1 ${v2.port}\n`)
    const meshPort = await freePort()
    const config = (dtab: string) =>
      JSON.stringify({
        admin: { port: 0 },
        storage: { kind: 'io.l5d.inMemory', namespaces: { default: dtab } },
        namers: [{ kind: 'io.l5d.fs', rootDir: dir }],
        interfaces: [{ kind: 'io.l5d.mesh', ip: '127.0.0.1', port: meshPort }],
      })
    const configFile = join(dir, '..', `${dir.split('/').pop()}-namerd.json`)
    cleanups.push(() => rm(configFile, { force: true }))
    await writeFile(configFile, config('/svc=>/#/io.l5d.fs'))
    const first = runNamerd(configFile)
    await first.ready()

    const errors: string[] = []
    const client = createClientFromConfig(
      `
interpreter:
  kind: io.l5d.mesh
  dst: /$/inet/127.1/${meshPort}
  root: /default
  experimental: true
  retry: {baseSeconds: 0.05, maxSeconds: 0.2}
`,
      { log: (m) => errors.push(m) },
    )
    cleanups.push(() => client.close())
    const get = async () => (await (await client.fetch('http://users/')).text()) as string
    expect(await get()).toBe('v1')

    await first.kill()
    // namerd is gone: requests still route on the last bound tree and addresses.
    for (let i = 0; i < 5; i++) expect(await get()).toBe('v1')
    await new Promise((r) => setTimeout(r, 300))
    expect(await get()).toBe('v1')
    expect(errors.some((m) => /UNAVAILABLE/.test(m))).toBe(true)

    await writeFile(configFile, config('/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2'))
    const second = runNamerd(configFile)
    await second.ready()
    const deadline = Date.now() + 15_000
    let answer = await get()
    while (answer !== 'v2' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      answer = await get()
    }
    expect(answer).toBe('v2')
  }, 60_000)
})
