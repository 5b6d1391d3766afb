import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Etcd3, Range } from 'etcd3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { etcdDtabStore, etcdRevision } from '../../src/namerd/store/etcd.js'
import { DtabStoreUnavailable } from '../../src/namerd/store/health.js'
import { DtabStoreForbidden } from '../../src/namerd/store/store.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { describeDtabStore, eventually } from '../namerd/store-conformance.js'
import { makeCertificates } from './certs.js'
import {
  describeReplicatedStore,
  dtabN,
  freshPrefix,
  hasDtab,
  healthIs,
  type ReplicaOptions,
} from './replicas.js'
import { type EtcdServer, startEtcd, tcpProxy } from './servers.js'

let etcd: EtcdServer
beforeAll(async () => {
  etcd = await startEtcd()
}, 60_000)
afterAll(async () => {
  await etcd?.close()
})

const replica = (pathPrefix: string, options: ReplicaOptions = {}) =>
  etcdDtabStore({
    endpoints: [`http://${options.address ?? etcd.address}`],
    pathPrefix,
    ...(options.stats && { stats: options.stats }),
  })

describeDtabStore('io.l5d.etcd (real etcd)', async () => ({ store: replica(freshPrefix()) }))
describeReplicatedStore('io.l5d.etcd (real etcd)', {
  server: () => etcd,
  replica,
  replaysMissedUpdates: true,
  versionNumber: (v) => etcdRevision(v) ?? -1n,
})

describe('io.l5d.etcd against etcd with TLS, authentication and compaction', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  const track = <T extends { close(): Promise<void> | void }>(x: T): T => {
    cleanups.push(() => x.close())
    return x
  }

  it('talks TLS with a client certificate; without one etcd refuses it and it says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-certs-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const certs = makeCertificates(dir)
    const server = track(
      await startEtcd({
        tls: {
          certFile: certs.serverCertFile,
          keyFile: certs.serverKeyFile,
          caFile: certs.caFile,
          clientCertAuth: true,
        },
      }),
    )
    expect(server.url).toMatch(/^https:/)
    const store = track(
      etcdDtabStore({
        endpoints: [server.url],
        pathPrefix: freshPrefix(),
        tls: {
          rootCertificate: readFileSync(certs.caFile),
          certChain: readFileSync(certs.clientCertFile),
          privateKey: readFileSync(certs.clientKeyFile),
        },
      }),
    )
    await store.put('default', dtabN(1))
    expect((await eventually(store.observe('default'), hasDtab(dtabN(1))))!.dtab.show()).toBe(dtabN(1).show())
    await healthIs(store, 'connected')

    const anonymous = track(
      etcdDtabStore({
        endpoints: [server.url],
        pathPrefix: freshPrefix(),
        tls: { rootCertificate: readFileSync(certs.caFile) },
        requestTimeoutMs: 1000,
      }),
    )
    await expect(anonymous.put('default', dtabN(1))).rejects.toBeInstanceOf(DtabStoreUnavailable)
    expect(anonymous.health.sample().status).toBe('connecting')
  })

  it('authenticates with a user and password; a user without write access gets DtabStoreForbidden', async () => {
    const server = track(await startEtcd())
    const prefix = freshPrefix()
    const root = new Etcd3({ hosts: server.url })
    cleanups.push(() => root.close())
    await root.role('root').create()
    await root.user('root').create('rootpw')
    await root.user('root').addRole('root')
    await root.role('reader').create()
    await root.role('reader').grant({ permission: 'Read', range: Range.prefix(`${prefix}/`) })
    await root.user('reader').create('readerpw')
    await root.user('reader').addRole('reader')
    await root.auth.authEnable({})

    const writer = track(
      etcdDtabStore({
        endpoints: [server.url],
        pathPrefix: prefix,
        auth: { username: 'root', password: 'rootpw' },
      }),
    )
    await writer.put('default', dtabN(1))
    const reader = track(
      etcdDtabStore({
        endpoints: [server.url],
        pathPrefix: prefix,
        auth: { username: 'reader', password: 'readerpw' },
      }),
    )
    expect((await eventually(reader.observe('default'), hasDtab(dtabN(1))))!.dtab.equals(dtabN(1))).toBe(true)
    await expect(reader.put('default', dtabN(2))).rejects.toBeInstanceOf(DtabStoreForbidden)

    const stranger = track(
      etcdDtabStore({
        endpoints: [server.url],
        pathPrefix: prefix,
        auth: { username: 'root', password: 'wrong' },
      }),
    )
    const failed = await healthIs(stranger, 'failed')
    expect(failed.detail).toMatch(/authentication failed/)
    await expect(stranger.put('default', dtabN(3))).rejects.toBeInstanceOf(DtabStoreUnavailable)
  })

  it('after a disconnect longer than the history etcd keeps, reads the prefix again and carries on', async () => {
    const prefix = freshPrefix()
    const proxy = track(await tcpProxy(etcd.port))
    const stats = inMemoryStats()
    const a = track(etcdDtabStore({ endpoints: [`http://${proxy.address}`], pathPrefix: prefix, stats }))
    const b = track(etcdDtabStore({ endpoints: [etcd.url], pathPrefix: prefix }))
    await b.put('default', dtabN(0))
    await b.put('gone', dtabN(0))
    await eventually(a.observe('gone'), hasDtab(dtabN(0)))
    await proxy.cut()
    await healthIs(a, 'reconnecting')
    for (let i = 1; i <= 3; i++) await b.put('default', dtabN(i))
    await b.delete('gone')
    // Drop the history the cut-off replica would resume from.
    const raw = new Etcd3({ hosts: etcd.url })
    cleanups.push(() => raw.close())
    const revision = (await raw.get('anything').exec()).header.revision
    await raw.kv.compact({ revision, physical: true })
    await proxy.restore()
    await eventually(a.observe('default'), hasDtab(dtabN(3)), 10_000)
    await eventually(a.observe('gone'), (v) => v === undefined)
    expect(await eventually(a.list(), (ns) => !ns.includes('gone'))).toEqual(['default'])
    expect(stats.counterValue('resyncs')).toBe(2)
    await a.put('default', dtabN(4))
    await eventually(b.observe('default'), hasDtab(dtabN(4)))
  })
})
