import zookeeper from 'node-zookeeper-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  parseServersetMember,
  ServersetError,
  type ServersetsNamer,
  serversetsNamer,
} from '../../src/namers/serversets.js'
import type { Address } from '../../src/naming/address.js'
import { Path } from '../../src/naming/path.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { addrIs, boundLeaf, shown, sleep, stateEventually } from './discovery-helpers.js'
import { startZooKeeper, type TestServer, tcpProxy } from './servers.js'

let zk: TestServer
let admin: zookeeper.Client
beforeAll(async () => {
  zk = await startZooKeeper()
  admin = zookeeper.createClient(zk.address, { sessionTimeout: 10_000 })
  await new Promise<void>((resolve) => {
    admin.once('connected', () => resolve())
    admin.connect()
  })
}, 60_000)
afterAll(async () => {
  admin?.close()
  await zk?.close()
})

const call = <T>(f: (cb: (e: Error | zookeeper.Exception | null, r: T) => void) => void) =>
  new Promise<T>((resolve, reject) => f((e, r) => (e ? reject(e) : resolve(r))))

let counter = 0
const freshSet = async () => {
  const path = `/discovery/t${Date.now()}x${counter++}/web`
  await call((cb) => admin.mkdirp(path, cb))
  return path
}

const entry = (host: string, port: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    serviceEndpoint: { host, port },
    additionalEndpoints: { admin: { host, port: port + 1000 } },
    status: 'ALIVE',
    shard: 0,
    ...extra,
  })

/** Announces a member as Finagle does: an ephemeral sequential `member_` znode. */
const announce = (path: string, data: string, client = admin) =>
  call<string>((cb) =>
    client.create(`${path}/member_`, Buffer.from(data), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, cb),
  )
const remove = (node: string) => call<void>((cb) => admin.remove(node, -1, (e) => cb(e, undefined)))

describe('parseServersetMember', () => {
  it('reads the service endpoint and additional endpoints with status and shard', () => {
    expect(parseServersetMember(entry('10.0.0.1', 80, { shard: 3 }))).toEqual([
      { name: undefined, host: '10.0.0.1', port: 80, shard: 3, status: 'ALIVE' },
      { name: 'admin', host: '10.0.0.1', port: 1080, shard: 3, status: 'ALIVE' },
    ])
  })
  it('names what is wrong with a bad entry', () => {
    expect(parseServersetMember('nope')).toMatch(/invalid JSON/)
    expect(parseServersetMember('[]')).toBe('expected a serverset entry object')
    expect(parseServersetMember('{"serviceEndpoint":{"host":"a","port":70000}}')).toMatch(/serviceEndpoint/)
    expect(parseServersetMember('{"additionalEndpoints":{"http":{"port":1}}}')).toMatch(
      /additionalEndpoints\.http/,
    )
    expect(parseServersetMember('{"status":"ALIVE"}')).toBe('expected serviceEndpoint or additionalEndpoints')
  })
})

