import { afterEach, describe, expect, it } from 'vitest'
import { consulDtabStore, consulVersion, consulVersionOf } from '../../src/namerd/store/consul.js'
import { DtabStoreUnavailable, type StoreHealth } from '../../src/namerd/store/health.js'
import {
  DtabNamespaceDoesNotExist,
  type DtabStore,
  DtabStoreForbidden,
  DtabVersionMismatch,
  type VersionedDtab,
} from '../../src/namerd/store/store.js'
import { Version } from '../../src/namerd/store/version.js'
import { Dtab } from '../../src/naming/dtab.js'
import { describeDtabStore, eventually } from '../namerd/store-conformance.js'
import { sleep, stateEventually, varEventually } from './discovery-helpers.js'
import { type FakeConsul, startFakeConsul } from './fake-consul.js'

const quick = { waitMs: 1000, backoff: { minMs: 5, maxMs: 200 } }

describeDtabStore('io.l5d.consul (fake Consul)', async () => {
  const consul = await startFakeConsul()
  return {
    store: consulDtabStore({ host: '127.0.0.1', port: consul.port, ...quick }),
    cleanup: () => consul.close(),
  }
})

describe('consul versions', () => {
  it('are the decimal digits of the ModifyIndex', () => {
    expect(Version.toEtag(consulVersion(42n))).toBe('NDI=')
    expect(consulVersionOf(consulVersion(12345n))).toBe(12345n)
    expect(consulVersionOf(Version.fromEtag('yolo'))).toBeUndefined()
    expect(consulVersionOf(consulVersion(0n))).toBeUndefined()
    expect(consulVersionOf(new Uint8Array(0))).toBeUndefined()
  })
})

