import { request } from 'undici'
import { type Scheduler, systemScheduler } from '../core/clock.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { type FinishedSpan, inSample, micros, parentIdOf } from './spans.js'

/** A span in Zipkin's v2 JSON model (`POST /api/v2/spans` takes an array of them). */
export interface ZipkinSpan {
  traceId: string
  id: string
  parentId?: string
  name: string
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER'
  /** Epoch microseconds. */
  timestamp: number
  /** Microseconds, at least 1. */
  duration: number
  localEndpoint: { serviceName: string }
  remoteEndpoint?: { ipv4?: string; ipv6?: string; port?: number }
  annotations?: { timestamp: number; value: string }[]
  tags: Record<string, string>
}

const KINDS = [undefined, 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const

/**
 * A finished OpenTelemetry span in Zipkin's v2 model: ids, kind (none for internal spans),
 * microsecond timestamp and duration, the service (`service.name` of the resource, else the
 * default), the remote endpoint of a client span (`server.address`, `server.port`), attributes as
 * string tags, an `error` tag for a failed span, events as annotations.
 *
 * @example
 * ```ts
 * toZipkinSpan(span, 'users').kind // 'CLIENT'
 * ```
 */
export function toZipkinSpan(span: FinishedSpan, defaultService: string): ZipkinSpan {
  const sc = span.spanContext()
  const tags: Record<string, string> = {}
  for (const [k, v] of Object.entries(span.attributes)) if (v !== undefined) tags[k] = String(v)
  if (span.status.code === 2) tags['error'] = span.status.message ?? 'true'
  const service = span.resource?.attributes['service.name']
  const out: ZipkinSpan = {
    traceId: sc.traceId,
    id: sc.spanId,
    name: span.name,
    timestamp: micros(span.startTime),
    duration: Math.max(1, micros(span.duration)),
    localEndpoint: {
      serviceName:
        typeof service === 'string' && service !== '' && !service.startsWith('unknown_service')
          ? service
          : defaultService,
    },
    tags,
  }
  const parent = parentIdOf(span)
  if (parent !== undefined) out.parentId = parent
  const kind = KINDS[span.kind]
  if (kind !== undefined) out.kind = kind
  const host = span.attributes['server.address']
  const port = span.attributes['server.port']
  if (kind === 'CLIENT' && typeof host === 'string') {
    out.remoteEndpoint = {
      ...(host.includes(':') ? { ipv6: host } : /^[0-9.]+$/.test(host) ? { ipv4: host } : {}),
      ...(typeof port === 'number' ? { port } : {}),
    }
  }
  if (span.events && span.events.length > 0)
    out.annotations = span.events.map((e) => ({ timestamp: micros(e.time), value: e.name }))
  return out
}

/** Options of `zipkinExporter`. */
export interface ZipkinExporterOptions {
  /** The collector's span endpoint, e.g. `http://localhost:9411/api/v2/spans`. */
  readonly url: string
  /** `localEndpoint.serviceName` for spans whose resource names none. Default `switchboard`. */
  readonly serviceName?: string | undefined
  /** Fraction of traces exported, by trace id (linkerd's `sampleRate`). Default 1. */
  readonly sampleRate?: number | undefined
  /** Spans per POST. Default 100. */
  readonly batchSize?: number | undefined
  /** Spans held while the collector is slow or down; more are dropped (counted). Default 1000. */
  readonly maxQueueSize?: number | undefined
  /** How long a partial batch waits. Default 1000. */
  readonly flushIntervalMs?: number | undefined
  /** POST timeout. Default 10 000. */
  readonly timeoutMs?: number | undefined
  readonly scheduler?: Scheduler | undefined
  /** Counts `spans` (sent), `dropped` (queue full), `failures` (POSTs that failed). */
  readonly stats?: StatsReceiver | undefined
  /** Told about a failed POST. Default silent (counted). */
  readonly onError?: ((error: unknown) => void) | undefined
}

/** An OpenTelemetry `SpanExporter` that POSTs Zipkin v2 JSON. */
export interface ZipkinExporter {
  export(spans: readonly FinishedSpan[], done: (result: { code: number; error?: Error }) => void): void
  /** Sends everything queued. */
  forceFlush(): Promise<void>
  /** Sends what is queued, then refuses more and releases its timer. */
  shutdown(): Promise<void>
  /** Spans waiting to be sent. */
  readonly queued: number
}

/**
 * An OpenTelemetry span exporter (give it to a `SimpleSpanProcessor` or `BatchSpanProcessor`) that
 * sends Zipkin v2 JSON to a collector in batches, one POST at a time, from a bounded queue: when the
 * collector is slow or down, spans beyond `maxQueueSize` are dropped and counted, never held without
 * bound. `export` answers at once; a failed POST is counted and its batch dropped.
 *
 * @example
 * ```ts
 * const exporter = zipkinExporter({ url: 'http://localhost:9411/api/v2/spans', serviceName: 'web' })
 * const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
 * ```
 */
export function zipkinExporter(options: ZipkinExporterOptions): ZipkinExporter {
  const url = new URL(options.url)
  const service = options.serviceName ?? 'switchboard'
  const rate = options.sampleRate ?? 1
  const batchSize = Math.max(1, options.batchSize ?? 100)
  const maxQueue = Math.max(batchSize, options.maxQueueSize ?? 1000)
  const interval = options.flushIntervalMs ?? 1000
  const timeoutMs = options.timeoutMs ?? 10_000
  const scheduler = options.scheduler ?? systemScheduler
  const stats = options.stats ?? nullStats
  const sent = stats.counter('spans')
  const dropped = stats.counter('dropped')
  const failures = stats.counter('failures')
  const queue: ZipkinSpan[] = []
  let sending: Promise<void> | undefined
  let cancelTimer: (() => void) | undefined
  let closed = false

  const post = async (batch: ZipkinSpan[]) => {
    try {
      const rep = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      await rep.body.dump()
      if (rep.statusCode >= 300) throw new Error(`zipkin collector answered ${rep.statusCode}`)
      sent.incr(batch.length)
    } catch (error) {
      failures.incr()
      options.onError?.(error)
    }
  }
  /** Sends batches until the queue is empty (or only a partial batch is left, unless `all`). */
  const drain = (all: boolean): Promise<void> => {
    if (sending) return sending.then(() => (all ? drain(true) : undefined))
    if (queue.length === 0 || (!all && queue.length < batchSize)) return Promise.resolve()
    const p = (async () => {
      while (queue.length >= batchSize || (all && queue.length > 0)) await post(queue.splice(0, batchSize))
    })()
    sending = p.finally(() => {
      sending = undefined
    })
    return sending
  }
  const arm = () => {
    if (cancelTimer || closed || queue.length === 0) return
    cancelTimer = scheduler.setTimeout(() => {
      cancelTimer = undefined
      void drain(true).then(arm)
    }, interval)
  }
  return {
    export(spans, done) {
      if (closed) return done({ code: 1, error: new Error('zipkin exporter is shut down') })
      for (const s of spans) {
        if (!inSample(s.spanContext().traceId, rate)) continue
        if (queue.length >= maxQueue) {
          dropped.incr()
          continue
        }
        queue.push(toZipkinSpan(s, service))
      }
      if (queue.length >= batchSize) void drain(false).then(arm)
      else arm()
      done({ code: 0 })
    },
    forceFlush: () => drain(true),
    async shutdown() {
      closed = true
      cancelTimer?.()
      cancelTimer = undefined
      await drain(true)
    },
    get queued() {
      return queue.length
    },
  }
}