describe('io.l5d.serversets against a real ZooKeeper', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  const make = (options: Partial<Parameters<typeof serversetsNamer>[0]> = {}): ServersetsNamer => {
    const n = serversetsNamer({ zkAddrs: [{ host: '127.0.0.1', port: zk.port }], ...options })
    cleanups.push(() => n.close())
    return n
  }
  const lookup = (n: ServersetsNamer, path: string) => n.lookup(Path.read(path))

  it('binds the ALIVE members (service endpoint or a named one), with shardId, the rest residual', async () => {
    const set = await freshSet()
    const errors: ServersetError[] = []
    await announce(set, entry('127.0.0.1', 8001, { shard: 1 }))
    await announce(set, entry('127.0.0.2', 8002, { shard: 2 }))
    await announce(set, entry('127.0.0.3', 8003, { status: 'STOPPING' }))
    await announce(set, 'not json')
    await call((cb) => admin.create(`${set}/vectors`, Buffer.from('{}'), cb)) // not a member
    const n = make({ onError: (e) => errors.push(e) })
    const name = await boundLeaf(lookup(n, `${set}/extra/path`))
    expect(name.idStr).toBe(`/#/io.l5d.serversets${set}`)
    expect(name.path.show()).toBe('/extra/path')
    const addr = await addrIs(name.addr, '127.0.0.1:8001,127.0.0.2:8002')
    expect(
      (addr as unknown as { addresses: Address[] }).addresses.map((a) => a.metadata['shardId']).sort(),
    ).toEqual([1, 2])
    expect(errors.map((e) => e.message).join()).toMatch(/member_\d+: expected serverset entry JSON/)

    const adminName = await boundLeaf(lookup(n, `${set}:admin`))
    expect(adminName.idStr).toBe(`/#/io.l5d.serversets${set}:admin`)
    await addrIs(adminName.addr, '127.0.0.1:9001,127.0.0.2:9002')
    const none = await stateEventually(lookup(n, `${set}:nope`), (s) => s.kind !== 'pending')
    expect(none).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
  })

  it('follows members joining and leaving; no members or no serverset is Neg', async () => {
    const set = await freshSet()
    const first = await announce(set, entry('127.0.0.1', 8001))
    const n = make()
    const tree = lookup(n, set)
    const keep = tree.observe(() => {})
    cleanups.push(keep)
    const name = await boundLeaf(tree)
    await addrIs(name.addr, '127.0.0.1:8001')

    const second = await announce(set, entry('127.0.0.2', 8002))
    await addrIs(name.addr, '127.0.0.1:8001,127.0.0.2:8002')
    // A member that changes its data (e.g. goes out of service) is followed too.
    await call((cb) =>
      admin.setData(second, Buffer.from(entry('127.0.0.2', 8002, { status: 'DEAD' })), -1, cb),
    )
    await addrIs(name.addr, '127.0.0.1:8001')
    await remove(second)
    await remove(first)
    await stateEventually(tree, (s) => s.kind === 'ok' && s.value.kind === 'neg')

    // The serverset itself is deleted, then comes back.
    await call((cb) => admin.remove(set, -1, (e) => cb(e, undefined)))
    await sleep(200)
    expect(tree.state()).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
    await call((cb) => admin.mkdirp(set, cb))
    await announce(set, entry('127.0.0.3', 8003))
    const back = await boundLeaf(tree)
    await addrIs(back.addr, '127.0.0.3:8003')
  }, 60_000)

  it('an announcer whose session ends leaves the serverset', async () => {
    const set = await freshSet()
    await announce(set, entry('127.0.0.1', 8001))
    const other = zookeeper.createClient(zk.address, { sessionTimeout: 5000 })
    await new Promise<void>((resolve) => {
      other.once('connected', () => resolve())
      other.connect()
    })
    await announce(set, entry('127.0.0.2', 8002), other)
    const n = make()
    const tree = lookup(n, set)
    cleanups.push(tree.observe(() => {}))
    const name = await boundLeaf(tree)
    await addrIs(name.addr, '127.0.0.1:8001,127.0.0.2:8002')
    other.close()
    await addrIs(name.addr, '127.0.0.1:8001')
  })

  it('keeps the last members while cut off, survives a session expiry and catches up', async () => {
    const set = await freshSet()
    const a = await announce(set, entry('127.0.0.1', 8001))
    const proxy = await tcpProxy(zk.port)
    cleanups.push(() => proxy.close())
    const stats = inMemoryStats()
    const n = make({ zkAddrs: [{ host: '127.0.0.1', port: proxy.port }], sessionTimeoutMs: 2000, stats })
    const tree = lookup(n, set)
    cleanups.push(tree.observe(() => {}))
    const name = await boundLeaf(tree)
    await addrIs(name.addr, '127.0.0.1:8001')

    await proxy.cut()
    await announce(set, entry('127.0.0.2', 8002))
    await remove(a)
    // Longer than the session timeout: ZooKeeper expires the session meanwhile.
    await sleep(4000)
    expect(shown(name.addr.sample())).toBe('127.0.0.1:8001')
    expect(tree.state()).toMatchObject({ kind: 'ok', value: { kind: 'leaf' } })

    await proxy.restore()
    await addrIs(name.addr, '127.0.0.2:8002', 30_000)
    expect(stats.counterValue('sessions')).toBeGreaterThanOrEqual(2)
    // The new session's watches work.
    await announce(set, entry('127.0.0.3', 8003))
    await addrIs(name.addr, '127.0.0.2:8002,127.0.0.3:8003')
  }, 60_000)

  it('a name never resolved fails with ServersetError while ZooKeeper is unreachable', async () => {
    const proxy = await tcpProxy(zk.port)
    cleanups.push(() => proxy.close())
    await proxy.cut()
    const n = make({ zkAddrs: [{ host: '127.0.0.1', port: proxy.port }], sessionTimeoutMs: 1000 })
    const s = await stateEventually(lookup(n, '/discovery/x'), (s) => s.kind === 'failed')
    expect((s as { error: unknown }).error).toBeInstanceOf(ServersetError)
    // A name looked up later, while still cut off, fails at once instead of pending forever.
    const later = lookup(n, '/discovery/y')
    cleanups.push(later.observe(() => {}))
    expect(later.state().kind).toBe('failed')
    // And both recover once ZooKeeper is reachable.
    const set = await freshSet()
    await announce(set, entry('127.0.0.1', 8001))
    const tree = lookup(n, set)
    cleanups.push(tree.observe(() => {}))
    await proxy.restore()
    const name = await boundLeaf(tree)
    await addrIs(name.addr, '127.0.0.1:8001')
  })
})
