// The published linkerd and namerd configs that use Kubernetes kinds (fixtures/k8s/examples, each
// naming its source) load and work against the fake API server. What is changed before loading,
// and why:
// - `host`/`port` (`k8sHost`/`k8sPort`) point at the fake server instead of `kubectl proxy` on
//   localhost:8001 (a fixed port tests must not take);
// - router configs are loaded one router at a time, without the process keys (`servers`,
//   `originator`, `admin`, `telemetry`, `usage`) that `createClientFromConfig` does not take
//   (the l5d process that serves several routers is another part of switchboard);
// - namerd configs keep only their `io.l5d.httpController` interface (thrift and mesh interfaces
//   are not served by switchboard's namerd) and listen on free ports;
// - pod IPs are 127.x addresses so that real requests reach test servers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isLeft } from 'fp-ts/lib/Either.js'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import YAML from 'yaml'
import { decodeConfig } from '../../src/config/decode.js'
import { createClientFromConfig, readRouterConfig } from '../../src/config/router.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { startNamerd } from '../../src/namerd/server.js'
import { Path } from '../../src/naming/path.js'
import { endpoints, type FakeK8s, type K8sObj, startFakeK8s } from './fake-k8s.js'

type Doc = Record<string, unknown>
const load = (name: string) =>
  YAML.parse(readFileSync(new URL(`./fixtures/k8s/examples/${name}`, import.meta.url), 'utf8')) as Doc

let k8s: FakeK8s
const cleanups: (() => unknown)[] = []
beforeEach(async () => {
  k8s = await startFakeK8s()
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  await k8s.close()
})

/** Points every Kubernetes kind of a config at the fake server. */
function atFake(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(atFake)
  if (typeof value !== 'object' || value === null) return value
  const o = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, atFake(v)])) as Doc
  const kind = o['kind']
  if (kind === 'io.l5d.k8s' || kind === 'io.l5d.k8s.external' || kind === 'io.l5d.ingress') {
    o['host'] = k8s.host
    o['port'] = k8s.port
  }
  if (kind === 'io.l5d.k8s.daemonset') {
    o['k8sHost'] = k8s.host
    o['k8sPort'] = k8s.port
  }
  return o
}

/** The routers of a linkerd config, each as a config `createClientFromConfig` takes. */
function routers(doc: Doc): Record<string, string> {
  const out: Record<string, string> = {}
  for (const r of doc['routers'] as Doc[]) {
    const { servers: _s, originator: _o, ...router } = r
    out[String(r['label'] ?? 'http')] = YAML.stringify(atFake({ namers: doc['namers'], routers: [router] }))
  }
  return out
}

/** An HTTP server on `ip` (a 127.x address) answering with its own name. */
async function backend(ip: string, name: string): Promise<number> {
  const server: Server = createServer((_req, res) => res.end(name))
  await new Promise<void>((resolve) => server.listen(0, ip, resolve))
  cleanups.push(() => new Promise((r) => server.close(r)))
  return (server.address() as { port: number }).port
}

const pods = (
  ns: string,
  name: string,
  port: string,
  list: { ip: string; port: number; node?: string }[],
): K8sObj =>
  endpoints(
    ns,
    name,
    list.map((p) => ({
      addresses: [{ ip: p.ip, ...(p.node ? { nodeName: p.node } : {}) }],
      ports: [{ name: port, port: p.port }],
    })),
  )

/** A delegation as JSON, paths in their text form. */
const shown = (tree: unknown) => JSON.stringify(tree, (_k, v: unknown) => (v instanceof Path ? v.show() : v))

async function client(config: string) {
  const c = createClientFromConfig(config, { log: () => {} })
  // Tolerant: a test may have closed it already.
  cleanups.push(() => c.close().catch(() => {}))
  return c
}

