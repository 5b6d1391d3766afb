// The io.l5d.k8s and io.l5d.k8s.external namers against the fake API server: live updates through
// list+watch, Neg for missing services and ports, last good answer kept while the server is cut
// off, recovery without restart, 410 Gone re-lists, stalls and split chunks.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ActivityState } from '../../src/core/activity.js'
import { type K8sNamer, k8sExternalNamer, k8sNamer } from '../../src/namers/k8s.js'
import { Addr } from '../../src/naming/addr.js'
import type { Name, NameBound } from '../../src/naming/name.js'
import type { NameTree } from '../../src/naming/nametree.js'
import { Path } from '../../src/naming/path.js'
import { makeCertificates } from './certs.js'
import { endpoints, type FakeK8s, service, startFakeK8s } from './fake-k8s.js'

const WAIT = { timeout: 8_000, interval: 20 }

/** Watches a lookup and its leaf's addr; `show()` is `Neg`, `Pending`, `Failed(..)` or the addresses. */
function observe(namer: K8sNamer, path: string) {
  let tree: ActivityState<NameTree<Name>> = { kind: 'pending' }
  let addr: Addr = Addr.Pending
  let offAddr: (() => void) | undefined
  let treeUpdates = 0
  const off = namer.lookup(Path.read(path)).observe((s) => {
    treeUpdates++
    tree = s
    offAddr?.()
    offAddr = undefined
    if (s.kind === 'ok' && s.value.kind === 'leaf') {
      offAddr = (s.value.value as NameBound).addr.observe((a) => {
        addr = a
      })
    }
  })
  return {
    show(): string {
      if (tree.kind !== 'ok') return tree.kind
      if (tree.value.kind !== 'leaf') return tree.value.kind
      if (addr.kind !== 'bound') return Addr.show(addr)
      return addr.addresses
        .map((a) => a.show())
        .sort()
        .join(',')
    },
    bound: () =>
      tree.kind === 'ok' && tree.value.kind === 'leaf' ? (tree.value.value as NameBound) : undefined,
    addr: () => addr,
    treeUpdates: () => treeUpdates,
    close() {
      offAddr?.()
      off()
    },
  }
}

let k8s: FakeK8s
let namer: K8sNamer
const opened: { close(): void }[] = []
const watch = (path: string) => {
  const o = observe(namer, path)
  opened.push(o)
  return o
}

beforeEach(async () => {
  k8s = await startFakeK8s()
  namer = k8sNamer({ host: k8s.host, port: k8s.port, watchIdleTimeoutMs: 1500, requestTimeoutMs: 2000 })
})
afterEach(async () => {
  for (const o of opened.splice(0)) o.close()
  await namer.close()
  await k8s.close()
})

const web = (ips: string[], portName = 'http', port = 8080) =>
  endpoints('default', 'web', [
    { addresses: ips.map((ip) => ({ ip, nodeName: `node-${ip}` })), ports: [{ name: portName, port }] },
  ])

