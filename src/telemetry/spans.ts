/**
 * The fields of a finished OpenTelemetry span (the SDK's `ReadableSpan`) that switchboard's
 * exporters read; structural, so the SDK stays optional.
 */
export interface FinishedSpan {
  readonly name: string
  /** OpenTelemetry's `SpanKind`: 0 internal, 1 server, 2 client, 3 producer, 4 consumer. */
  readonly kind: number
  spanContext(): { traceId: string; spanId: string; traceFlags: number }
  /** SDK 2.x. */
  readonly parentSpanContext?: { spanId: string } | undefined
  /** SDK 1.x. */
  readonly parentSpanId?: string | undefined
  /** `[seconds, nanoseconds]` since the epoch. */
  readonly startTime: readonly [number, number]
  readonly duration: readonly [number, number]
  readonly attributes: Readonly<Record<string, unknown>>
  readonly status: { readonly code: number; readonly message?: string | undefined }
  readonly events?: readonly { readonly name: string; readonly time: readonly [number, number] }[] | undefined
  readonly resource?: { readonly attributes: Readonly<Record<string, unknown>> } | undefined
}

/** The parent span id of a finished span, from either SDK generation. */
export function parentIdOf(span: FinishedSpan): string | undefined {
  return span.parentSpanContext?.spanId ?? span.parentSpanId
}

/** An `[s, ns]` time in whole microseconds. */
export const micros = (t: readonly [number, number]): number => t[0] * 1_000_000 + Math.floor(t[1] / 1000)

/**
 * Whether a trace is in the sampled fraction `rate`, by its id: the same answer for every span of a
 * trace, on every process.
 *
 * @example
 * ```ts
 * inSample('4bf92f3577b34da6a3ce929d0e0e4736', 1) // true
 * ```
 */
export function inSample(traceId: string, rate: number): boolean {
  if (rate >= 1) return true
  if (rate <= 0) return false
  const x = Number.parseInt(traceId.slice(-8), 16)
  return Number.isFinite(x) && x / 0x1_0000_0000 < rate
}