describe('published linkerd configs with Kubernetes kinds', () => {
  it('linkerd-examples k8s-daemonset linkerd.yml: outgoing goes to the l5d pod on the destination node, incoming stays on this node', async () => {
    const doc = load('daemonset-linkerd.yaml')
    // Node A runs pods in 127.0.1.0/24, node B in 127.0.2.0/24; one l5d pod per node.
    const l5dA = await backend('127.0.1.2', 'l5d on node A')
    const l5dB = await backend('127.0.2.2', 'l5d on node B')
    const helloB = await backend('127.0.2.9', 'hello on node B')
    k8s.put('api/v1', 'endpoints', pods('default', 'hello', 'http', [{ ip: '127.0.2.9', port: helloB }]))
    // The Service's port is "incoming" on both pods; each listens on its own test port, so use two subsets.
    k8s.put(
      'api/v1',
      'endpoints',
      endpoints('default', 'l5d', [
        { addresses: [{ ip: '127.0.1.2' }], ports: [{ name: 'incoming', port: l5dA }] },
        { addresses: [{ ip: '127.0.2.2' }], ports: [{ name: 'incoming', port: l5dB }] },
      ]),
    )
    const { outgoing, incoming } = routers(doc)
    expect(isLeft(readRouterConfig(outgoing!))).toBe(false)
    const out = await client(outgoing!)
    const res = await out.fetch('http://hello/')
    expect(await res.text()).toBe('l5d on node B')

    process.env['POD_IP'] = '127.0.2.2'
    try {
      const inc = await client(incoming!)
      const r2 = await inc.fetch('http://hello/')
      expect(await r2.text()).toBe('hello on node B')
    } finally {
      delete process.env['POD_IP']
    }
  })

  it('linkerd/examples/k8s-servicemesh.yaml: both routers load and route', async () => {
    const doc = load('linkerd-k8s-servicemesh.yaml')
    const l5d = await backend('127.0.3.2', 'l5d')
    k8s.put('api/v1', 'endpoints', pods('default', 'l5d', 'incoming', [{ ip: '127.0.3.2', port: l5d }]))
    k8s.put('api/v1', 'endpoints', pods('default', 'web', 'http', [{ ip: '127.0.3.7', port: 1 }]))
    const { outgoing, incoming } = routers(doc)
    const out = await client(outgoing!)
    // Its dtab is /http/*/* => ...: name the request with the dtab's prefix, as linkerd's methodAndHost did.
    const tree = await out.delegate('/http/1.1/GET/web')
    expect(shown(tree)).toContain('SubnetGatewayTransformer')
    process.env['POD_IP'] = '127.0.3.1'
    try {
      const inc = await client(incoming!)
      expect(inc).toBeDefined()
    } finally {
      delete process.env['POD_IP']
    }
  })

  it('linkerd/examples/k8s-hostnetwork.yaml: daemonset and localnode by node name', async () => {
    const doc = load('linkerd-k8s-hostnetwork.yaml')
    const l5d = await backend('127.0.4.2', 'l5d on node-2')
    k8s.put(
      'api/v1',
      'endpoints',
      pods('default', 'l5d', 'incoming', [{ ip: '127.0.4.2', port: l5d, node: 'node-2' }]),
    )
    k8s.put(
      'api/v1',
      'endpoints',
      pods('default', 'web', 'http', [{ ip: '10.9.9.9', port: 80, node: 'node-2' }]),
    )
    const { outgoing, incoming } = routers(doc)
    const out = await client(outgoing!)
    const tree = shown(await out.delegate('/http/1.1/GET/web'))
    expect(tree).toContain('MetadataGatewayTransformer')
    expect(tree).toContain('/%/io.l5d.k8s.daemonset/default/incoming/l5d/#/io.l5d.k8s/default/http/web')
    // Without NODE_NAME the incoming router's localnode transformer is a configuration error.
    delete process.env['NODE_NAME']
    const bad = readRouterConfig(incoming!)
    expect(isLeft(bad) && bad.left.message).toMatch(/NODE_NAME/)
    process.env['NODE_NAME'] = 'node-2'
    try {
      expect(isLeft(readRouterConfig(incoming!))).toBe(false)
    } finally {
      delete process.env['NODE_NAME']
    }
  })

  it('linkerd/examples/k8s.yaml loads and binds through the k8s namer', async () => {
    const { int } = routers(load('linkerd-k8s.yaml'))
    k8s.put('api/v1', 'endpoints', pods('foo', 'web', 'http', [{ ip: '10.1.1.1', port: 8080 }]))
    const c = await client(int!)
    await vi.waitFor(
      async () => {
        expect(shown(await c.delegate('/http/1.1/GET/web'))).toContain('/#/io.l5d.k8s/foo/http/web')
      },
      { timeout: 10_000 },
    )
  })

  it('linkerd-examples linkerd-ingress-controller.yml: the io.l5d.ingress identifier routes by Ingress rules', async () => {
    const doc = load('daemonset-ingress-controller.yaml')
    const hello = await backend('127.0.5.9', 'hello')
    k8s.put('api/v1', 'endpoints', pods('default', 'hello', 'http', [{ ip: '127.0.5.9', port: hello }]))
    k8s.put('apis/networking.k8s.io/v1', 'ingresses', {
      kind: 'Ingress',
      metadata: {
        name: 'hello-ingress',
        namespace: 'default',
        annotations: { 'kubernetes.io/ingress.class': 'linkerd' },
      },
      spec: {
        rules: [
          {
            host: 'hello.example',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'hello', port: { name: 'http' } } },
                },
              ],
            },
          },
        ],
      },
    })
    const { http } = routers(doc)
    const c = await client(http!)
    await vi.waitFor(
      async () => {
        const res = await c.fetch('http://hello.example/anything')
        expect(await res.text()).toBe('hello')
      },
      { timeout: 10_000 },
    )
    // Closing the client stops the identifier's Ingress watch and the namer's Endpoints watch.
    expect(k8s.openWatches()).toBeGreaterThan(0)
    await c.close()
    await vi.waitFor(() => expect(k8s.openWatches()).toBe(0), { timeout: 10_000 })
  })
})

