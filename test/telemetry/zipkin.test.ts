import * as api from '@opentelemetry/api'
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { isLeft } from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeConfig } from '../../src/config/decode.js'
import { createClient } from '../../src/http/client.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { startTelemetry, telemetryCodec } from '../../src/telemetry/config.js'
import { recentRequests } from '../../src/telemetry/recent-requests.js'
import { tracingFromOpenTelemetry } from '../../src/telemetry/tracing.js'
import { type ZipkinSpan, zipkinExporter } from '../../src/telemetry/zipkin.js'
import { readBody, startServer, type TestServer } from '../http/servers.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** A local Zipkin collector: what was POSTed to /api/v2/spans. */
async function collector(status = 202) {
  const posts: { contentType: string | undefined; spans: ZipkinSpan[] }[] = []
  const server = await startServer(async (req, res) => {
    const body = await readBody(req)
    if (req.method === 'POST' && req.url === '/api/v2/spans')
      posts.push({ contentType: req.headers['content-type'], spans: JSON.parse(body) })
    res.statusCode = status
    res.end()
  })
  cleanup.push(() => server.close())
  return { server, posts, url: `http://127.0.0.1:${server.port}/api/v2/spans` }
}

async function backend(): Promise<TestServer> {
  const s = await startServer((_req, res) => res.end('ok'))
  cleanup.push(() => s.close())
  return s
}

