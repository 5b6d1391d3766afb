import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  recentRequestsTelemeterKind as recentRequestsSettingsKind,
  type Telemetry,
  type TelemeterSpec as TracingTelemeterSettings,
  zipkinTelemeterKind as zipkinSettingsKind,
} from '../telemetry/config.js'
import { byKind, type ConfigKind, nonEmptyString, showFound, struct } from './decode.js'

/** What a running telemeter adds to the admin server, and how it stops. */
export interface Telemeter {
  /** Admin routes it serves: path → handler answering `[status, content-type, body]`. */
  readonly adminRoutes?: Readonly<Record<string, () => [number, string, string]>> | undefined
  close?(): void | Promise<void>
}

/** What a telemeter factory receives from the linker. */
export interface TelemeterContext {
  /** linkerd's Prometheus text of every stat, with a name prefix. */
  readonly prometheus: (prefix: string) => string
  readonly log: (message: string) => void
  /**
   * The tracing the linker built from every entry's `tracing` settings (`startTelemetry`), or
   * `undefined` when no entry traces.
   */
  readonly telemetry?: Telemetry | undefined
}

/** A decoded `telemetry:` entry, ready to start. */
export interface TelemeterSpec {
  readonly kind: string
  /**
   * A tracing telemeter's settings (`io.l5d.zipkin`, `io.l5d.recentRequests`): the linker starts them
   * all together with `startTelemetry`, so that one tracer feeds every sink.
   */
  readonly tracing?: TracingTelemeterSettings | undefined
  make(context: TelemeterContext): Telemeter
}

/** A telemeter kind: its `kind` name and the codec of its config object. */
export type TelemeterKind = ConfigKind<TelemeterSpec>

/**
 * `io.l5d.prometheus`: the stats as Prometheus text at `path` (default `/admin/metrics/prometheus`)
 * on the admin server, every name prefixed with `prefix` (default none).
 *
 * @example
 * ```yaml
 * telemetry:
 * - kind: io.l5d.prometheus
 *   prefix: linkerd_
 * ```
 */
export const prometheusTelemeterKind: TelemeterKind = {
  kind: 'io.l5d.prometheus',
  codec: new t.Type<TelemeterSpec, unknown, unknown>(
    'io.l5d.prometheus',
    (u): u is TelemeterSpec => typeof u === 'object' && u !== null && 'make' in u,
    (u, c) => {
      const r = struct(
        'an io.l5d.prometheus telemeter object',
        { kind: t.literal('io.l5d.prometheus') },
        { path: nonEmptyString, prefix: t.string, experimental: t.boolean },
      ).validate(u, c)
      if (isLeft(r)) return r
      const path = r.right.path ?? '/admin/metrics/prometheus'
      const prefix = r.right.prefix ?? ''
      return t.success({
        kind: 'io.l5d.prometheus',
        make: (ctx: TelemeterContext) => ({
          adminRoutes: {
            [path]: () => [200, 'text/plain; version=0.0.4; charset=utf-8', ctx.prometheus(prefix)],
          },
        }),
      })
    },
    (a) => a,
  ),
}

