// What Prometheus itself says about our scrapes: namerd's admin endpoint and a client with traffic,
// each checked by `promtool check metrics` (zero problems), plus metrics.json's flat and tree shapes.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isLeft } from 'fp-ts/lib/Either.js'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeConfig, parseConfigText } from '../../src/config/decode.js'
import { createClient } from '../../src/http/client.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { startNamerd } from '../../src/namerd/server.js'
import { createLinker } from '../../src/router/index.js'
import { builtinProcessMetrics, inMemoryStats, promClientCollector } from '../../src/stats/index.js'
import { closedPort, startServer } from '../http/servers.js'
import { call } from './http-helpers.js'
import { checkMetrics } from './promtool.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function namerd() {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-prom-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const raw = parseConfigText(await readFile('examples/namerd.yaml', 'utf8'))
  if (isLeft(raw)) throw raw.left
  const config = raw.right as {
    admin: { port: number }
    interfaces: { port: number }[]
    storage: { dir: string }
  }
  config.admin.port = 0
  for (const i of config.interfaces) i.port = 0
  config.storage.dir = dir
  const spec = decodeConfig(namerdConfigCodec(), config)
  if (isLeft(spec)) throw spec.left
  const n = await startNamerd(spec.right, { rawConfig: config, log: () => {} })
  cleanups.push(() => n.close())
  return n
}

