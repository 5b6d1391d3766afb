import { isLeft, left, right } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  byKind,
  type ConfigKind,
  nonEmptyString,
  parsed,
  portCodec,
  showFound,
  struct,
} from '../config/decode.js'
import { importOptional } from '../core/optional.js'
import type { StatsReceiver } from '../stats/stats.js'
import { type RecentRequests, recentRequests } from './recent-requests.js'
import { type Tracing, tracingFromOpenTelemetry } from './tracing.js'
import { type ZipkinExporter, zipkinExporter } from './zipkin.js'

const rateCodec = parsed<number>('a sample rate', (u) =>
  typeof u === 'number' && u >= 0 && u <= 1
    ? right(u)
    : left(`expected a number from 0 to 1, found ${showFound(u)}`),
)
const positiveInt = parsed<number>('an integer >= 1', (u) =>
  typeof u === 'number' && Number.isInteger(u) && u >= 1
    ? right(u)
    : left(`expected an integer >= 1, found ${showFound(u)}`),
)
const nonNegative = parsed<number>('a number >= 0', (u) =>
  typeof u === 'number' && u >= 0 && Number.isFinite(u)
    ? right(u)
    : left(`expected a number >= 0, found ${showFound(u)}`),
)
const absolutePath = parsed<string>('a path', (u) =>
  typeof u === 'string' && u.startsWith('/')
    ? right(u)
    : left(`expected a path starting with /, found ${showFound(u)}`),
)

/** A struct codec whose decoded value is completed with defaults. */
function withDefaults<S, A>(
  codec: t.Type<S, unknown, unknown>,
  fill: (s: S) => A,
): t.Type<A, unknown, unknown> {
  return new t.Type<A, unknown, unknown>(
    codec.name,
    (u): u is A => typeof u === 'object' && u !== null,
    (u, c) => {
      const r = codec.validate(u, c)
      return isLeft(r) ? r : t.success(fill(r.right))
    },
    (a) => a,
  )
}

/** `io.l5d.zipkin`: where spans go (Zipkin v2 JSON over HTTP) and which fraction of traces. */
export interface ZipkinTelemeterSpec {
  readonly kind: 'io.l5d.zipkin'
  readonly host: string
  readonly port: number
  readonly path: string
  readonly sampleRate: number
  readonly serviceName: string
  readonly batchSize: number
  readonly maxQueueSize: number
  readonly flushIntervalMs: number
}

/** `io.l5d.recentRequests`: a sample of recent requests on the admin's `/requests`. */
export interface RecentRequestsTelemeterSpec {
  readonly kind: 'io.l5d.recentRequests'
  readonly sampleRate: number
  readonly capacity: number
}

/** `io.l5d.prometheus`: the Prometheus endpoint's path and family-name prefix. */
export interface PrometheusTelemeterSpec {
  readonly kind: 'io.l5d.prometheus'
  readonly path: string
  readonly prefix: string
}

/** A decoded telemeter of a `telemetry:` list. */
export type TelemeterSpec = ZipkinTelemeterSpec | RecentRequestsTelemeterSpec | PrometheusTelemeterSpec

/**
 * The `io.l5d.zipkin` kind: `host` (default `localhost`), `port` (default 9411, Zipkin's HTTP port;
 * linkerd's 9410 was Scribe), `path` (`/api/v2/spans`), `sampleRate` (0.001 as linkerd), and
 * `serviceName`, `batchSize`, `maxQueueSize`, `flushIntervalMs`.
 *
 * @example
 * ```ts
 * decodeConfig(t.array(telemeterCodec), [{ kind: 'io.l5d.zipkin', host: 'zipkin', sampleRate: 1 }])
 * ```
 */
export const zipkinTelemeterKind: ConfigKind<ZipkinTelemeterSpec> = {
  kind: 'io.l5d.zipkin',
  codec: withDefaults(
    struct(
      'an io.l5d.zipkin object',
      { kind: t.literal('io.l5d.zipkin') },
      {
        host: nonEmptyString,
        port: portCodec,
        path: absolutePath,
        sampleRate: rateCodec,
        serviceName: nonEmptyString,
        batchSize: positiveInt,
        maxQueueSize: positiveInt,
        flushIntervalMs: nonNegative,
      },
    ),
    (c) => ({
      kind: 'io.l5d.zipkin',
      host: c.host ?? 'localhost',
      port: c.port ?? 9411,
      path: c.path ?? '/api/v2/spans',
      sampleRate: c.sampleRate ?? 0.001,
      serviceName: c.serviceName ?? 'linkerd',
      batchSize: c.batchSize ?? 100,
      maxQueueSize: c.maxQueueSize ?? 1000,
      flushIntervalMs: c.flushIntervalMs ?? 1000,
    }),
  ),
}

/**
 * The `io.l5d.recentRequests` kind: `sampleRate` (required, 0 to 1) and `capacity` (default 10).
 *
 * @example
 * ```ts
 * // telemetry: [{ kind: io.l5d.recentRequests, sampleRate: 1.0 }]
 * ```
 */
export const recentRequestsTelemeterKind: ConfigKind<RecentRequestsTelemeterSpec> = {
  kind: 'io.l5d.recentRequests',
  codec: withDefaults(
    struct(
      'an io.l5d.recentRequests object',
      { kind: t.literal('io.l5d.recentRequests'), sampleRate: rateCodec },
      { capacity: positiveInt },
    ),
    (c) => ({ kind: 'io.l5d.recentRequests', sampleRate: c.sampleRate, capacity: c.capacity ?? 10 }),
  ),
}

