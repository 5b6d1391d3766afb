import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
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
}

/** A decoded `telemetry:` entry, ready to start. */
export interface TelemeterSpec {
  readonly kind: string
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

/** The telemeter kinds known out of the box. */
export const defaultTelemeterKinds: readonly TelemeterKind[] = [prometheusTelemeterKind]

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
