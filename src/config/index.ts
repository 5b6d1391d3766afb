/**
 * Configuration loading: YAML/JSON text to plain values, and io-ts decoding that reports every
 * problem with its field path; linkerd-style router configs for the HTTP client.
 *
 * @example
 * ```ts
 * import { decodeConfig, parseConfigText } from 'switchboard/config'
 * ```
 */
export {
  byKind,
  ConfigError,
  type ConfigKind,
  type ConfigProblem,
  decodeConfig,
  nonEmptyString,
  parseConfigText,
  parsed,
  portCodec,
  showFound,
  struct,
} from './decode.js'
export { isSecretField, REDACTED, type RedactOptions, redactConfig } from './redact.js'
export {
  type ClassifierKind,
  type ConfigClientOptions,
  configKind,
  createClientFromConfig,
  defaultTransformerKinds,
  dtabCodec,
  type IdentifierKind,
  type IdentifierOf,
  type InterpreterKind,
  type InterpreterSpec,
  namersCodecOf,
  pathCodec,
  type RouterKinds,
  type RouterNamerSpec,
  type RouterSpec,
  readRouterConfig,
  routerConfigCodec,
  type TransformerKind,
  transformersCodec,
  transformersCodecOf,
} from './router.js'
export {
  defaultTelemeterKinds,
  OBSERVE_ONLY_TELEMETERS,
  prometheusTelemeterKind,
  recentRequestsTelemeterKind,
  type Telemeter,
  type TelemeterContext,
  type TelemeterKind,
  type TelemeterSpec,
  type TelemetrySpec,
  telemetryCodec,
  usageCodec,
  zipkinTelemeterKind,
} from './telemetry.js'