describe('promtool check metrics', () => {
  it("namerd's /admin/metrics/prometheus, with traffic and process metrics, has zero problems", async () => {
    const n = await namerd()
    const api = n.interfaces[0]!.url
    await call(`${api}/api/1/dtabs/other`, {
      method: 'PUT',
      headers: { 'content-type': 'application/dtab' },
      body: '/svc=>/#/io.l5d.fs',
    })
    await call(`${api}/api/1/resolve/demo?path=/svc/users`)
    await call(`${api}/api/1/bind/demo?path=/svc/users`)
    await call(`${api}/api/1/dtabs/nope`)
    await call(`${api}/api/1/bound-names`)
    const rep = await call(`${n.admin.url}/admin/metrics/prometheus`)
    expect(rep.status).toBe(200)
    expect(rep.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(rep.body).toMatch(/^http_requests_total \d+$/m)
    expect(rep.body).toContain('api_requests_total{api="resolve"} 1')
    expect(rep.body).toMatch(/^http_request_latency_seconds_bucket\{le="\+Inf"\} \d+$/m)
    // prom-client's collectDefaultMetrics (a devDependency here, so present)
    expect(rep.body).toContain('# TYPE nodejs_eventloop_lag_seconds gauge')
    expect(rep.body).toContain('# TYPE process_cpu_user_seconds_total counter')
    expect(await checkMetrics(rep.body)).toEqual({ code: 0, problems: [] })
  }, 60_000)

  it('a client with traffic over names differing only in - _ . has zero problems and three services', async () => {
    const backends: Record<string, number> = {}
    for (const name of ['users-v2', 'users_v2', 'users.v2']) {
      const s = await startServer((req, res) => {
        res.statusCode = req.url === '/fail' ? 503 : 200
        res.end(name)
      })
      cleanups.push(() => s.close())
      backends[name] = s.port
    }
    const gone = await closedPort()
    const dtab = [
      ...Object.entries(backends).map(([n, port]) => `/svc/${n} => /$/inet/127.0.0.1/${port}`),
      `/svc/gone => /$/inet/127.0.0.1/${gone}`,
    ].join(';')
    const c = createClient({ dtab, failureAccrual: null })
    cleanups.push(() => c.close())
    for (const name of Object.keys(backends)) {
      for (let i = 0; i < 3; i++) expect((await c.request(`http://${name}/`)).statusCode).toBe(200)
      expect((await c.request(`http://${name}/fail`)).statusCode).toBe(503)
    }
    await expect(c.request('http://gone/')).rejects.toThrow()
    const text = c.stats.prometheus()
    for (const name of Object.keys(backends)) {
      expect(text).toContain(`rt_service_requests_total{service="svc/${name}"} 4`)
      expect(text).toContain(`rt_service_status_class_total{service="svc/${name}",status_class="5XX"} 1`)
      expect(text).toContain(
        `rt_client_status_total{client="$/inet/127.0.0.1/${backends[name]}",status_code="200"} 3`,
      )
    }
    expect(text).toContain(
      'rt_service_failures_by_exception_total{service="svc/gone",exception="ConnectionFailed"} 1',
    )
    expect(await checkMetrics(text + builtinProcessMetrics())).toEqual({ code: 0, problems: [] })
  }, 60_000)
})

describe('metrics.json', () => {
  it("l5d's scrape, with traffic through a router over names differing only in - _ ., has zero problems", async () => {
    const backend = await startServer((_req, res) => res.end('ok'))
    cleanups.push(() => backend.close())
    const names = ['users-v2', 'users_v2', 'users.v2']
    const linker = await createLinker(
      `admin: {ip: 127.0.0.1, port: 0}
telemetry:
- kind: io.l5d.prometheus
routers:
- protocol: http
  label: out-going
  dtab: |
    /svc => /$/inet/127.0.0.1/${backend.port};
    /svc/missing => /$/inet/127.0.0.1/${await closedPort()};
  servers: [{ip: 127.0.0.1, port: 0}]
`,
      { log: () => {} },
    )
    cleanups.push(() => linker.close(0))
    for (const host of [...names, ...names, 'missing'])
      await call(linker.servers[0]!.url, { headers: { host } })
    const rep = await call(`${linker.admin.url}/admin/metrics/prometheus`)
    expect(rep.status).toBe(200)
    for (const n of names)
      expect(rep.body).toMatch(
        new RegExp(
          `^rt_service_requests_total\\{rt="out-going",service="svc/${n.replace('.', '\\.')}"\\} 2$`,
          'm',
        ),
      )
    expect(rep.body).toMatch(/^rt_server_requests_total\{rt="out-going",server="127\.0\.0\.1\/\d+"\} 7$/m)
    expect(await checkMetrics(rep.body)).toEqual({ code: 0, problems: [] })
  })

  it('keeps the flat shape, and answers tree=1, q= and pretty=true as linkerd does', async () => {
    const n = await namerd()
    await call(`${n.interfaces[0]!.url}/api/1/resolve/demo?path=/svc/users`)
    const admin = n.admin.url
    const flat = JSON.parse((await call(`${admin}/admin/metrics.json`)).body)
    expect(flat['api/resolve/requests']).toBe(1)
    const tree = JSON.parse((await call(`${admin}/admin/metrics.json?tree=1`)).body)
    expect(tree.api.resolve.requests).toEqual({ counter: 1 })
    expect(tree.namer['#/io.l5d.fs'].lookups.counter).toBeGreaterThanOrEqual(1)
    expect(tree.http.request_latency_ms['stat.count']).toBeGreaterThanOrEqual(1)
    expect(tree.http.request_latency_ms['stat.p99']).toBeTypeOf('number')
    const sub = await call(`${admin}/admin/metrics.json?q=namer/%23/io.l5d.fs`)
    expect(JSON.parse(sub.body).lookups.counter).toBeGreaterThanOrEqual(1)
    const missing = await call(`${admin}/admin/metrics.json?q=no/such`)
    expect(missing.status).toBe(404)
    expect(JSON.parse(missing.body)).toEqual({ error: 'No such subtree: no/such' })
    const pretty = (await call(`${admin}/admin/metrics.json?pretty=true`)).body
    expect(pretty).toContain('\n  "api/resolve/requests": 1')
  }, 60_000)
})

describe('prom-client bridge', () => {
  it("puts a receiver's families into an existing Registry, live, and promtool accepts the result", async () => {
    const stats = inMemoryStats()
    const svc = stats.scope('rt', 'service', 'svc/users')
    svc.counter('requests').incr(3)
    svc.stat('request_latency_ms').add(20)
    const registry = new Registry()
    const bridge = promClientCollector(stats, registry)
    svc.counter('requests').incr(2)
    let text = await registry.metrics()
    expect(text).toContain('rt_service_requests_total{service="svc/users"} 5')
    expect(text).toContain('rt_service_request_latency_seconds_bucket{service="svc/users",le="0.025"} 1')
    // a family that appears later is there from the next scrape on
    stats.scope('rt', 'client', 'c1').gauge('pending', () => 4)
    await registry.metrics()
    text = await registry.metrics()
    expect(text).toContain('rt_client_pending{client="c1"} 4')
    expect(await checkMetrics(text)).toEqual({ code: 0, problems: [] })
    bridge.close()
    expect(await registry.metrics()).not.toContain('rt_service_requests_total')
  })
})
