import { AsyncLocalStorage } from 'node:async_hooks'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { importOptional } from '../core/optional.js'
import { readTraceHeaders, type TraceContext } from './trace-context.js'

/** The kinds of span switchboard starts. */
export type SpanKindName = 'internal' | 'client' | 'server'

/** Attribute values a span takes. */
export type SpanAttributeValue = string | number | boolean

/**
 * A span switchboard started: its ids (for the headers of the next hop), attributes, and its end.
 * A span that is not recorded (no tracer provider, or not sampled) still carries its trace ids.
 */
export interface SpanHandle {
  /** `undefined` when there is no valid trace (no SDK and no incoming context): write no headers. */
  readonly context: TraceContext | undefined
  setAttribute(key: string, value: SpanAttributeValue): void
  /** Marks the span failed with a message. */
  fail(message: string): void
  /** Renames the span (once the logical name is known). */
  rename(name: string): void
  end(): void
}

/**
 * What a client or server traces through: starts spans under a parent (a remote context read from
 * headers, a span of ours, or, when `undefined`, the tracer's own active context). Made by
 * `openTelemetryTracing`; tests and other tracers may implement it.
 *
 * @example
 * ```ts
 * const tracing = await openTelemetryTracing()
 * const client = createClient({ dtab, tracing })
 * ```
 */
export interface Tracing {
  start(
    name: string,
    kind: SpanKindName,
    parent: TraceContext | SpanHandle | undefined,
    attributes?: Readonly<Record<string, SpanAttributeValue>>,
  ): SpanHandle
}

const current = new AsyncLocalStorage<SpanHandle>()

/**
 * The span the current async call chain runs in (set by `runInSpan` or `tracedHandler`), or
 * `undefined`. A traced client parents its request spans to it.
 *
 * @example
 * ```ts
 * currentSpan()?.context?.traceId
 * ```
 */
export function currentSpan(): SpanHandle | undefined {
  return current.getStore()
}

/**
 * Runs `fn` with `span` as the current span, so that traced clients called from it continue its trace.
 *
 * @example
 * ```ts
 * runInSpan(serverSpan, () => client.fetch('http://users/'))
 * ```
 */
export function runInSpan<T>(span: SpanHandle, fn: () => T): T {
  return current.run(span, fn)
}

/** The parts of `@opentelemetry/api` used here (structural, so the package stays optional). */
interface OtelApi {
  readonly trace: {
    setSpanContext(ctx: unknown, sc: OtelSpanContext): unknown
    setSpan(ctx: unknown, span: OtelSpan): unknown
    isSpanContextValid(sc: OtelSpanContext): boolean
    getTracer(name: string, version?: string): OtelTracer
  }
  readonly context: { active(): unknown }
  readonly ROOT_CONTEXT: unknown
  readonly SpanKind: { INTERNAL: number; CLIENT: number; SERVER: number }
  readonly SpanStatusCode: { ERROR: number }
}
interface OtelSpanContext {
  traceId: string
  spanId: string
  traceFlags: number
  isRemote?: boolean
}
interface OtelSpan {
  spanContext(): OtelSpanContext
  setAttribute(key: string, value: SpanAttributeValue): unknown
  setStatus(status: { code: number; message?: string }): unknown
  updateName(name: string): unknown
  end(): void
}
/** An OpenTelemetry `Tracer` (from `trace.getTracer(...)` or a provider's `getTracer`). */
export interface OtelTracer {
  startSpan(
    name: string,
    options?: { kind?: number; attributes?: Record<string, SpanAttributeValue> },
    context?: unknown,
  ): unknown
}

class OtelHandle implements SpanHandle {
  readonly context: TraceContext | undefined
  readonly span: OtelSpan
  constructor(span: OtelSpan, parentSpanId: string | undefined, valid: boolean) {
    this.span = span
    const sc = span.spanContext()
    this.context = valid
      ? { traceId: sc.traceId, spanId: sc.spanId, parentSpanId, sampled: (sc.traceFlags & 1) === 1 }
      : undefined
  }
  setAttribute(key: string, value: SpanAttributeValue) {
    this.span.setAttribute(key, value)
  }
  fail(message: string) {
    this.span.setStatus({ code: 2, message })
  }
  rename(name: string) {
    this.span.updateName(name)
  }
  end() {
    this.span.end()
  }
}

/**
 * `Tracing` over the OpenTelemetry API and a tracer. Spans take their parent from the incoming
 * context given, else from OpenTelemetry's active context.
 *
 * @example
 * ```ts
 * import * as api from '@opentelemetry/api'
 * const tracing = tracingFromOpenTelemetry(api, provider.getTracer('svc'))
 * ```
 */
export function tracingFromOpenTelemetry(api: unknown, tracer: OtelTracer): Tracing {
  const a = api as OtelApi
  const kinds = { internal: a.SpanKind.INTERNAL, client: a.SpanKind.CLIENT, server: a.SpanKind.SERVER }
  return {
    start(name, kind, parent, attributes) {
      let ctx: unknown
      let parentSpanId: string | undefined
      if (parent === undefined) ctx = a.context.active()
      else if (parent instanceof OtelHandle) {
        ctx = a.trace.setSpan(a.ROOT_CONTEXT, parent.span)
        parentSpanId = parent.context?.spanId
      } else if ('traceId' in parent) {
        ctx = a.trace.setSpanContext(a.ROOT_CONTEXT, {
          traceId: parent.traceId,
          spanId: parent.spanId,
          traceFlags: parent.sampled ? 1 : 0,
          isRemote: true,
        })
        parentSpanId = parent.spanId
      } else {
        ctx = a.context.active()
      }
      const span = tracer.startSpan(
        name,
        { kind: kinds[kind], ...(attributes ? { attributes: { ...attributes } } : {}) },
        ctx,
      ) as OtelSpan
      return new OtelHandle(span, parentSpanId, a.trace.isSpanContextValid(span.spanContext()))
    },
  }
}