describe('io.l5d.consul dtab store against the fake Consul', () => {
  let consul: FakeConsul
  const stores: DtabStore[] = []
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close()
    await consul?.close()
    consul = undefined as unknown as FakeConsul
  })
  const make = async (options: Parameters<typeof consulDtabStore>[0] = {}) => {
    consul ??= await startFakeConsul()
    const s = consulDtabStore({ host: '127.0.0.1', port: consul.port, ...quick, ...options })
    stores.push(s)
    return s
  }
  const hasDtab = (d: string) => (v: VersionedDtab | undefined) => v?.dtab.show() === Dtab.read(d).show()

  it('stores dtab text under <pathPrefix>/<ns> with cas writes, and sees writes by others', async () => {
    consul = await startFakeConsul()
    const store = await make({ pathPrefix: '/custom/dtabs' })
    await store.create('default', Dtab.read('/svc=>/#/io.l5d.consul/dc1'))
    expect(consul.kvGet('custom/dtabs/default')).toBe('/svc=>/#/io.l5d.consul/dc1')
    const put = consul.requests.find((r) => r.method === 'PUT')!
    expect(put.query.get('cas')).toBe('0')

    const v = (await eventually(store.observe('default'), hasDtab('/svc=>/#/io.l5d.consul/dc1')))!
    // The version is the key's ModifyIndex; an update sends it as cas.
    await store.update('default', Dtab.read('/svc=>/#/io.l5d.consul/dc2'), v.version)
    expect(
      consul.requests
        .filter((r) => r.method === 'PUT')
        .at(-1)!
        .query.get('cas'),
    ).toBe(String(consulVersionOf(v.version)))

    // Someone else writes, adds a namespace, a sub-folder and a key that is no namespace name.
    consul.kvPut('custom/dtabs/default', '/svc=>/$/inet/127.1/9000')
    consul.kvPut('custom/dtabs/other', '/a=>/b')
    consul.kvPut('custom/dtabs/sub/nested', '/a=>/b')
    await eventually(store.observe('default'), hasDtab('/svc=>/$/inet/127.1/9000'))
    expect(await eventually(store.list(), (ns) => ns.includes('other'))).toEqual(['default', 'other'])
    consul.kvDelete('custom/dtabs/other')
    await eventually(store.observe('other'), (x) => x === undefined)
    await eventually(store.list(), (ns) => !ns.includes('other'))
  })

  it('an update of a missing namespace is DoesNotExist; of a changed one, VersionMismatch', async () => {
    const store = await make()
    await expect(store.update('nope', Dtab.read('/a=>/b'), consulVersion(5n))).rejects.toBeInstanceOf(
      DtabNamespaceDoesNotExist,
    )
    await store.put('ns', Dtab.read('/a=>/b'))
    const v = (await eventually(store.observe('ns'), hasDtab('/a=>/b')))!
    consul.kvPut('namerd/dtabs/ns', '/a=>/c')
    await expect(store.update('ns', Dtab.read('/a=>/d'), v.version)).rejects.toBeInstanceOf(
      DtabVersionMismatch,
    )
    expect(consul.kvGet('namerd/dtabs/ns')).toBe('/a=>/c')
  })

  it('a stored value that is no dtab fails that observation until it is fixed', async () => {
    const store = await make()
    consul.kvPut('namerd/dtabs/bad', '/svc => ')
    const s = await stateEventually(store.observe('bad'), (s) => s.kind === 'failed')
    expect(String((s as { error: Error }).error.message)).toMatch(/./)
    consul.kvPut('namerd/dtabs/bad', '/svc=>/x')
    await eventually(store.observe('bad'), hasDtab('/svc=>/x'))
  })

  it('keeps the last dtabs while Consul is gone, fails writes with 503, and recovers', async () => {
    const problems: string[] = []
    const store = await make({ onProblem: (m) => problems.push(m) })
    await store.put('default', Dtab.read('/svc=>/a'))
    const seen: string[] = []
    const off = store.observe('default').observe((s) => {
      seen.push(s.kind === 'ok' ? (s.value?.dtab.show() ?? 'absent') : s.kind)
    })
    await eventually(store.observe('default'), hasDtab('/svc=>/a'))
    const health = (store as unknown as { health: Parameters<typeof varEventually<StoreHealth>>[0] }).health
    await varEventually(health, (h) => h.status === 'connected')
    await consul.stop()
    await varEventually(health, (h) => h.status === 'reconnecting')
    const deadline = Date.now() + 10_000
    while (problems.length < 2 && Date.now() < deadline) await sleep(20)
    expect(problems.length).toBeGreaterThanOrEqual(2)
    expect(seen.at(-1)).toBe('/svc=>/a')
    expect(seen).not.toContain('failed')
    await expect(store.put('default', Dtab.read('/svc=>/b'))).rejects.toBeInstanceOf(DtabStoreUnavailable)
    consul.kvPut('namerd/dtabs/default', '/svc=>/c') // written by someone else while we were cut off
    await consul.start()
    const deadline2 = Date.now() + 10_000
    while (seen.at(-1) !== '/svc=>/c' && Date.now() < deadline2) await sleep(20)
    expect(seen.at(-1)).toBe('/svc=>/c')
    await store.put('default', Dtab.read('/svc=>/d'))
    await eventually(store.observe('default'), hasDtab('/svc=>/d'))
    expect(health.sample().status).toBe('connected')
    off()
  })

  it('follows through stalls, resets and an index that goes backwards', async () => {
    const store = await make({ waitMs: 300 })
    await store.put('default', Dtab.read('/svc=>/a'))
    // One long-lived observation, as namerd keeps one per watched namespace.
    let last = ''
    const off = store.observe('default').observe((s) => {
      if (s.kind === 'ok') last = s.value?.dtab.show() ?? 'absent'
    })
    const until = async (shown: string, ms = 15_000) => {
      const deadline = Date.now() + ms
      while (last !== shown && Date.now() < deadline) await sleep(20)
      expect(last).toBe(shown)
    }
    await until('/svc=>/a')
    consul.fault('/v1/kv/namerd/dtabs/default', { kind: 'reset' }, 1)
    consul.fault(
      '/v1/kv/namerd/dtabs/default',
      { kind: 'status', status: 500, body: 'rpc error: No cluster leader' },
      1,
    )
    consul.kvPut('namerd/dtabs/default', '/svc=>/b')
    await until('/svc=>/b')
    consul.resetIndex(2)
    consul.kvPut('namerd/dtabs/default', '/svc=>/c')
    await until('/svc=>/c')
    consul.fault('/v1/kv/namerd/dtabs/default', { kind: 'stall' }, 1)
    await sleep(100)
    consul.kvPut('namerd/dtabs/default', '/svc=>/d')
    await until('/svc=>/d')
    off()
  }, 30_000)

  it('sends the token and datacenter; an ACL refusal is DtabStoreForbidden', async () => {
    consul = await startFakeConsul()
    consul.requireToken('s3cret')
    const store = await make({ token: 's3cret', datacenter: 'dc2', readConsistencyMode: 'consistent' })
    await store.put('default', Dtab.read('/a=>/b'))
    await eventually(store.observe('default'), hasDtab('/a=>/b'))
    const get = consul.requests.find((r) => r.method === 'GET')!
    expect(get.token).toBe('s3cret')
    expect(get.query.get('dc')).toBe('dc2')
    expect(get.query.has('consistent')).toBe(true)
    const stranger = await make()
    await expect(stranger.put('default', Dtab.read('/a=>/c'))).rejects.toBeInstanceOf(DtabStoreForbidden)
  })
})