const HEX = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`)

describe('zipkinExporter', () => {
  it("POSTs a traced request's spans as Zipkin v2 JSON", async () => {
    const zipkin = await collector()
    const exporter = zipkinExporter({ url: zipkin.url, serviceName: 'web', batchSize: 10 })
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter as never)] })
    cleanup.push(() => provider.shutdown())
    const b = await backend()
    const c = createClient({
      dtab: `/svc/b => /$/inet/127.0.0.1/${b.port}`,
      tracing: tracingFromOpenTelemetry(api, provider.getTracer('t')),
    })
    cleanup.push(() => c.close())
    await (await c.request('http://b/x')).body.text()
    await exporter.forceFlush()
    expect(zipkin.posts).toHaveLength(1)
    expect(zipkin.posts[0]!.contentType).toBe('application/json')
    const spans = zipkin.posts[0]!.spans
    expect(spans).toHaveLength(3)
    for (const s of spans) {
      expect(s.traceId).toMatch(HEX(32))
      expect(s.id).toMatch(HEX(16))
      expect(Number.isInteger(s.timestamp) && s.timestamp > 1.6e15).toBe(true) // epoch µs
      expect(Number.isInteger(s.duration) && s.duration >= 1).toBe(true)
      expect(s.localEndpoint).toEqual({ serviceName: 'web' })
      expect(Object.values(s.tags).every((v) => typeof v === 'string')).toBe(true)
    }
    const logical = spans.find((s) => s.name === 'GET /svc/b')!
    const attempt = spans.find((s) => s.kind === 'CLIENT')!
    const bind = spans.find((s) => s.name === 'switchboard.bind')!
    expect(logical.parentId).toBeUndefined()
    expect(logical.kind).toBeUndefined() // internal spans have no kind in Zipkin
    expect(attempt.parentId).toBe(logical.id)
    expect(bind.parentId).toBe(logical.id)
    expect(attempt.remoteEndpoint).toEqual({ ipv4: '127.0.0.1', port: b.port })
    expect(attempt.tags['http.response.status_code']).toBe('200')
    expect(logical.tags['switchboard.dst.service']).toBe('/svc/b')
  }, 30_000)

  it('batches by size, keeps at most maxQueueSize while the collector is down, and counts drops and failures', async () => {
    const zipkin = await collector(503)
    const stats = inMemoryStats()
    const errors: unknown[] = []
    const exporter = zipkinExporter({
      url: zipkin.url,
      batchSize: 2,
      maxQueueSize: 4,
      flushIntervalMs: 60_000,
      stats,
      onError: (e) => errors.push(e),
    })
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter as never)] })
    cleanup.push(() => provider.shutdown())
    const tracer = provider.getTracer('t')
    // 10 spans in one tick: the first batch of 2 is being sent, 4 wait, the rest are dropped
    for (let i = 0; i < 10; i++) tracer.startSpan(`s${i}`).end()
    expect(exporter.queued).toBeLessThanOrEqual(4)
    await exporter.forceFlush()
    expect(stats.counterValue('dropped')).toBeGreaterThanOrEqual(4)
    expect(zipkin.posts.every((p) => p.spans.length <= 2)).toBe(true)
    expect(zipkin.posts.flatMap((p) => p.spans).length + stats.counterValue('dropped')).toBe(10)
    expect(stats.counterValue('failures')).toBe(zipkin.posts.length)
    expect(String(errors[0])).toContain('503')
    expect(exporter.queued).toBe(0)
  }, 30_000)

  it('sends a partial batch after flushIntervalMs, and nothing after shutdown', async () => {
    const zipkin = await collector()
    const exporter = zipkinExporter({ url: zipkin.url, batchSize: 100, flushIntervalMs: 10 })
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter as never)] })
    cleanup.push(() => provider.shutdown())
    provider.getTracer('t').startSpan('one').end()
    for (let i = 0; i < 500 && zipkin.posts.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(zipkin.posts.map((p) => p.spans.map((s) => s.name))).toEqual([['one']])
    await exporter.shutdown()
    const result = await new Promise<{ code: number }>((resolve) => exporter.export([], resolve))
    expect(result.code).toBe(1)
  }, 30_000)
})

describe('telemetry config', () => {
  it('decodes io.l5d.zipkin and io.l5d.recentRequests with defaults, and refuses unknown kinds and bad fields', () => {
    const ok = decodeConfig(telemetryCodec, [
      { kind: 'io.l5d.zipkin', host: 'zipkin', sampleRate: 1 },
      { kind: 'io.l5d.recentRequests', sampleRate: 0.5 },
      { kind: 'io.l5d.prometheus' },
    ])
    if (isLeft(ok)) throw ok.left
    expect(ok.right[0]).toEqual({
      kind: 'io.l5d.zipkin',
      host: 'zipkin',
      port: 9411,
      path: '/api/v2/spans',
      sampleRate: 1,
      serviceName: 'linkerd',
      batchSize: 100,
      maxQueueSize: 1000,
      flushIntervalMs: 1000,
    })
    expect(ok.right[1]).toEqual({ kind: 'io.l5d.recentRequests', sampleRate: 0.5, capacity: 10 })
    expect(ok.right[2]).toEqual({ kind: 'io.l5d.prometheus', path: '/admin/metrics/prometheus', prefix: '' })
    const unknown = decodeConfig(telemetryCodec, [{ kind: 'io.l5d.statsd' }])
    expect(isLeft(unknown) && unknown.left.message).toContain(
      'unknown kind "io.l5d.statsd" (known kinds: io.l5d.zipkin, io.l5d.recentRequests, io.l5d.prometheus)',
    )
    const missing = decodeConfig(telemetryCodec, [{ kind: 'io.l5d.recentRequests' }])
    expect(isLeft(missing) && missing.left.message).toContain('sampleRate')
    const bad = decodeConfig(telemetryCodec, [{ kind: 'io.l5d.zipkin', sampleRate: 2, port: 'x' }])
    expect(isLeft(bad) && bad.left.message).toMatch(/sampleRate[\s\S]*0 to 1/)
  })

  it('startTelemetry wires zipkin and recentRequests into a tracing a client uses', async () => {
    const zipkin = await collector()
    const spec = decodeConfig(telemetryCodec, [
      {
        kind: 'io.l5d.zipkin',
        host: '127.0.0.1',
        port: zipkin.server.port,
        sampleRate: 1,
        flushIntervalMs: 10,
      },
      { kind: 'io.l5d.recentRequests', sampleRate: 1, capacity: 2 },
    ])
    if (isLeft(spec)) throw spec.left
    const telemetry = await startTelemetry(spec.right)
    cleanup.push(() => telemetry.close())
    const b = await backend()
    const c = createClient({ dtab: `/svc/b => /$/inet/127.0.0.1/${b.port}`, tracing: telemetry.tracing })
    cleanup.push(() => c.close())
    for (const p of ['/1', '/2', '/3']) await (await c.request(`http://b${p}`)).body.text()
    const recent = telemetry.recentRequests!.list()
    expect(recent).toHaveLength(2) // capacity
    expect(recent[0]).toMatchObject({
      method: 'GET',
      service: '/svc/b',
      client: `/$/inet/127.0.0.1/${b.port}`,
      endpoint: `127.0.0.1:${b.port}`,
      status: 200,
      retries: 0,
    })
    await telemetry.zipkin!.forceFlush()
    expect(zipkin.posts.flatMap((p) => p.spans).filter((s) => s.kind === 'CLIENT')).toHaveLength(3)
  }, 30_000)
})

describe('recentRequests', () => {
  it('keeps the newest requests up to its capacity, sampled', () => {
    const r = recentRequests({ sampleRate: 1, capacity: 3 })
    const span = (i: number) => ({
      name: `GET /svc/${i}`,
      kind: 0,
      spanContext: () => ({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 }),
      startTime: [1_700_000_000 + i, 0] as const,
      duration: [0, 5_000_000] as const,
      attributes: { 'switchboard.dst.service': `/svc/${i}`, 'http.response.status_code': 200 },
      status: { code: 0 },
    })
    for (let i = 0; i < 5; i++) r.onEnd(span(i))
    expect(r.list().map((x) => x.service)).toEqual(['/svc/4', '/svc/3', '/svc/2'])
    expect(r.list()[0]!.durationMs).toBe(5)
    const none = recentRequests({ sampleRate: 0 })
    none.onEnd(span(1))
    expect(none.list()).toEqual([])
    expect(JSON.parse(r.json())).toHaveLength(3)
  })
})