/**
 * `Tracing` through `@opentelemetry/api` (an optional peer dependency: rejects with
 * `MissingDependencyError` when it is not installed). Spans go to the given tracer, or to
 * `trace.getTracer('switchboard')` of the globally registered provider.
 *
 * @example
 * ```ts
 * const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
 * provider.register()
 * const client = createClient({ dtab, tracing: await openTelemetryTracing() })
 * ```
 */
export async function openTelemetryTracing(
  options: { tracer?: OtelTracer | undefined } = {},
): Promise<Tracing> {
  const api = await importOptional<unknown>('@opentelemetry/api', 'tracing')
  const a = api as OtelApi
  return tracingFromOpenTelemetry(api, options.tracer ?? a.trace.getTracer('switchboard'))
}

/**
 * The spans of one request through a traced client: the logical request (`internal`), the
 * identification and binding of its name (`switchboard.bind`), and one `client` span per attempt with
 * the endpoint, the retry number and the status. Made by the client per request.
 *
 * @example
 * ```ts
 * const trace = new RequestTrace(tracing, 'GET', currentSpan())
 * trace.identified('/svc/users')
 * trace.bound('/#/io.l5d.fs/users')
 * trace.attempt('10.0.0.1', 8080).end()
 * trace.end({ status: 200 })
 * ```
 */
export class RequestTrace {
  readonly logical: SpanHandle
  private bindSpan: SpanHandle | undefined
  private readonly tracing: Tracing
  private readonly method: string
  private attempts = 0

  constructor(tracing: Tracing, method: string, parent: TraceContext | SpanHandle | undefined) {
    this.tracing = tracing
    this.method = method
    this.logical = tracing.start(method, 'internal', parent, { 'http.request.method': method })
    this.bindSpan = tracing.start('switchboard.bind', 'internal', this.logical)
  }

  /** The request was identified as `dst` (a logical name). */
  identified(dst: string): void {
    this.logical.rename(`${this.method} ${dst}`)
    this.logical.setAttribute('switchboard.dst.service', dst)
    this.bindSpan?.setAttribute('switchboard.dst.service', dst)
  }

  /** The name is bound and `client` (a bound id) was picked for the next attempt. */
  bound(client: string): void {
    this.logical.setAttribute('switchboard.dst.client', client)
    if (this.bindSpan) {
      this.bindSpan.setAttribute('switchboard.dst.client', client)
      this.bindSpan.end()
      this.bindSpan = undefined
    }
  }

  /** Starts the span of one attempt to `host:port`. */
  attempt(host: string, port: number): SpanHandle {
    const n = this.attempts++
    const span = this.tracing.start(this.method, 'client', this.logical, {
      'http.request.method': this.method,
      'server.address': host,
      'server.port': port,
      'switchboard.endpoint': `${host}:${port}`,
      ...(n > 0 ? { 'http.request.resend_count': n } : {}),
    })
    this.logical.setAttribute('switchboard.endpoint', `${host}:${port}`)
    return span
  }

  /** Ends the logical span (and the bind span, if binding failed) with the outcome. */
  end(outcome: { status: number } | { error: unknown }): void {
    if (this.bindSpan) {
      if ('error' in outcome) this.bindSpan.fail(messageOf(outcome.error))
      this.bindSpan.end()
      this.bindSpan = undefined
    }
    this.logical.setAttribute('switchboard.retries', Math.max(0, this.attempts - 1))
    if ('status' in outcome) {
      this.logical.setAttribute('http.response.status_code', outcome.status)
      if (outcome.status >= 500) this.logical.fail(`HTTP ${outcome.status}`)
    } else this.logical.fail(messageOf(outcome.error))
    this.logical.end()
  }
}

/**
 * The message of an error for a span status.
 *
 * @example
 * ```ts
 * messageOf(new TypeError('x')) // 'TypeError: x'
 * ```
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/**
 * Wraps a Node HTTP handler in a `server` span per request, a child of the request's `traceparent` or
 * `l5d-ctx-trace`; traced clients the handler calls continue the trace (see `currentSpan`).
 *
 * @example
 * ```ts
 * http.createServer(tracedHandler(tracing, async (req, res) => {
 *   const rep = await client.request('http://users/') // a child of this request's span
 *   res.end(await rep.body.text())
 * }))
 * ```
 */
export function tracedHandler<Req extends IncomingMessage, Res extends ServerResponse>(
  tracing: Tracing,
  handler: (req: Req, res: Res) => unknown,
): (req: Req, res: Res) => void {
  return (req, res) => {
    const parent = readTraceHeaders(req.headers)
    const method = req.method ?? 'GET'
    const span = tracing.start(method, 'server', parent, {
      'http.request.method': method,
      'url.path': (req.url ?? '/').split('?')[0]!,
    })
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      span.setAttribute('http.response.status_code', res.statusCode)
      if (res.statusCode >= 500) span.fail(`HTTP ${res.statusCode}`)
      span.end()
    }
    res.once('finish', end)
    res.once('close', end)
    runInSpan(span, () => handler(req, res))
  }
}