/**
 * The `io.l5d.prometheus` kind: `path` (default `/admin/metrics/prometheus`) and `prefix` (default none).
 *
 * @example
 * ```ts
 * // telemetry: [{ kind: io.l5d.prometheus, prefix: linkerd_ }]
 * ```
 */
export const prometheusTelemeterKind: ConfigKind<PrometheusTelemeterSpec> = {
  kind: 'io.l5d.prometheus',
  codec: withDefaults(
    struct(
      'an io.l5d.prometheus object',
      { kind: t.literal('io.l5d.prometheus') },
      { path: absolutePath, prefix: t.string },
    ),
    (c) => ({
      kind: 'io.l5d.prometheus',
      path: c.path ?? '/admin/metrics/prometheus',
      prefix: c.prefix ?? '',
    }),
  ),
}

/** Every telemeter kind switchboard knows, for a config's kind registry. */
export const telemeterKinds: readonly ConfigKind<TelemeterSpec>[] = [
  zipkinTelemeterKind,
  recentRequestsTelemeterKind,
  prometheusTelemeterKind,
]

/**
 * A `telemetry:` list: each entry one of `telemeterKinds`; an unknown kind is an error naming the
 * known ones, never silence.
 *
 * @example
 * ```ts
 * decodeConfig(telemetryCodec, [{ kind: 'io.l5d.statsd' }]) // left: unknown kind "io.l5d.statsd" (known kinds: ...)
 * ```
 */
export const telemetryCodec = t.array(byKind('a telemeter object', telemeterKinds))

/** What a `telemetry:` list builds: the tracing for clients and servers, and the admin's additions. */
export interface Telemetry {
  /** Set when a tracing telemeter (zipkin, recentRequests) is configured. */
  readonly tracing: Tracing | undefined
  readonly recentRequests: RecentRequests | undefined
  readonly zipkin: ZipkinExporter | undefined
  /** The Prometheus telemeter's settings, when configured. */
  readonly prometheus: PrometheusTelemeterSpec | undefined
  /** Flushes and stops the exporters. */
  close(): Promise<void>
}

/**
 * Builds the telemeters of a decoded `telemetry:` list. Tracing telemeters need the optional peers
 * `@opentelemetry/api` and `@opentelemetry/sdk-trace-base` (a `MissingDependencyError` names them):
 * a private tracer provider samples traces at the highest configured rate (parent-based), and each
 * sink keeps its own fraction.
 *
 * @example
 * ```ts
 * const telemetry = await startTelemetry(spec.telemetry, { stats: stats.scope('telemetry') })
 * const client = createClient({ dtab, tracing: telemetry.tracing })
 * ```
 */
export async function startTelemetry(
  specs: readonly TelemeterSpec[],
  options: { stats?: StatsReceiver | undefined; onError?: ((error: unknown) => void) | undefined } = {},
): Promise<Telemetry> {
  const zipkinSpec = specs.find((s): s is ZipkinTelemeterSpec => s.kind === 'io.l5d.zipkin')
  const recentSpec = specs.find((s): s is RecentRequestsTelemeterSpec => s.kind === 'io.l5d.recentRequests')
  const prometheus = specs.find((s): s is PrometheusTelemeterSpec => s.kind === 'io.l5d.prometheus')
  if (!zipkinSpec && !recentSpec)
    return {
      tracing: undefined,
      recentRequests: undefined,
      zipkin: undefined,
      prometheus,
      close: async () => {},
    }
  const api = await importOptional<typeof import('@opentelemetry/api')>(
    '@opentelemetry/api',
    'tracing telemeters',
  )
  const sdk = await importOptional<typeof import('@opentelemetry/sdk-trace-base')>(
    '@opentelemetry/sdk-trace-base',
    'tracing telemeters',
  )
  const zipkin = zipkinSpec
    ? zipkinExporter({
        url: `http://${zipkinSpec.host.includes(':') ? `[${zipkinSpec.host}]` : zipkinSpec.host}:${zipkinSpec.port}${zipkinSpec.path}`,
        serviceName: zipkinSpec.serviceName,
        batchSize: zipkinSpec.batchSize,
        maxQueueSize: zipkinSpec.maxQueueSize,
        flushIntervalMs: zipkinSpec.flushIntervalMs,
        stats: options.stats?.scope('zipkin'),
        onError: options.onError,
      })
    : undefined
  const recent = recentSpec
    ? recentRequests({ sampleRate: recentSpec.sampleRate, capacity: recentSpec.capacity })
    : undefined
  const rate = Math.max(zipkinSpec ? zipkinSpec.sampleRate : 0, recentSpec ? recentSpec.sampleRate : 0)
  const processors = [
    ...(zipkin ? [new sdk.SimpleSpanProcessor(zipkin as never)] : []),
    ...(recent ? [recent as never] : []),
  ]
  const provider = new sdk.BasicTracerProvider({
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(rate) }),
    spanProcessors: processors,
  })
  return {
    tracing: tracingFromOpenTelemetry(api, provider.getTracer('switchboard')),
    recentRequests: recent,
    zipkin,
    prometheus,
    close: () => provider.shutdown(),
  }
}