describe('published namerd configs with Kubernetes kinds', () => {
  async function namerd(doc: Doc) {
    const interfaces = (doc['interfaces'] as Doc[])
      .filter((i) => i['kind'] === 'io.l5d.httpController')
      .map((i) => ({ ...i, ip: '127.0.0.1', port: 0 }))
    const config = atFake({ ...doc, interfaces, admin: { ip: '127.0.0.1', port: 0 } })
    const spec = decodeConfig(namerdConfigCodec(), config)
    if (isLeft(spec)) throw spec.left
    const n = await startNamerd(spec.right, { log: () => {} })
    cleanups.push(() => n.close())
    return n.interfaces[0]!.url
  }

  it('linkerd-examples namerd.yml: io.l5d.k8s storage and namer; dtabs created with namerctl-style calls land as DTab objects', async () => {
    k8s.put('api/v1', 'endpoints', pods('default', 'world-v1', 'http', [{ ip: '10.3.3.3', port: 7778 }]))
    const url = await namerd(load('daemonset-namerd.yaml'))
    const dtab = '/srv=>/#/io.l5d.k8s/default/http;/host=>/srv;/svc=>/host;/host/world=>/srv/world-v1'
    const created = await fetch(`${url}/api/1/dtabs/internal`, {
      method: 'POST',
      headers: { 'content-type': 'application/dtab' },
      body: dtab,
    })
    expect(created.status).toBe(204)
    expect(k8s.get('apis/l5d.io/v1alpha1', 'dtabs', 'default', 'internal')!['dentries']).toHaveLength(4)
    await vi.waitFor(
      async () => {
        const res = await fetch(`${url}/api/1/bind/internal?path=/svc/world`)
        expect(await res.text()).toContain('10.3.3.3')
      },
      { timeout: 10_000 },
    )
  })

  it('namerd/examples/k8s.yaml: io.l5d.k8s storage with an fs namer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-example-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'default'), '127.0.0.1 9999\n')
    const doc = load('namerd-k8s.yaml')
    const url = await namerd({ ...doc, namers: [{ kind: 'io.l5d.fs', rootDir: dir }] })
    k8s.put('apis/l5d.io/v1alpha1', 'dtabs', {
      metadata: { name: 'default', namespace: 'default' },
      dentries: [{ prefix: '/svc', dst: '/#/io.l5d.fs' }],
    })
    await vi.waitFor(
      async () => {
        const res = await fetch(`${url}/api/1/dtabs/default`, { headers: { accept: 'application/dtab' } })
        expect(await res.text()).toBe('/svc=>/#/io.l5d.fs\n')
      },
      { timeout: 10_000 },
    )
  })

  it('namerd/examples/k8s-mesh.yaml: a second k8s namer whose answers go through io.l5d.k8s.daemonset', async () => {
    k8s.put('api/v1', 'endpoints', pods('default', 'l5d', 'incoming', [{ ip: '10.4.1.2', port: 4141 }]))
    k8s.put('api/v1', 'endpoints', pods('default', 'web', 'http', [{ ip: '10.4.1.9', port: 8080 }]))
    const url = await namerd(load('namerd-k8s-mesh.yaml'))
    await vi.waitFor(
      async () => {
        const outgoing = await (await fetch(`${url}/api/1/bind/outgoing?path=/svc/web`)).text()
        expect(outgoing).toContain('"ip":"10.4.1.2","port":4141')
        expect(outgoing).toContain('/%/io.l5d.k8s.daemonset/default/incoming/l5d/#/ds/default/http/web')
        const incoming = await (await fetch(`${url}/api/1/bind/incoming?path=/svc/web`)).text()
        expect(incoming).toContain('"ip":"10.4.1.9","port":8080')
      },
      { timeout: 10_000 },
    )
  })
})
