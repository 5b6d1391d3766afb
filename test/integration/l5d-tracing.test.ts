// Tracing through l5d: one trace across client → l5d → l5d → backend (OTel SDK in-memory exporter),
// the io.l5d.zipkin telemeter posting Zipkin v2 JSON to a local receiver, io.l5d.recentRequests on
// the admin server.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import * as api from '@opentelemetry/api'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { createLinker, type Linker } from '../../src/router/linker.js'
import { formatL5dCtxTrace, parseTraceparent } from '../../src/telemetry/trace-context.js'
import { type Tracing, tracingFromOpenTelemetry } from '../../src/telemetry/tracing.js'
import type { ZipkinSpan } from '../../src/telemetry/zipkin.js'
import { readBody, startServer } from '../http/servers.js'
import { checkMetrics } from './promtool.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function backend() {
  const s = await startServer((_req, res) => res.end('hello'))
  cleanups.push(() => s.close())
  return s
}

async function linker(config: string, tracing?: Tracing): Promise<Linker> {
  const l = await createLinker(config, { log: () => {}, tracing })
  cleanups.push(() => l.close(0))
  return l
}

const routerConfig = (label: string, port: number) => `- protocol: http
  label: ${label}
  dtab: /svc => /$/inet/127.0.0.1/${port};
  servers: [{ip: 127.0.0.1, port: 0}]
`

