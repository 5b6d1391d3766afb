// namerd's io.l5d.k8s dtab store against the fake API server: the DtabStore conformance suite, the
// DTab custom resource shape on the wire, writes by others seen live, the last known dtabs kept
// while the API server is cut off, recovery without restart, and 410 re-lists.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DtabStoreUnavailable } from '../../src/namerd/store/health.js'
import {
  DTAB_NAMESPACE_ANNOTATION,
  dtabObjectName,
  type K8sDtabStore,
  k8sDtabStore,
  k8sVersion,
} from '../../src/namerd/store/k8s.js'
import type { VersionedDtab } from '../../src/namerd/store/store.js'
import { Version } from '../../src/namerd/store/version.js'
import { Dtab } from '../../src/naming/dtab.js'
import { describeDtabStore, eventually } from '../namerd/store-conformance.js'
import { type FakeK8s, startFakeK8s } from './fake-k8s.js'

const GV = 'apis/l5d.io/v1alpha1'

describeDtabStore(
  'io.l5d.k8s (fake Kubernetes API)',
  async () => {
    const k8s = await startFakeK8s()
    const store = await k8sDtabStore({ host: k8s.host, port: k8s.port, namespace: 'linkerd' })
    return { store, cleanup: () => k8s.close() }
  },
  { timeoutMs: 10_000 },
)

const hasDtab = (d: Dtab) => (v: VersionedDtab | undefined) => v?.dtab.equals(d) === true
const absent = (v: VersionedDtab | undefined) => v === undefined

