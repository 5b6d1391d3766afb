/**
 * Transformers: post-processing of bound names, applied to an interpreter's output or to one
 * namer's (linkerd's `transformers:`): `io.l5d.port`, `io.l5d.localhost`, `io.l5d.specificHost`,
 * `io.l5d.replace`, `io.l5d.const`. Transformed ids get a `/%/<prefix>` in front, and delegation
 * shows each step as a `transformation` node.
 *
 * @example
 * ```ts
 * import { portTransformer, transformInterpreter } from 'switchboard/transformers'
 * const interpreter = transformInterpreter(defaultInterpreter({ namers }), [portTransformer({ port: 4141 })])
 * ```
 */

export {
  type DaemonsetTransformerOptions,
  DEFAULT_NETMASK,
  daemonsetTransformer,
  type LocalnodeTransformerOptions,
  localnodeTransformer,
  sameSubnet,
} from './k8s.js'
export {
  canonicalIp,
  type LocalhostTransformerOptions,
  localhostTransformer,
  localIps,
  type SpecificHostTransformerOptions,
  specificHostTransformer,
} from './local.js'
export { type PortTransformerOptions, portTransformer } from './port.js'
export { constTransformer, type ReplaceTransformerOptions, replaceTransformer } from './replace.js'
export {
  mapDelegateLeaves,
  mappingTransformer,
  prefixedId,
  type Transformer,
  type TransformerPrefixOption,
  transformerPrefix,
  transformInterpreter,
  transformNamer,
} from './transformer.js'