describe('io.l5d.k8s', () => {
  it('binds a named port, follows instances added and removed, and is Neg once the service is deleted', async () => {
    k8s.put('api/v1', 'endpoints', web(['10.1.0.1', '10.1.0.2']))
    const o = watch('/default/http/web/rest')
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.1:8080,10.1.0.2:8080'), WAIT)
    const b = o.bound()!
    expect(b.id).toEqual(Path.read('/#/io.l5d.k8s/default/http/web'))
    expect(b.path).toEqual(Path.read('/rest'))
    expect((o.addr() as Extract<Addr, { kind: 'bound' }>).addresses[0]!.metadata).toEqual({
      nodeName: 'node-10.1.0.1',
    })
    const updates = o.treeUpdates()

    k8s.put('api/v1', 'endpoints', web(['10.1.0.1', '10.1.0.2', '10.1.0.3']))
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.1:8080,10.1.0.2:8080,10.1.0.3:8080'), WAIT)
    k8s.put('api/v1', 'endpoints', web(['10.1.0.3']))
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.3:8080'), WAIT)
    // Address changes go through the addr: the tree (the leaf) stays the same.
    expect(o.treeUpdates()).toBe(updates)

    k8s.remove('api/v1', 'endpoints', 'default', 'web')
    await vi.waitFor(() => expect(o.show()).toBe('neg'), WAIT)
    k8s.put('api/v1', 'endpoints', web(['10.1.0.9']))
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.9:8080'), WAIT)
  })

  it('is Neg for an unknown service, an unknown port and a short path; lower-cases the name', async () => {
    k8s.put('api/v1', 'endpoints', web(['10.1.0.1']))
    const unknownSvc = watch('/default/http/nope')
    const unknownPort = watch('/default/grpc/web')
    const short = watch('/default/http')
    const upper = watch('/Default/HTTP/Web')
    await vi.waitFor(() => {
      expect(unknownSvc.show()).toBe('neg')
      expect(unknownPort.show()).toBe('neg')
      expect(short.show()).toBe('neg')
      expect(upper.show()).toBe('10.1.0.1:8080')
    }, WAIT)
    expect(upper.bound()!.id).toEqual(Path.read('/#/io.l5d.k8s/default/http/web'))
  })

  it('maps a numeric port through the Service targetPort (by number and by name), live', async () => {
    k8s.put(
      'api/v1',
      'endpoints',
      endpoints('default', 'web', [
        {
          addresses: [{ ip: '10.1.0.1' }],
          ports: [
            { name: 'http', port: 8080 },
            { name: 'admin', port: 9990 },
          ],
        },
      ]),
    )
    k8s.put(
      'api/v1',
      'services',
      service('default', 'web', [
        { name: 'http', port: 80, targetPort: 'http' },
        { port: 9000, targetPort: 9990 },
      ]),
    )
    const byName = watch('/default/80/web')
    const byNumber = watch('/default/9000/web')
    const missing = watch('/default/81/web')
    await vi.waitFor(() => {
      expect(byName.show()).toBe('10.1.0.1:8080')
      expect(byNumber.show()).toBe('10.1.0.1:9990')
      expect(missing.show()).toBe('neg')
    }, WAIT)
    // The Service changes its mapping: followed without a new lookup.
    k8s.put(
      'api/v1',
      'services',
      service('default', 'web', [{ name: 'http', port: 80, targetPort: 'admin' }]),
    )
    await vi.waitFor(() => {
      expect(byName.show()).toBe('10.1.0.1:9990')
      expect(byNumber.show()).toBe('neg')
    }, WAIT)
  })

  it('with labelSelector, takes the label value from the 4th segment', async () => {
    await namer.close()
    namer = k8sNamer({ host: k8s.host, port: k8s.port, labelSelector: 'version' })
    k8s.put('api/v1', 'endpoints', {
      ...endpoints('default', 'web', [
        { addresses: [{ ip: '10.2.0.1' }], ports: [{ name: 'http', port: 80 }] },
      ]),
      metadata: { name: 'web', namespace: 'default', labels: { version: 'v1' } },
    })
    const v1 = watch('/default/http/web/v1/rest')
    const v2 = watch('/default/http/web/v2')
    await vi.waitFor(() => {
      expect(v1.show()).toBe('10.2.0.1:80')
      expect(v2.show()).toBe('neg')
    }, WAIT)
    expect(v1.bound()!.id).toEqual(Path.read('/#/io.l5d.k8s/default/http/web/v1'))
    expect(v1.bound()!.path).toEqual(Path.read('/rest'))
    expect(k8s.requests.some((r) => r.includes('labelSelector=version%3Dv1'))).toBe(true)
  })

  it('keeps the last good answer while the API server is cut off and recovers without a restart', async () => {
    k8s.put('api/v1', 'endpoints', web(['10.1.0.1', '10.1.0.2']))
    const o = watch('/default/http/web')
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.1:8080,10.1.0.2:8080'), WAIT)
    k8s.down()
    // Changes made while we cannot see them.
    k8s.put('api/v1', 'endpoints', web(['10.1.0.5']))
    await new Promise((r) => setTimeout(r, 500))
    expect(o.show()).toBe('10.1.0.1:8080,10.1.0.2:8080')
    k8s.up()
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.5:8080'), WAIT)
    // And it is live again.
    k8s.remove('api/v1', 'endpoints', 'default', 'web')
    await vi.waitFor(() => expect(o.show()).toBe('neg'), WAIT)
  })

  it('fails a lookup whose first list cannot be made, then recovers when the server is back', async () => {
    k8s.down()
    const o = watch('/default/http/web')
    await vi.waitFor(() => expect(o.show()).toBe('failed'), WAIT)
    k8s.put('api/v1', 'endpoints', web(['10.1.0.1']))
    k8s.up()
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.1:8080'), WAIT)
  })

  it('re-lists after 410 Gone (an expired watch, a compacted resourceVersion) and misses nothing', async () => {
    k8s.put('api/v1', 'endpoints', web(['10.1.0.1']))
    const o = watch('/default/http/web')
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.1:8080'), WAIT)
    await vi.waitFor(() => expect(k8s.openWatches()).toBe(1), WAIT)
    const lists = () =>
      k8s.requests.filter((r) => r.startsWith('GET /api/v1/namespaces/default/endpoints/web')).length
    const before = lists()
    k8s.expireWatches()
    k8s.put('api/v1', 'endpoints', web(['10.1.0.2']))
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.2:8080'), WAIT)
    expect(lists()).toBeGreaterThan(before)
    // A watch ended by the server (its timeout) is re-opened from the last version, no re-list.
    await vi.waitFor(() => expect(k8s.openWatches()).toBe(1), WAIT)
    const listsNow = lists()
    k8s.endWatches()
    k8s.put('api/v1', 'endpoints', web(['10.1.0.3']))
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.3:8080'), WAIT)
    expect(lists()).toBe(listsNow)
    expect(
      k8s.requests.some(
        (r) =>
          r.includes('/api/v1/watch/namespaces/default/endpoints/web?') && r.includes('resourceVersion='),
      ),
    ).toBe(true)
  })

  it('drops a stalled watch after the idle timeout and catches up; reassembles events split across chunks', async () => {
    k8s.splitEvents(true)
    k8s.put('api/v1', 'endpoints', web(['10.1.0.1']))
    const o = watch('/default/http/web')
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.1:8080'), WAIT)
    k8s.put('api/v1', 'endpoints', web(['10.1.0.2']))
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.2:8080'), WAIT)
    k8s.stall()
    k8s.put('api/v1', 'endpoints', web(['10.1.0.3'])) // the stalled watch never sends this
    await new Promise((r) => setTimeout(r, 300))
    expect(o.show()).toBe('10.1.0.2:8080')
    k8s.unstall()
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.3:8080'), WAIT)
  })

  it('survives connection resets', async () => {
    k8s.put('api/v1', 'endpoints', web(['10.1.0.1']))
    const o = watch('/default/http/web')
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.1:8080'), WAIT)
    for (let i = 0; i < 3; i++) {
      k8s.reset()
      k8s.put('api/v1', 'endpoints', web([`10.1.1.${i}`]))
      await vi.waitFor(() => expect(o.show()).toBe(`10.1.1.${i}:8080`), WAIT)
    }
  })
})