describe('io.l5d.k8s dtab store, live', () => {
  let k8s: FakeK8s
  let store: K8sDtabStore
  beforeEach(async () => {
    k8s = await startFakeK8s()
    store = await k8sDtabStore({
      host: k8s.host,
      port: k8s.port,
      watchIdleTimeoutMs: 1500,
      requestTimeoutMs: 1000,
      timeoutMs: 2000,
    })
  })
  afterEach(async () => {
    await store.close()
    await k8s.close()
  })

  it('stores a DTab custom resource named after the namespace, versioned by resourceVersion', async () => {
    await store.create('default', Dtab.read('/svc=>/#/io.l5d.k8s/default/http;/svc/world=>/srv/world-v1'))
    const o = k8s.get(GV, 'dtabs', 'default', 'default')!
    expect(o).toMatchObject({
      apiVersion: 'l5d.io/v1alpha1',
      kind: 'DTab',
      metadata: { name: 'default', namespace: 'default' },
      dentries: [
        { prefix: '/svc', dst: '/#/io.l5d.k8s/default/http' },
        { prefix: '/svc/world', dst: '/srv/world-v1' },
      ],
    })
    const v = await eventually(store.observe('default'), (x) => x !== undefined, 10_000)
    expect(Version.equals(v!.version, k8sVersion(o.metadata.resourceVersion!))).toBe(true)
    // namerd's version bytes are the UTF-8 of the resourceVersion.
    expect(Version.toEtag(v!.version)).toBe(Buffer.from(o.metadata.resourceVersion!).toString('base64'))
  })

  it("reads linkerd's DTab objects written by someone else (kubectl), live", async () => {
    const obs = store.observe('secondary')
    expect(await eventually(obs, () => true, 10_000)).toBeUndefined()
    // The object of linkerd's K8sDtabStoreTest fixture.
    k8s.put(GV, 'dtabs', {
      apiVersion: 'l5d.io/v1alpha1',
      kind: 'DTab',
      metadata: {
        name: 'secondary',
        namespace: 'default',
        annotations: undefined as never,
        labels: undefined as never,
      },
      dentries: [
        { dst: '/#/io.l5d.consul/dc1', prefix: '/svc' },
        { dst: '/$/inet/127.1/9991', prefix: '/svc/srv' },
      ],
    })
    const v = await eventually(
      obs,
      hasDtab(Dtab.read('/svc=>/#/io.l5d.consul/dc1;/svc/srv=>/$/inet/127.1/9991')),
      10_000,
    )
    expect(Buffer.from(v!.version).toString('utf8')).toBe(
      k8s.get(GV, 'dtabs', 'default', 'secondary')!.metadata.resourceVersion,
    )
    expect(await eventually(store.list(), (l) => l.length === 1, 10_000)).toEqual(['secondary'])
    k8s.remove(GV, 'dtabs', 'default', 'secondary')
    await eventually(obs, absent, 10_000)
  })

  it('a DTab whose dentries cannot be read fails that namespace only', async () => {
    k8s.put(GV, 'dtabs', {
      metadata: { name: 'bad', namespace: 'default' },
      dentries: [{ prefix: 'nope', dst: '/a' }],
    })
    k8s.put(GV, 'dtabs', {
      metadata: { name: 'good', namespace: 'default' },
      dentries: [{ prefix: '/a', dst: '/b' }],
    })
    await eventually(store.observe('good'), hasDtab(Dtab.read('/a=>/b')), 10_000)
    await expect(eventually(store.observe('bad'), () => true, 10_000)).rejects.toThrow(
      /DTab bad: dentries\[0\] is not a dentry/,
    )
  })

  it('keeps names that are not Kubernetes object names under a hashed name with an annotation', async () => {
    await store.put('With Space', Dtab.read('/a=>/b'))
    const name = dtabObjectName('With Space')
    expect(name).toMatch(/^dtab-[0-9a-f]{40}$/)
    expect(k8s.get(GV, 'dtabs', 'default', name)!.metadata.annotations).toEqual({
      [DTAB_NAMESPACE_ANNOTATION]: 'With Space',
    })
    expect(await eventually(store.list(), (l) => l.length === 1, 10_000)).toEqual(['With Space'])
  })

  it('keeps the last known dtabs while the API server is cut off, fails writes, and recovers', async () => {
    await store.put('default', Dtab.read('/a=>/b'))
    await eventually(store.observe('default'), hasDtab(Dtab.read('/a=>/b')), 10_000)
    const health = store.health
    expect(health.sample().status).toBe('connected')
    k8s.down()
    await expect(store.put('default', Dtab.read('/a=>/c'))).rejects.toBeInstanceOf(DtabStoreUnavailable)
    await vi.waitFor(() => expect(health.sample().status).toBe('reconnecting'), { timeout: 10_000 })
    // Someone else writes while we are cut off.
    k8s.put(GV, 'dtabs', {
      metadata: { name: 'default', namespace: 'default' },
      dentries: [{ prefix: '/a', dst: '/z' }],
    })
    k8s.put(GV, 'dtabs', { metadata: { name: 'other', namespace: 'default' }, dentries: [] })
    await new Promise((r) => setTimeout(r, 300))
    expect(store.observe('default').sample()!.dtab.show()).toBe('/a=>/b')
    k8s.up()
    await eventually(store.observe('default'), hasDtab(Dtab.read('/a=>/z')), 10_000)
    expect(health.sample().status).toBe('connected')
    expect(await eventually(store.list(), (l) => l.length === 2, 10_000)).toEqual(['default', 'other'])
    await store.put('default', Dtab.read('/a=>/d'))
    await eventually(store.observe('default'), hasDtab(Dtab.read('/a=>/d')), 10_000)
  })

  it('re-lists after its watch expires (410) and sees deletions it missed', async () => {
    await store.put('a', Dtab.read('/a=>/b'))
    await store.put('b', Dtab.read('/a=>/b'))
    await eventually(store.list(), (l) => l.length === 2, 10_000)
    await vi.waitFor(() => expect(k8s.openWatches()).toBeGreaterThanOrEqual(1), { timeout: 10_000 })
    k8s.stall()
    k8s.remove(GV, 'dtabs', 'default', 'a')
    k8s.compact()
    k8s.unstall()
    k8s.expireWatches()
    expect(await eventually(store.list(), (l) => l.length === 1, 10_000)).toEqual(['b'])
  })

  it('reports failed health when the API server refuses its credentials', async () => {
    const secured = await startFakeK8s({ token: 'right' })
    const s = await k8sDtabStore({ host: secured.host, port: secured.port, timeoutMs: 1000 })
    try {
      await vi.waitFor(() => expect(s.health.sample().status).toBe('failed'), { timeout: 10_000 })
      expect(s.health.sample().detail).toMatch(/Unauthorized/)
      await expect(s.put('a', Dtab.read('/a=>/b'))).rejects.toBeInstanceOf(DtabStoreUnavailable)
    } finally {
      await s.close()
      await secured.close()
    }
  })
})
