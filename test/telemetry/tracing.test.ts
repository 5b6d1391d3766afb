import * as api from '@opentelemetry/api'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterEach, describe, expect, it } from 'vitest'
import { retryableRead5xx } from '../../src/http/classifiers.js'
import { type Client, type ClientOptions, createClient } from '../../src/http/client.js'
import { parseL5dCtxTrace, parseTraceparent } from '../../src/telemetry/trace-context.js'
import { tracedHandler, tracingFromOpenTelemetry } from '../../src/telemetry/tracing.js'
import { startServer, type TestServer } from '../http/servers.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

function setup() {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  cleanup.push(() => provider.shutdown())
  return { exporter, tracing: tracingFromOpenTelemetry(api, provider.getTracer('test')) }
}

function client(options: ClientOptions): Client {
  const c = createClient(options)
  cleanup.push(() => c.close())
  return c
}

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler)
  cleanup.push(() => s.close())
  return s
}

const inet = (s: TestServer) => `/$/inet/127.0.0.1/${s.port}`
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId
const idOf = (s: ReadableSpan) => s.spanContext().spanId

describe('tracing through client → hop → client → backend', () => {
  it('yields one trace with parent/child spans across the hops and both trace headers at the backend', async () => {
    const { exporter, tracing } = setup()
    const backend = await server((_req, res) => res.end('hello'))
    const second = client({ dtab: `/svc/backend => ${inet(backend)}`, tracing })
    // A hop built from a server and a client, as a router is: the server span parents the client's.
    const hop = await server(
      tracedHandler(tracing, async (req, res) => {
        const rep = await second.request(`http://backend${req.url}`)
        res.statusCode = rep.statusCode
        res.end(await rep.body.text())
      }),
    )
    const first = client({ dtab: `/svc/hop => ${inet(hop)}`, tracing })
    const rep = await first.request('http://hop/greeting')
    expect(await rep.body.text()).toBe('hello')
    // the hop's server span ends on 'finish', which may come just after the client has the body
    for (let i = 0; i < 500 && !exporter.getFinishedSpans().some((s) => s.kind === api.SpanKind.SERVER); i++)
      await new Promise((r) => setTimeout(r, 10))

    const spans = exporter.getFinishedSpans()
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1)
    const byName = (name: string, kind: api.SpanKind) =>
      spans.filter((s) => s.name === name && s.kind === kind)
    const [aLogical] = byName('GET /svc/hop', api.SpanKind.INTERNAL)
    const [bLogical] = byName('GET /svc/backend', api.SpanKind.INTERNAL)
    const [serverSpan] = byName('GET', api.SpanKind.SERVER)
    const attempts = byName('GET', api.SpanKind.CLIENT)
    const binds = byName('switchboard.bind', api.SpanKind.INTERNAL)
    expect(aLogical && bLogical && serverSpan).toBeTruthy()
    expect(attempts).toHaveLength(2)
    expect(binds).toHaveLength(2)
    expect(parentOf(aLogical!)).toBeUndefined() // the root
    const aAttempt = attempts.find((s) => parentOf(s) === idOf(aLogical!))!
    const bAttempt = attempts.find((s) => parentOf(s) === idOf(bLogical!))!
    expect(aAttempt.attributes['server.port']).toBe(hop.port)
    expect(aAttempt.attributes['http.response.status_code']).toBe(200)
    expect(parentOf(serverSpan!)).toBe(idOf(aAttempt))
    expect(parentOf(bLogical!)).toBe(idOf(serverSpan!))
    expect(bAttempt.attributes['server.port']).toBe(backend.port)
    expect(binds.map(parentOf).sort()).toEqual([idOf(aLogical!), idOf(bLogical!)].sort())
    expect(binds.find((b) => parentOf(b) === idOf(bLogical!))!.attributes['switchboard.dst.client']).toBe(
      `/$/inet/127.0.0.1/${backend.port}`,
    )
    expect(aLogical!.attributes['switchboard.dst.service']).toBe('/svc/hop')

    const seen = backend.seen[0]!.headers
    const w3c = parseTraceparent(String(seen['traceparent']))
    expect(w3c).toEqual({ traceId: aLogical!.spanContext().traceId, spanId: idOf(bAttempt), sampled: true })
    const l5d = parseL5dCtxTrace(String(seen['l5d-ctx-trace']))
    expect(l5d).toEqual({ ...w3c, parentSpanId: idOf(bLogical!) })
  }, 30_000)

  it('records each attempt of a retried request, with its resend count and the retries on the logical span', async () => {
    const { exporter, tracing } = setup()
    let calls = 0
    const flaky = await server((_req, res) => {
      res.statusCode = calls++ === 0 ? 503 : 200
      res.end()
    })
    const c = client({ dtab: `/svc/flaky => ${inet(flaky)}`, tracing, responseClassifier: retryableRead5xx })
    expect((await c.request('http://flaky/')).statusCode).toBe(200)
    const spans = exporter.getFinishedSpans()
    const attempts = spans.filter((s) => s.kind === api.SpanKind.CLIENT)
    expect(attempts.map((s) => s.attributes['http.response.status_code'])).toEqual([503, 200])
    expect(attempts.map((s) => s.attributes['http.request.resend_count'])).toEqual([undefined, 1])
    const logical = spans.find((s) => s.name === 'GET /svc/flaky')!
    expect(logical.attributes['switchboard.retries']).toBe(1)
    expect(logical.status.code).toBe(api.SpanStatusCode.UNSET)
  }, 30_000)

  it('continues the trace of incoming trace headers, and leaves them untouched when not tracing', async () => {
    const { exporter, tracing } = setup()
    const backend = await server((_req, res) => res.end())
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const traced = client({ dtab: `/svc/b => ${inet(backend)}`, tracing })
    await traced.request('http://b/', { headers: { traceparent } })
    const logical = exporter
      .getFinishedSpans()
      .find((s) => s.kind === api.SpanKind.INTERNAL && s.name !== 'switchboard.bind')!
    expect(logical.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(parentOf(logical)).toBe('00f067aa0ba902b7')
    const plain = client({ dtab: `/svc/b => ${inet(backend)}` })
    await plain.request('http://b/', { headers: { traceparent } })
    expect(backend.seen[1]!.headers['traceparent']).toBe(traceparent)
    expect(backend.seen[1]!.headers['l5d-ctx-trace']).toBeUndefined()
  }, 30_000)

  it('marks the logical span failed when the request fails, and the bind span when binding does', async () => {
    const { exporter, tracing } = setup()
    const c = client({ dtab: '/svc/x => /$/fail', tracing, bindingTimeoutMs: 1000 })
    await expect(c.request('http://x/')).rejects.toThrow()
    const spans = exporter.getFinishedSpans()
    expect(spans.every((s) => s.status.code === api.SpanStatusCode.ERROR)).toBe(true)
    expect(spans.map((s) => s.name).sort()).toEqual(['GET /svc/x', 'switchboard.bind'])
  }, 30_000)
})