describe('io.l5d.k8s.external', () => {
  it("binds a LoadBalancer service's ingress IPs on the named service port, live", async () => {
    const ext = k8sExternalNamer({ host: k8s.host, port: k8s.port, prefix: '/test' })
    try {
      k8s.put(
        'api/v1',
        'services',
        service(
          'pythonsky',
          'l5d',
          [
            { name: 'external', port: 80, targetPort: 8080 },
            { name: 'incoming', port: 4141 },
          ],
          [{ ip: '104.155.170.94' }],
        ),
      )
      const o = observe(ext, '/pythonsky/external/l5d/residual')
      const n = observe(ext, '/pythonsky/4141/l5d')
      const none = observe(ext, '/pythonsky/nope/l5d')
      opened.push(o, n, none)
      await vi.waitFor(() => {
        expect(o.show()).toBe('104.155.170.94:80')
        expect(n.show()).toBe('104.155.170.94:4141')
        expect(none.show()).toBe('neg')
      }, WAIT)
      expect(o.bound()!.id).toEqual(Path.read('/#/test/pythonsky/external/l5d'))
      expect(o.bound()!.path).toEqual(Path.read('/residual'))
      const updates = o.treeUpdates()
      k8s.put(
        'api/v1',
        'services',
        service(
          'pythonsky',
          'l5d',
          [{ name: 'external', port: 80, targetPort: 8080 }],
          [{ ip: '104.155.170.95' }],
        ),
      )
      await vi.waitFor(() => expect(o.show()).toBe('104.155.170.95:80'), WAIT)
      expect(o.treeUpdates()).toBe(updates)
      k8s.remove('api/v1', 'services', 'pythonsky', 'l5d')
      await vi.waitFor(() => expect(o.show()).toBe('neg'), WAIT)
    } finally {
      await ext.close()
    }
  })
})

