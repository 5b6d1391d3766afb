/**
 * Telemetry: trace context propagation (`traceparent`, `l5d-ctx-trace`), OpenTelemetry tracing for
 * clients and servers, a Zipkin v2 exporter, recent requests, the `telemetry:` config kinds, and a
 * structured logger.
 *
 * @example
 * ```ts
 * import { openTelemetryTracing } from 'switchboard/telemetry'
 * const client = createClient({ dtab, tracing: await openTelemetryTracing() })
 * ```
 */
export {
  type PrometheusTelemeterSpec,
  prometheusTelemeterKind,
  type RecentRequestsTelemeterSpec,
  recentRequestsTelemeterKind,
  startTelemetry,
  type TelemeterSpec,
  type Telemetry,
  telemeterKinds,
  telemetryCodec,
  type ZipkinTelemeterSpec,
  zipkinTelemeterKind,
} from './config.js'
export {
  createLogger,
  LOG_LEVELS,
  type LogFn,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  nullLogger,
  parseLogLevel,
} from './log.js'
export {
  type RecentRequest,
  type RecentRequests,
  type RecentRequestsOptions,
  recentRequests,
} from './recent-requests.js'
export { type FinishedSpan, inSample } from './spans.js'
export {
  formatL5dCtxTrace,
  formatTraceparent,
  parseL5dCtxTrace,
  parseTraceparent,
  readTraceHeaders,
  type TraceContext,
  type TraceHeaderMap,
  TraceHeaders,
  writeTraceHeaders,
} from './trace-context.js'
export {
  currentSpan,
  messageOf,
  type OtelTracer,
  openTelemetryTracing,
  RequestTrace,
  runInSpan,
  type SpanAttributeValue,
  type SpanHandle,
  type SpanKindName,
  type Tracing,
  tracedHandler,
  tracingFromOpenTelemetry,
} from './tracing.js'
export {
  toZipkinSpan,
  type ZipkinExporter,
  type ZipkinExporterOptions,
  type ZipkinSpan,
  zipkinExporter,
} from './zipkin.js'