function call(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function until(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId
const idOf = (s: ReadableSpan) => s.spanContext().spanId

describe('l5d tracing', () => {
  it('one request through client → l5d → l5d → backend is one trace with parent/child spans across the hops', async () => {
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    cleanups.push(() => provider.shutdown())
    const tracing = tracingFromOpenTelemetry(api, provider.getTracer('test'))

    const app = await backend()
    const incoming = await linker(
      `admin: {ip: 127.0.0.1, port: 0}\nrouters:\n${routerConfig('incoming', app.port)}`,
      tracing,
    )
    const outgoing = await linker(
      `admin: {ip: 127.0.0.1, port: 0}\nrouters:\n${routerConfig('outgoing', incoming.servers[0]!.address.port)}`,
      tracing,
    )
    const client = createClient({
      dtab: `/svc/web => /$/inet/127.0.0.1/${outgoing.servers[0]!.address.port}`,
      tracing,
    })
    cleanups.push(() => client.close())

    const rep = await client.request('http://web/greeting')
    expect(await rep.body.text()).toBe('hello')
    // a hop's server span ends on 'finish', which may come just after the caller has the body
    const servers = () => exporter.getFinishedSpans().filter((s) => s.kind === api.SpanKind.SERVER)
    await until('both server spans', () => servers().length === 2)

    const spans = exporter.getFinishedSpans()
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1)
    const logicals = spans.filter((s) => s.name === 'GET /svc/web' && s.kind === api.SpanKind.INTERNAL)
    const attempts = spans.filter((s) => s.kind === api.SpanKind.CLIENT)
    expect(logicals).toHaveLength(3) // the app's client, then each l5d's routing client
    expect(attempts).toHaveLength(3)
    expect(servers()).toHaveLength(2)

    // Walk the chain from the root: logical → attempt → (next hop) server → logical → …
    const root = logicals.find((s) => parentOf(s) === undefined)!
    expect(root).toBeDefined()
    const childOf = (parent: ReadableSpan, kind: api.SpanKind, name?: string) => {
      const found = spans.filter(
        (s) => parentOf(s) === idOf(parent) && s.kind === kind && (name === undefined || s.name === name),
      )
      expect(found).toHaveLength(1)
      return found[0]!
    }
    const ports = [outgoing.servers[0]!.address.port, incoming.servers[0]!.address.port, app.port]
    let logical = root
    for (const [hop, port] of ports.entries()) {
      const attempt = childOf(logical, api.SpanKind.CLIENT)
      expect(attempt.attributes['server.port']).toBe(port)
      expect(attempt.attributes['http.response.status_code']).toBe(200)
      if (hop === ports.length - 1) {
        // the backend sees the last attempt's context
        const seen = parseTraceparent(String(app.seen[0]!.headers['traceparent']))
        expect(seen).toEqual({ traceId: root.spanContext().traceId, spanId: idOf(attempt), sampled: true })
        break
      }
      const server = childOf(attempt, api.SpanKind.SERVER)
      expect(server.attributes['url.path']).toBe('/greeting')
      expect(server.attributes['http.response.status_code']).toBe(200)
      logical = childOf(server, api.SpanKind.INTERNAL, 'GET /svc/web')
      expect(logical.attributes['switchboard.dst.client']).toBe(`/$/inet/127.0.0.1/${ports[hop + 1]}`)
    }
  }, 60_000)

  it('io.l5d.zipkin sends the spans of a proxied request as Zipkin v2 JSON to its collector', async () => {
    const posts: { path: string; type: string; body: ZipkinSpan[] }[] = []
    const collector = await startServer((req, res) => {
      readBody(req).then(
        (text) => {
          posts.push({
            path: req.url ?? '',
            type: String(req.headers['content-type']),
            body: JSON.parse(text) as ZipkinSpan[],
          })
          res.statusCode = 202
          res.end()
        },
        () => res.destroy(),
      )
    })
    cleanups.push(() => collector.close())
    const app = await backend()
    const l = await linker(`admin: {ip: 127.0.0.1, port: 0}
telemetry:
- kind: io.l5d.zipkin
  host: 127.0.0.1
  port: ${collector.port}
  sampleRate: 1.0
  flushIntervalMs: 20
- kind: io.l5d.prometheus
routers:
${routerConfig('outgoing', app.port)}`)
    // continues the caller's trace
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const rep = await call(`${l.servers[0]!.url}/items?x=1`, {
      host: 'web',
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    })
    expect(rep.status).toBe(200)
    expect(rep.body).toBe('hello')
    const all = () => posts.flatMap((p) => p.body)
    await until('the server span at the collector', () => all().some((s) => s.kind === 'SERVER'))
    await until('the attempt span at the collector', () => all().some((s) => s.kind === 'CLIENT'))

    expect(posts.every((p) => p.path === '/api/v2/spans' && p.type.startsWith('application/json'))).toBe(true)
    const spans = all()
    for (const s of spans) {
      expect(s.traceId).toBe(traceId)
      expect(s.id).toMatch(/^[0-9a-f]{16}$/)
      expect(s.localEndpoint.serviceName).toBe('linkerd')
      expect(Number.isInteger(s.timestamp) && Number.isInteger(s.duration)).toBe(true)
    }
    const server = spans.find((s) => s.kind === 'SERVER')!
    expect(server.parentId).toBe('00f067aa0ba902b7')
    expect(server.tags?.['http.response.status_code']).toBe('200')
    await until('the logical span at the collector', () => all().some((s) => s.name === 'GET /svc/web'))
    const logical = all().find((s) => s.name === 'GET /svc/web')!
    expect(logical.parentId).toBe(server.id)
    const attempt = all().find((s) => s.kind === 'CLIENT')!
    expect(attempt.parentId).toBe(logical.id)
    expect(attempt.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: app.port })

    // the exporter's own counters join l5d's scrape, which still passes promtool
    const scrape = await call(`${l.admin.url}/admin/metrics/prometheus`)
    expect(scrape.body).toMatch(/^telemetry_zipkin_\w+/m)
    expect(await checkMetrics(scrape.body)).toEqual({ code: 0, problems: [] })
  }, 60_000)

  it('io.l5d.recentRequests lists a proxied request on the admin server', async () => {
    const app = await backend()
    const l = await linker(`admin: {ip: 127.0.0.1, port: 0}
telemetry:
- kind: io.l5d.recentRequests
  sampleRate: 1.0
  capacity: 5
routers:
${routerConfig('outgoing', app.port)}`)
    expect((await call(`${l.admin.url}/requests.json`)).body).toBe('[]\n')
    expect((await call(`${l.servers[0]!.url}/a`, { host: 'web' })).status).toBe(200)
    const json = await call(`${l.admin.url}/requests.json`)
    expect(json.status).toBe(200)
    expect(json.headers['content-type']).toMatch(/^application\/json/)
    const list = JSON.parse(json.body) as Record<string, unknown>[]
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({
      method: 'GET',
      service: '/svc/web',
      client: `/$/inet/127.0.0.1/${app.port}`,
      endpoint: `127.0.0.1:${app.port}`,
      status: 200,
      retries: 0,
    })
    const html = await call(`${l.admin.url}/requests`)
    expect(html.status).toBe(200)
    expect(html.headers['content-type']).toMatch(/^text\/html/)
    expect(html.body).toContain('<td>/svc/web</td>')
    expect(html.body).toContain(`<td>127.0.0.1:${app.port}</td>`)
    // listed on the admin index
    expect((await call(`${l.admin.url}/admin`)).body.split('\n')).toEqual(
      expect.arrayContaining(['/requests', '/requests.json']),
    )
  }, 60_000)

  it("a clearContext server does not continue a caller's l5d-ctx-trace, a normal one does", async () => {
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    cleanups.push(() => provider.shutdown())
    const tracing = tracingFromOpenTelemetry(api, provider.getTracer('test'))
    const app = await backend()
    const l = await linker(
      `admin: {ip: 127.0.0.1, port: 0}
routers:
- protocol: http
  dtab: /svc => /$/inet/127.0.0.1/${app.port};
  servers:
  - {ip: 127.0.0.1, port: 0}
  - {ip: 127.0.0.1, port: 0, clearContext: true}
`,
      tracing,
    )
    const ctx = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: true }
    const servers = () => exporter.getFinishedSpans().filter((s) => s.kind === api.SpanKind.SERVER)
    const [plain, clearing] = l.servers
    const headers = { host: 'web', 'l5d-ctx-trace': formatL5dCtxTrace(ctx) }
    expect((await call(`${plain!.url}/`, headers)).status).toBe(200)
    await until('the first server span', () => servers().length === 1)
    const continued = servers()[0]!
    expect(continued.spanContext().traceId).toBe(ctx.traceId)
    expect(parentOf(continued)).toBe(ctx.spanId)
    expect((await call(`${clearing!.url}/`, headers)).status).toBe(200)
    await until('the second server span', () => servers().length === 2)
    const fresh = servers()[1]!
    expect(fresh.spanContext().traceId).not.toBe(ctx.traceId)
    expect(parentOf(fresh)).toBeUndefined()
    // and the backend got the new trace, not the caller's
    expect(String(app.seen[1]!.headers['traceparent'])).toContain(fresh.spanContext().traceId)
  }, 60_000)

  it('without a tracing telemeter there is no /requests and trace headers pass through untouched', async () => {
    const app = await backend()
    const l = await linker(`admin: {ip: 127.0.0.1, port: 0}\nrouters:\n${routerConfig('outgoing', app.port)}`)
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    expect((await call(`${l.servers[0]!.url}/`, { host: 'web', traceparent })).status).toBe(200)
    expect(app.seen[0]!.headers['traceparent']).toBe(traceparent)
    expect((await call(`${l.admin.url}/requests`)).status).toBe(404)
  }, 60_000)
})