/** A telemeter kind whose settings only feed the linker's shared tracing. */
function tracingKind<S extends TracingTelemeterSettings>(
  settings: ConfigKind<S>,
  make: (spec: S, context: TelemeterContext) => Telemeter,
): TelemeterKind {
  return {
    kind: settings.kind,
    codec: new t.Type<TelemeterSpec, unknown, unknown>(
      settings.kind,
      (u): u is TelemeterSpec => typeof u === 'object' && u !== null && 'make' in u,
      (u, c) => {
        const r = settings.codec.validate(u, c)
        if (isLeft(r)) return r
        const spec = r.right
        return t.success({ kind: settings.kind, tracing: spec, make: (ctx) => make(spec, ctx) })
      },
      (a) => a,
    ),
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/**
 * `io.l5d.zipkin`: every router's server and client spans, sampled at `sampleRate` (default 0.001),
 * sent as Zipkin v2 JSON to `http://<host>:<port><path>` (default `localhost:9411/api/v2/spans`).
 * Needs the optional peers `@opentelemetry/api` and `@opentelemetry/sdk-trace-base`.
 *
 * @example
 * ```yaml
 * telemetry:
 * - kind: io.l5d.zipkin
 *   host: zipkin
 *   sampleRate: 0.02
 * ```
 */
export const zipkinTelemeterKind: TelemeterKind = tracingKind(zipkinSettingsKind, () => ({}))

/**
 * `io.l5d.recentRequests`: a sample (`sampleRate`, required) of the latest routed requests (up to
 * `capacity`, default 10) and how each was resolved, on the admin server at `/requests` (HTML) and
 * `/requests.json` (JSON, newest first). Needs the same optional peers as `io.l5d.zipkin`.
 *
 * @example
 * ```yaml
 * telemetry:
 * - kind: io.l5d.recentRequests
 *   sampleRate: 1.0
 * ```
 */
export const recentRequestsTelemeterKind: TelemeterKind = tracingKind(
  recentRequestsSettingsKind,
  (_spec, ctx) => {
    const recent = ctx.telemetry?.recentRequests
    if (recent === undefined) return {}
    return {
      adminRoutes: {
        '/requests.json': () => [200, 'application/json;charset=UTF-8', recent.json()],
        '/requests': () => {
          const cell = (v: unknown) => `<td>${escapeHtml(v === undefined ? '' : String(v))}</td>`
          const rows = recent
            .list()
            .map(
              (r) =>
                `<tr>${[r.timestamp, r.method, r.service, r.client, r.endpoint, r.status ?? r.error, r.retries, r.durationMs.toFixed(1), r.traceId].map(cell).join('')}</tr>`,
            )
            .join('\n')
          const body = `<!doctype html>
<html><head><meta charset="utf-8"><title>Recent Requests</title></head>
<body><h1>Recent Requests</h1>
<table>
<tr><th>time</th><th>method</th><th>service</th><th>client</th><th>endpoint</th><th>status</th><th>retries</th><th>ms</th><th>trace id</th></tr>
${rows}
</table>
<p><a href="requests.json">JSON</a></p>
</body></html>
`
          return [200, 'text/html;charset=UTF-8', body]
        },
      },
    }
  },
)

/** The telemeter kinds known out of the box. */
export const defaultTelemeterKinds: readonly TelemeterKind[] = [
  prometheusTelemeterKind,
  zipkinTelemeterKind,
  recentRequestsTelemeterKind,
]

/**
 * linkerd telemeters that only observe (tracing, sampling, pushing metrics elsewhere): when no kind
 * is registered for one of them, a config that uses it still loads, with one warning naming it,
 * since routing does not depend on it. Any other unregistered kind is an error.
 */
export const OBSERVE_ONLY_TELEMETERS: readonly string[] = [
  'io.l5d.zipkin',
  'io.l5d.recentRequests',
  'io.l5d.tracelog',
  'io.l5d.statsd',
  'io.l5d.influxdb',
  'io.l5d.commonMetrics',
  'io.zipkin.http',
  'io.zipkin.kafka',
  'io.l5d.stackdriver',
]

/** A decoded `telemetry:` list: the telemeters to start, and a warning per kind left out. */
export interface TelemetrySpec {
  readonly telemeters: readonly TelemeterSpec[]
  readonly warnings: readonly string[]
}

/**
 * The codec of linkerd's `telemetry:` list with the given kinds. An observe-only kind that is not
 * registered is skipped with a warning; an unknown kind is an error naming the known ones.
 *
 * @example
 * ```ts
 * decodeConfig(telemetryCodec(defaultTelemeterKinds), [{ kind: 'io.l5d.prometheus' }])
 * ```
 */
export function telemetryCodec(kinds: readonly TelemeterKind[]): t.Type<TelemetrySpec, unknown, unknown> {
  const one = byKind('a telemeter object', kinds)
  const registered = new Set(kinds.map((k) => k.kind))
  return new t.Type<TelemetrySpec, unknown, unknown>(
    'telemetry',
    (u): u is TelemetrySpec => typeof u === 'object' && u !== null,
    (u, c) => {
      if (!Array.isArray(u)) return t.failure(u, c, `expected a list of telemeters, found ${showFound(u)}`)
      const telemeters: TelemeterSpec[] = []
      const warnings: string[] = []
      const errors: t.Errors = []
      u.forEach((item, i) => {
        const ctx = t.appendContext(c, String(i), one, item)
        const k =
          typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['kind'] : undefined
        if (typeof k === 'string' && !registered.has(k) && OBSERVE_ONLY_TELEMETERS.includes(k)) {
          warnings.push(`telemetry[${i}]: telemeter ${k} is not available in this build; ignored`)
          return
        }
        const r = one.validate(item, ctx)
        if (isLeft(r)) errors.push(...r.left)
        else telemeters.push(r.right)
      })
      return errors.length > 0 ? t.failures(errors) : t.success({ telemeters, warnings })
    },
    (a) => a,
  )
}

/** linkerd's `usage:` block: accepted and never acted on (switchboard sends nothing anywhere). */
export const usageCodec = struct('a usage object', {}, { orgId: t.string, enabled: t.boolean })