describe('io.l5d.k8s credentials and hostile answers', () => {
  it('uses in-cluster service-account credentials: HTTPS with the CA and the bearer token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-sa-'))
    const saved = { h: process.env['KUBERNETES_SERVICE_HOST'], p: process.env['KUBERNETES_SERVICE_PORT'] }
    let secure: FakeK8s | undefined
    let n: K8sNamer | undefined
    let n2: K8sNamer | undefined
    try {
      const certs = makeCertificates(dir)
      secure = await startFakeK8s({
        tls: { cert: readFileSync(certs.serverCertFile), key: readFileSync(certs.serverKeyFile) },
        token: 'sa-token-1',
      })
      const sa = join(dir, 'var/run/secrets/kubernetes.io/serviceaccount')
      mkdirSync(sa, { recursive: true })
      writeFileSync(join(sa, 'token'), 'sa-token-1')
      writeFileSync(join(sa, 'ca.crt'), readFileSync(certs.caFile))
      writeFileSync(join(sa, 'namespace'), 'default')
      process.env['KUBERNETES_SERVICE_HOST'] = '127.0.0.1'
      process.env['KUBERNETES_SERVICE_PORT'] = String(secure.port)
      secure.put('api/v1', 'endpoints', web(['10.7.0.1']))
      n = k8sNamer({ inCluster: { pathPrefix: dir } })
      const o = observe(n, '/default/http/web')
      opened.push(o)
      await vi.waitFor(() => expect(o.show()).toBe('10.7.0.1:8080'), WAIT)
      // A wrong token is refused (401): the lookup fails.
      writeFileSync(join(sa, 'token'), 'wrong')
      n2 = k8sNamer({ inCluster: { pathPrefix: dir } })
      const denied = observe(n2, '/default/http/web')
      opened.push(denied)
      await vi.waitFor(() => expect(denied.show()).toBe('failed'), WAIT)
    } finally {
      for (const o of opened.splice(0)) o.close()
      await n?.close()
      await n2?.close()
      await secure?.close()
      if (saved.h === undefined) delete process.env['KUBERNETES_SERVICE_HOST']
      else process.env['KUBERNETES_SERVICE_HOST'] = saved.h
      if (saved.p === undefined) delete process.env['KUBERNETES_SERVICE_PORT']
      else process.env['KUBERNETES_SERVICE_PORT'] = saved.p
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a watch line that is not an event drops the watch; the answer is kept and the namer catches up', async () => {
    const errors: unknown[] = []
    await namer.close()
    namer = k8sNamer({ host: k8s.host, port: k8s.port, onError: (e) => errors.push(e) })
    k8s.put('api/v1', 'endpoints', web(['10.1.0.1']))
    const o = watch('/default/http/web')
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.1:8080'), WAIT)
    await vi.waitFor(() => expect(k8s.openWatches()).toBe(1), WAIT)
    k8s.sendRaw('this is not json\n')
    k8s.sendRaw('{"type":"EXPLODED","object":{}}\n')
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), WAIT)
    expect(String(errors[0])).toMatch(/not JSON|not a watch event/)
    expect(o.show()).toBe('10.1.0.1:8080')
    k8s.put('api/v1', 'endpoints', web(['10.1.0.2']))
    await vi.waitFor(() => expect(o.show()).toBe('10.1.0.2:8080'), WAIT)
  })
})
