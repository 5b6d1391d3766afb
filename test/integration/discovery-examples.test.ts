// The published linkerd and namerd example configs that use io.l5d.serversets, io.l5d.dnssrv and
// io.l5d.consul load with switchboard's kinds, and their namers and storage start and resolve
// against real ZooKeeper and dnsmasq servers and the fake Consul (addresses of those servers
// replace the configs' fixed ones; nothing else is changed).
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { isLeft } from 'fp-ts/lib/Either.js'
import zookeeper from 'node-zookeeper-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { byKind, decodeConfig, parseConfigText } from '../../src/config/decode.js'
import { createClientFromConfig, readRouterConfig } from '../../src/config/router.js'
import { systemScheduler } from '../../src/core/clock.js'
import {
  defaultNamerKinds,
  defaultStoreKinds,
  type NamerSpec,
  namerdConfigCodec,
} from '../../src/namerd/config.js'
import type { PluginContext } from '../../src/namerd/plugin.js'
import type { DtabStore } from '../../src/namerd/store/store.js'
import { Dtab } from '../../src/naming/dtab.js'
import { defaultInterpreter, resolve } from '../../src/naming/interpreter.js'
import { Path } from '../../src/naming/path.js'
import { NamerRegistry } from '../../src/naming/registry.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { eventually } from '../namerd/store-conformance.js'
import { addrIs } from './discovery-helpers.js'
import { type FakeConsul, startFakeConsul } from './fake-consul.js'
import { type DnsServer, startDnsmasq, startZooKeeper, type TestServer } from './servers.js'

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/linkerd-examples/${name}`, import.meta.url), 'utf8')
const yamlOf = (name: string) => YAML.parse(fixture(name)) as Record<string, unknown>

const logs: string[] = []
const context: PluginContext = {
  stats: inMemoryStats(),
  scheduler: systemScheduler,
  log: (m) => logs.push(m),
}

const namersOf = (namers: unknown): NamerSpec[] => {
  const codec = byKind('a namer object', defaultNamerKinds)
  return (namers as unknown[]).map((n) => {
    const d = codec.decode(n)
    if (isLeft(d)) throw new Error(JSON.stringify(d.left.map((e) => e.message)))
    return d.right
  })
}

/** The problems of a whole config that switchboard does not decode, by field path. */
const problemsOf = (e: { problems: readonly { path: string; message: string }[] }) =>
  e.problems.map((p) => `${p.path}: ${p.message}`)

let zk: TestServer
let dns: DnsServer
let consul: FakeConsul
beforeAll(async () => {
  ;[zk, dns, consul] = await Promise.all([
    startZooKeeper(),
    startDnsmasq(
      {
        srv: [{ name: 'myservice.srv.dc-2.example.org', target: 'a.example.org', port: 7000 }],
        a: { 'a.example.org': '127.0.0.7' },
      },
      { localDomains: ['example.org', 'myservice'] },
    ),
    startFakeConsul(),
  ])
}, 60_000)
afterAll(async () => {
  await Promise.all([zk?.close(), dns?.close(), consul?.close()])
})

describe('published example configs with the discovery kinds', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  it('linkerd/examples/serversets.yaml: the namer starts and the baseDtab resolves a serverset', async () => {
    const config = yamlOf('linkerd-serversets.yaml')
    // Only the router's `servers` and `announcers` (the l5d process, not this floor) are left over.
    const whole = readRouterConfig(fixture('linkerd-serversets.yaml'))
    if (isLeft(whole)) for (const p of problemsOf(whole.left)) expect(p).toMatch(/servers|announcers/)

    const ns = config['namers'] as { zkAddrs: { host: string; port: number }[] }[]
    expect(ns[0]!.zkAddrs).toEqual([{ host: '127.0.0.1', port: 2181 }])
    ns[0]!.zkAddrs[0]!.port = zk.port
    const [spec] = namersOf(ns)
    expect(spec!.prefix.show()).toBe('/#/io.l5d.serversets')
    const namer = spec!.make(context)
    cleanups.push(() => namer.close?.())

    const admin = zookeeper.createClient(zk.address)
    cleanups.push(() => admin.close())
    await new Promise<void>((r) => {
      admin.once('connected', () => r())
      admin.connect()
    })
    await new Promise<void>((r, j) => admin.mkdirp('/foobar', (e) => (e ? j(e) : r())))
    await new Promise<void>((r, j) =>
      admin.create(
        '/foobar/member_',
        Buffer.from(JSON.stringify({ serviceEndpoint: { host: '127.0.0.9', port: 4140 }, status: 'ALIVE' })),
        zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
        (e) => (e ? j(e) : r()),
      ),
    )
    const router = (config['routers'] as { baseDtab: string }[])[0]!
    const interpreter = defaultInterpreter({ namers: NamerRegistry.create().mount(spec!.prefix, namer) })
    const addr = resolve(interpreter, Dtab.read(router.baseDtab), Path.read('/http/1.1/GET/foobar'))
    await addrIs(addr, '127.0.0.9:4140')
  })

  it('linkerd/examples/consul.yaml: the namer starts and /svc resolves through .local', async () => {
    const config = yamlOf('linkerd-consul.yaml')
    const whole = readRouterConfig(fixture('linkerd-consul.yaml'))
    if (isLeft(whole)) for (const p of problemsOf(whole.left)) expect(p).toMatch(/servers/)
    const ns = config['namers'] as Record<string, unknown>[]
    expect(ns[0]).toMatchObject({ host: '0.0.0.0', port: 8300 })
    const [spec] = namersOf([{ ...ns[0], host: '127.0.0.1', port: consul.port }])
    const namer = spec!.make(context)
    cleanups.push(() => namer.close?.())
    consul.register('svc', { node: 'n1', address: '127.0.0.5', port: 8080 })
    const router = (config['routers'] as { dtab: string }[])[0]!
    const interpreter = defaultInterpreter({ namers: NamerRegistry.create().mount(spec!.prefix, namer) })
    await addrIs(resolve(interpreter, Dtab.read(router.dtab), Path.read('/svc')), '127.0.0.5:8080')
  })

  it("linkerd's docs io.l5d.dnssrv example: the namer starts, a dnsHosts name is looked up, the Alt falls through", async () => {
    const config = yamlOf('linkerd-dnssrv.yaml')
    const whole = readRouterConfig(fixture('linkerd-dnssrv.yaml'))
    expect(isLeft(whole) ? problemsOf(whole.left) : []).toEqual([])
    const ns = config['namers'] as Record<string, unknown>[]
    // dnsHosts by name, as in the example; `localhost` stands for ns0.example.org here.
    const [spec] = namersOf([{ ...ns[0], dnsHosts: [`localhost:${dns.port}`] }])
    const namer = spec!.make(context)
    cleanups.push(() => namer.close?.())
    const router = (config['routers'] as { dtab: string }[])[0]!
    const interpreter = defaultInterpreter({ namers: NamerRegistry.create().mount(spec!.prefix, namer) })
    // /dnssrv/myservice is NXDOMAIN (Neg), so the Alt goes on to the fully qualified name.
    await addrIs(resolve(interpreter, Dtab.read(router.dtab), Path.read('/svc/myservice')), '127.0.0.7:7000')
    // Without experimental: true the kind refuses, as linkerd does.
    const r = byKind('a namer object', defaultNamerKinds).decode({ kind: 'io.l5d.dnssrv' })
    expect(isLeft(r) && r.left[0]!.message).toMatch(/experimental/)
  })

  it('namerd/examples/consul.yaml: storage and namers load; the consul namer starts', async () => {
    const doc = parseConfigText(fixture('namerd-consul.yaml'))
    if (isLeft(doc)) throw doc.left
    const whole = decodeConfig(namerdConfigCodec(), doc.right)
    // switchboard's namerd does not serve the thrift interface: the config loads with one warning.
    if (isLeft(whole)) throw new Error(problemsOf(whole.left).join('\n'))
    expect(whole.right.warnings).toEqual([
      expect.stringMatching(
        /interfaces.*io\.l5d\.thriftNameInterpreter is not served by this namerd; ignored/,
      ),
    ])
    const config = doc.right as Record<string, unknown>
    const [spec] = namersOf([{ ...(config['namers'] as object[])[0], host: '127.0.0.1', port: consul.port }])
    const namer = spec!.make(context)
    cleanups.push(() => namer.close?.())
    consul.register('users', { node: 'n2', address: '127.0.0.6', port: 80, checks: ['passing'] })
    const interpreter = defaultInterpreter({ namers: NamerRegistry.create().mount(spec!.prefix, namer) })
    await addrIs(resolve(interpreter, Dtab.empty, Path.read('/#/io.l5d.consul/dc1/users')), '127.0.0.6:80')
  })

  it('namerd/examples/consul-storage.yaml: the whole config loads and the consul store starts', async () => {
    const doc = parseConfigText(fixture('namerd-consul-storage.yaml'))
    if (isLeft(doc)) throw doc.left
    const whole = decodeConfig(namerdConfigCodec(), doc.right)
    if (isLeft(whole)) throw whole.left
    expect(whole.right.storage.kind).toBe('io.l5d.consul')
    expect(whole.right.admin).toMatchObject({ ip: '0.0.0.0', port: 9991 })
    const storage = (doc.right as { storage: object }).storage
    const spec = byKind('a storage object', defaultStoreKinds).decode({
      ...storage,
      host: '127.0.0.1',
      port: consul.port,
    })
    if (isLeft(spec)) throw new Error('storage did not decode')
    const store: DtabStore = await spec.right.make(context)
    cleanups.push(() => store.close())
    await store.create('default', Dtab.read('/svc=>/#/io.l5d.consul/dc1'))
    expect(consul.kvGet('namerd/dtabs/default')).toBe('/svc=>/#/io.l5d.consul/dc1')
    await eventually(store.observe('default'), (v) => v !== undefined)
  })

  it("the book's chapter 5 Consul dtab routes users.service.consul to the healthy instances (the tutorial)", async () => {
    const config = yamlOf('book-chapter5-linkerd.yml')
    const whole = readRouterConfig(fixture('book-chapter5-linkerd.yml'))
    // What is left over configures the proxy process, not a client.
    if (isLeft(whole))
      for (const p of problemsOf(whole.left)) expect(p).toMatch(/servers|httpAccessLog|telemetry|usage/)
    const backend = createServer((_req, res) => res.end('users'))
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()))
    cleanups.push(() => new Promise((r) => backend.close(r)))
    const port = (backend.address() as { port: number }).port
    consul.register('users', { node: 'u1', address: '127.0.0.1', port, checks: ['passing'] })
    consul.register('users', { node: 'u2', address: '127.0.0.1', port: 1, checks: ['critical'] })
    const namers = (config['namers'] as Record<string, unknown>[]).map((n) => ({ ...n, port: consul.port }))
    const router = (config['routers'] as { dtab: string }[])[0]!
    const yaml = YAML.stringify({
      namers,
      routers: [{ protocol: 'http', label: 'outgoing', dtab: router.dtab }],
    })
    const client = createClientFromConfig(yaml, { log: (m) => logs.push(m) })
    cleanups.push(() => client.close())
    const res = await client.fetch('http://users.service.consul/')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('users')
    // A host outside service.consul has no route.
    await expect(client.fetch('http://users.example.org/')).rejects.toThrow()
  })

  it("the book's chapter 6 namerd config: Consul storage and namer load (the mesh interface is another floor's)", async () => {
    const doc = parseConfigText(fixture('book-chapter6-namerd.yml'))
    if (isLeft(doc)) throw doc.left
    const whole = decodeConfig(namerdConfigCodec(), doc.right)
    if (isLeft(whole)) for (const p of problemsOf(whole.left)) expect(p).toMatch(/io\.l5d\.mesh/)
    const config = doc.right as { storage: object; namers: object[] }
    const storage = byKind('a storage object', defaultStoreKinds).decode({
      ...config.storage,
      port: consul.port,
    })
    if (isLeft(storage)) throw new Error('storage did not decode')
    const store = await storage.right.make(context)
    cleanups.push(() => store.close())
    await store.put('default', Dtab.read('/consul=>/#/io.l5d.consul/dc1;/host=>/consul'))
    expect(
      consul.requests
        .filter((r) => r.method === 'PUT')
        .at(-1)!
        .query.get('dc'),
    ).toBe('dc1')
    const [spec] = namersOf([{ ...config.namers[0], port: consul.port }])
    expect(spec!.prefix.show()).toBe('/#/io.l5d.consul')
  })
})
