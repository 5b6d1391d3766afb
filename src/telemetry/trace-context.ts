/**
 * The trace a request belongs to, as carried between hops: a 128-bit trace id (32 lower-case hex
 * digits), the 64-bit id of the span that sent it (16 hex digits), and whether it is sampled
 * (`undefined`: the sender did not decide).
 *
 * @example
 * ```ts
 * const ctx: TraceContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true }
 * ```
 */
export interface TraceContext {
  readonly traceId: string
  readonly spanId: string
  /** The span's parent, when known (linkerd's `l5d-ctx-trace` carries it). */
  readonly parentSpanId?: string | undefined
  readonly sampled: boolean | undefined
}

/**
 * The W3C Trace Context header and linkerd's trace context header.
 *
 * @example
 * ```ts
 * TraceHeaders.l5dCtxTrace // 'l5d-ctx-trace'
 * ```
 */
export const TraceHeaders = {
  /** W3C `traceparent`: `00-<trace id>-<span id>-<flags>`. */
  traceparent: 'traceparent',
  /** W3C `tracestate`, passed on unchanged. */
  tracestate: 'tracestate',
  /** linkerd 1 / Finagle: base64 of span id, parent id, trace id, flags (+ trace id high), 8 bytes each. */
  l5dCtxTrace: 'l5d-ctx-trace',
} as const

const HEX32 = /^[0-9a-f]{32}$/
const HEX16 = /^[0-9a-f]{16}$/
const HEX2 = /^[0-9a-f]{2}$/
const ZERO32 = '0'.repeat(32)
const ZERO16 = '0'.repeat(16)

/**
 * Parses a W3C `traceparent` value; `undefined` when it is not valid (an all-zero id, upper-case hex,
 * version `ff`, extra fields on version `00`), as the spec says a receiver must then ignore it.
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.sampled // true
 * ```
 */
export function parseTraceparent(value: string): TraceContext | undefined {
  const parts = value.trim().split('-')
  if (parts.length < 4) return undefined
  const [version, traceId, spanId, flags] = parts as [string, string, string, string]
  if (!HEX2.test(version) || version === 'ff') return undefined
  if (version === '00' && parts.length !== 4) return undefined
  if (!HEX32.test(traceId) || traceId === ZERO32) return undefined
  if (!HEX16.test(spanId) || spanId === ZERO16) return undefined
  if (!HEX2.test(flags)) return undefined
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 }
}

/**
 * The `traceparent` value of a context (version `00`; flag `01` when sampled).
 *
 * @example
 * ```ts
 * formatTraceparent({ traceId: '4bf9...4736', spanId: '00f0...02b7', sampled: true }) // '00-4bf9...-01'
 * ```
 */
export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`
}

// Finagle's trace flags: Debug 1, SamplingKnown 2, Sampled 4.
const DEBUG = 1n
const SAMPLING_KNOWN = 2n
const SAMPLED = 4n

/**
 * Parses linkerd's `l5d-ctx-trace` (Finagle's `TraceId` serialised: span id, parent id, trace id and
 * flags as 8-byte big-endian numbers, then the trace id's high 8 bytes for 128-bit ids, in base64).
 * A 64-bit trace id is widened with zeros. `undefined` when it does not decode to 32 or 40 bytes.
 *
 * @example
 * ```ts
 * parseL5dCtxTrace(formatL5dCtxTrace(ctx))?.traceId === ctx.traceId // true
 * ```
 */
export function parseL5dCtxTrace(value: string): TraceContext | undefined {
  const v = value.trim()
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v)) return undefined
  const bytes = Buffer.from(v, 'base64')
  if (bytes.length !== 32 && bytes.length !== 40) return undefined
  const hex = (at: number) => bytes.subarray(at, at + 8).toString('hex')
  const spanId = hex(0)
  const parent = hex(8)
  const low = hex(16)
  const flags = bytes.readBigUInt64BE(24)
  const high = bytes.length === 40 ? hex(32) : ZERO16
  const traceId = `${high}${low}`
  if (traceId === ZERO32 || spanId === ZERO16) return undefined
  const sampled =
    (flags & DEBUG) !== 0n ? true : (flags & SAMPLING_KNOWN) !== 0n ? (flags & SAMPLED) !== 0n : undefined
  return { traceId, spanId, parentSpanId: parent === spanId ? undefined : parent, sampled }
}

/**
 * The `l5d-ctx-trace` value of a context: 40 bytes when the trace id needs more than 64 bits, else 32;
 * the parent is the span itself when unknown (Finagle's root span).
 *
 * @example
 * ```ts
 * formatL5dCtxTrace({ traceId: '0'.repeat(16) + 'a'.repeat(16), spanId: 'b'.repeat(16), sampled: true }).length // 44
 * ```
 */
export function formatL5dCtxTrace(ctx: TraceContext): string {
  const high = ctx.traceId.slice(0, 16)
  const wide = high !== ZERO16
  const bytes = Buffer.alloc(wide ? 40 : 32)
  bytes.write(ctx.spanId, 0, 'hex')
  bytes.write(ctx.parentSpanId ?? ctx.spanId, 8, 'hex')
  bytes.write(ctx.traceId.slice(16), 16, 'hex')
  const flags = ctx.sampled === undefined ? 0n : ctx.sampled ? SAMPLING_KNOWN | SAMPLED : SAMPLING_KNOWN
  bytes.writeBigUInt64BE(flags, 24)
  if (wide) bytes.write(high, 32, 'hex')
  return bytes.toString('base64')
}

/**
 * Request headers by lower-case name, as Node and undici give them.
 *
 * @example
 * ```ts
 * const headers: TraceHeaderMap = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }
 * ```
 */
export type TraceHeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>

const first = (v: string | readonly string[] | undefined): string | undefined =>
  typeof v === 'string' ? v : v?.[0]

/**
 * The trace context of incoming headers (lower-case names): `traceparent` when valid, else
 * `l5d-ctx-trace`, else `undefined`.
 *
 * @example
 * ```ts
 * readTraceHeaders(req.headers)?.traceId
 * ```
 */
export function readTraceHeaders(headers: TraceHeaderMap): TraceContext | undefined {
  const tp = first(headers[TraceHeaders.traceparent])
  const w3c = tp === undefined ? undefined : parseTraceparent(tp)
  if (w3c) return w3c
  const l5d = first(headers[TraceHeaders.l5dCtxTrace])
  return l5d === undefined ? undefined : parseL5dCtxTrace(l5d)
}

/**
 * Sets `traceparent` and `l5d-ctx-trace` for the next hop (the span sending the request).
 *
 * @example
 * ```ts
 * writeTraceHeaders(outgoing.headers, attemptSpan.context)
 * ```
 */
export function writeTraceHeaders(headers: Record<string, unknown>, ctx: TraceContext): void {
  headers[TraceHeaders.traceparent] = formatTraceparent(ctx)
  headers[TraceHeaders.l5dCtxTrace] = formatL5dCtxTrace(ctx)
}
