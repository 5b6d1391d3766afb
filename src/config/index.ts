/**
 * Configuration loading: YAML/JSON text to plain values, and io-ts decoding that reports every
 * problem with its field path.
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
