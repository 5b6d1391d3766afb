import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DtabStoreForbidden } from '../../src/namerd/store/store.js'
import { zkDtabStore, zkVersionOf } from '../../src/namerd/store/zk.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { describeDtabStore, eventually } from '../namerd/store-conformance.js'
import {
  describeReplicatedStore,
  dtabN,
  freshPrefix,
  hasDtab,
  healthIs,
  type ReplicaOptions,
  sleep,
} from './replicas.js'
import { startZooKeeper, type TestServer, tcpProxy } from './servers.js'

let zk: TestServer
beforeAll(async () => {
  zk = await startZooKeeper()
}, 60_000)
afterAll(async () => {
  await zk?.close()
})

const replica = (pathPrefix: string, options: ReplicaOptions = {}) => {
  const [host, port] = (options.address ?? zk.address).split(':') as [string, string]
  return zkDtabStore({
    zkAddrs: [{ host, port: Number(port) }],
    pathPrefix,
    sessionTimeoutMs: 10_000,
    ...(options.stats && { stats: options.stats }),
  })
}

describeDtabStore('io.l5d.zk (real ZooKeeper)', async () => ({ store: replica(freshPrefix()) }))
describeReplicatedStore('io.l5d.zk (real ZooKeeper)', {
  server: () => zk,
  replica,
  replaysMissedUpdates: false,
  versionNumber: (v) => BigInt(zkVersionOf(v) ?? -1),
  versionStep: 1n,
})

describe('io.l5d.zk sessions and ACLs', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  const track = <T extends { close(): Promise<void> | void }>(x: T): T => {
    cleanups.push(() => x.close())
    return x
  }
  const zkAddrs = () => [{ host: '127.0.0.1', port: zk.port }]

  it('after its session expires, opens a new one, re-arms its watches and catches up', async () => {
    const prefix = freshPrefix()
    const proxy = track(await tcpProxy(zk.port))
    const stats = inMemoryStats()
    const a = track(
      zkDtabStore({
        zkAddrs: [{ host: '127.0.0.1', port: proxy.port }],
        pathPrefix: prefix,
        sessionTimeoutMs: 2000,
        stats,
      }),
    )
    const b = track(zkDtabStore({ zkAddrs: zkAddrs(), pathPrefix: prefix }))
    await b.put('default', dtabN(0))
    await eventually(a.observe('default'), hasDtab(dtabN(0)))
    await proxy.cut()
    await healthIs(a, 'reconnecting')
    await b.put('default', dtabN(1))
    await b.put('other', dtabN(1))
    // Longer than the session timeout: ZooKeeper expires the session meanwhile.
    await sleep(4000)
    await proxy.restore()
    await eventually(a.observe('default'), hasDtab(dtabN(1)), 10_000)
    await eventually(a.list(), (ns) => ns.includes('other'))
    expect(stats.counterValue('sessions')).toBe(2)
    // The new session's watches work: later updates arrive, and writes go through.
    await b.put('default', dtabN(2))
    await eventually(a.observe('default'), hasDtab(dtabN(2)))
    await a.put('default', dtabN(3))
    await eventually(b.observe('default'), hasDtab(dtabN(3)))
  })

  it('creates znodes with the configured ACLs; a store without the credentials reads but may not write', async () => {
    const prefix = freshPrefix()
    const authInfo = { scheme: 'digest', auth: 'namerd:s3cret' }
    const owner = track(
      zkDtabStore({
        zkAddrs: zkAddrs(),
        pathPrefix: prefix,
        authInfo,
        acls: [
          { scheme: 'auth', id: '', perms: 'crwda' },
          { scheme: 'world', id: 'anyone', perms: 'r' },
        ],
      }),
    )
    await owner.put('default', dtabN(1))
    const stranger = track(zkDtabStore({ zkAddrs: zkAddrs(), pathPrefix: prefix }))
    expect((await eventually(stranger.observe('default'), hasDtab(dtabN(1))))!.dtab.equals(dtabN(1))).toBe(
      true,
    )
    await expect(stranger.put('default', dtabN(2))).rejects.toBeInstanceOf(DtabStoreForbidden)
    await expect(stranger.create('new', dtabN(2))).rejects.toBeInstanceOf(DtabStoreForbidden)
    await expect(stranger.delete('default')).rejects.toBeInstanceOf(DtabStoreForbidden)

    // A namespace only its owner may read: others see it listed, and its observation fails.
    const secretive = track(
      zkDtabStore({
        zkAddrs: zkAddrs(),
        pathPrefix: prefix,
        authInfo,
        acls: [{ scheme: 'auth', id: '', perms: 'crwda' }],
      }),
    )
    await secretive.create('hidden', dtabN(9))
    await eventually(stranger.list(), (ns) => ns.includes('hidden'))
    await expect(eventually(stranger.observe('hidden'), () => true)).rejects.toBeInstanceOf(
      DtabStoreForbidden,
    )
    expect((await eventually(owner.observe('hidden'), hasDtab(dtabN(9))))!.dtab.equals(dtabN(9))).toBe(true)
  })
})
