import { InvalidOptionError } from '../core/errors.js'
import { Addr } from '../naming/addr.js'
import { Address } from '../naming/address.js'
import { Name } from '../naming/name.js'
import { Path } from '../naming/path.js'
import {
  mappingTransformer,
  prefixedId,
  type Transformer,
  type TransformerPrefixOption,
  transformerPrefix,
} from './transformer.js'

/** Options of `portTransformer`. */
export interface PortTransformerOptions extends TransformerPrefixOption {
  /** The port every address gets. */
  readonly port: number
}

/**
 * `io.l5d.port`: every address keeps its host and metadata and gets `port` (to send to a router
 * listening on a fixed port of each host). Default prefix `/io.l5d.port/<port>`.
 *
 * @example
 * ```ts
 * const t = portTransformer({ port: 4141 })
 * // /#/io.l5d.fs/users bound to 10.0.0.1:8080 becomes /%/io.l5d.port/4141/#/io.l5d.fs/users → 10.0.0.1:4141
 * ```
 */
export function portTransformer(options: PortTransformerOptions): Transformer {
  const { port } = options
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidOptionError('io.l5d.port', 'port', 'an integer from 1 to 65535', port)
  const prefix = transformerPrefix('io.l5d.port', options.prefix, Path.of('io.l5d.port', String(port)))
  const mapAddr = (addr: Addr): Addr =>
    addr.kind === 'bound'
      ? Addr.bound(
          addr.addresses.map((a) => Address.inet(a.host, port, a.metadata)),
          addr.metadata,
        )
      : addr
  return mappingTransformer('PortTransformer', prefix, (bound) =>
    Name.bound(prefixedId(prefix, bound.id), bound.addr.map(mapAddr), bound.path),
  )
}
