import { type Random, systemRandom } from '../core/random.js'
import { type FinishedSpan, micros } from './spans.js'

/** One request seen by `recentRequests`: when, what it was, how it was routed, how it ended. */
export interface RecentRequest {
  /** ISO time the request started. */
  readonly timestamp: string
  readonly method: string
  /** The logical name it was identified as (`/svc/users`). */
  readonly service: string | undefined
  /** The bound name it went to (`/#/io.l5d.fs/users`). */
  readonly client: string | undefined
  /** The endpoint of its last attempt (`10.0.0.1:8080`). */
  readonly endpoint: string | undefined
  readonly status: number | undefined
  readonly retries: number
  readonly durationMs: number
  /** The error, for a request that failed without a response. */
  readonly error: string | undefined
  readonly traceId: string
}

/** Options of `recentRequests`. */
export interface RecentRequestsOptions {
  /** Fraction of requests kept (linkerd's required `sampleRate`), 0 to 1. */
  readonly sampleRate: number
  /** How many are kept; older ones fall out. Default 100. */
  readonly capacity?: number | undefined
  readonly random?: Random | undefined
}

/**
 * linkerd's `io.l5d.recentRequests`: a span processor that keeps a sample of the latest requests of
 * traced clients (their logical spans) in a ring buffer, for the admin's `/requests`.
 */
export interface RecentRequests {
  onStart(): void
  onEnd(span: FinishedSpan): void
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
  /** Newest first. */
  list(): RecentRequest[]
  /** The JSON body of `/requests`. */
  json(): string
}

/**
 * A ring buffer of sampled recent requests, filled from the logical spans of traced clients.
 *
 * @example
 * ```ts
 * const recent = recentRequests({ sampleRate: 1, capacity: 50 })
 * const provider = new BasicTracerProvider({ spanProcessors: [recent] })
 * recent.list()[0]?.service // '/svc/users'
 * ```
 */
export function recentRequests(options: RecentRequestsOptions): RecentRequests {
  const capacity = Math.max(1, Math.floor(options.capacity ?? 100))
  const rate = options.sampleRate
  const random = options.random ?? systemRandom
  const ring: (RecentRequest | undefined)[] = new Array(capacity)
  let next = 0
  let size = 0
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const list = (): RecentRequest[] => {
    const out: RecentRequest[] = []
    for (let i = 1; i <= size; i++) out.push(ring[(next - i + capacity) % capacity]!)
    return out
  }
  return {
    onStart() {},
    onEnd(span) {
      const a = span.attributes
      // Only a client's logical request span (it names the service it was identified as).
      if (span.kind !== 0 || span.name === 'switchboard.bind' || a['switchboard.dst.service'] === undefined)
        return
      if (rate < 1 && random.next() >= rate) return
      const status = a['http.response.status_code']
      ring[next] = {
        timestamp: new Date(micros(span.startTime) / 1000).toISOString(),
        method: str(a['http.request.method']) ?? 'GET',
        service: str(a['switchboard.dst.service']),
        client: str(a['switchboard.dst.client']),
        endpoint: str(a['switchboard.endpoint']),
        status: typeof status === 'number' ? status : undefined,
        retries: typeof a['switchboard.retries'] === 'number' ? a['switchboard.retries'] : 0,
        durationMs: micros(span.duration) / 1000,
        error: typeof status === 'number' || span.status.code !== 2 ? undefined : span.status.message,
        traceId: span.spanContext().traceId,
      }
      next = (next + 1) % capacity
      size = Math.min(capacity, size + 1)
    },
    forceFlush: async () => {},
    shutdown: async () => {},
    list,
    json: () => `${JSON.stringify(list())}\n`,
  }
}
