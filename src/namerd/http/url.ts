import { type Either, left, right } from 'fp-ts/lib/Either.js'
import { SwitchboardError } from '../../core/errors.js'
import { InvalidDtabNamespace, namespaceProblem } from '../store/namespace.js'

/**
 * The longest `dtab` query parameter namerd accepts by default (8 KiB of UTF-8): a per-request
 * override is a handful of dentries, and a longer one only makes binding and delegation costly.
 *
 * @example
 * ```ts
 * nameEndpoints({ store, maxDtabParamBytes: 2 * DEFAULT_MAX_DTAB_PARAM_BYTES })
 * ```
 */
export const DEFAULT_MAX_DTAB_PARAM_BYTES = 8 * 1024

/**
 * A namespace from a request path: percent-escapes decoded exactly once (so `%2e%2e` is `..`,
 * `%C3%A9` is `é`, and `%252e` is the three characters `%2e`), then checked like any namespace name.
 * Malformed escapes (`%zz`, `%ff` that is not UTF-8) are refused too.
 *
 * @example
 * ```ts
 * namespaceFromPath('caf%C3%A9') // right('café')
 * namespaceFromPath('%2e%2e')    // left(InvalidDtabNamespace: invalid dtab namespace "..": it contains "..")
 * ```
 */
export function namespaceFromPath(raw: string): Either<InvalidDtabNamespace, string> {
  let ns: string
  try {
    ns = decodeURIComponent(raw)
  } catch {
    return left(new InvalidDtabNamespace(raw, 'it is not valid percent-encoded UTF-8'))
  }
  const problem = namespaceProblem(ns)
  return problem === undefined ? right(ns) : left(new InvalidDtabNamespace(ns, problem))
}

/**
 * A `dtab` query parameter (or a delegate request's `dtab` field) longer than the interface's
 * `maxDtabParamBytes`: namerd answers 414 with this message.
 *
 * @example
 * ```ts
 * new DtabParamTooLong(9000, 8192).message
 * // 'the dtab parameter is 9000 bytes, longer than the limit of 8192 bytes'
 * ```
 */
export class DtabParamTooLong extends SwitchboardError {
  readonly limit: number
  readonly found: number
  constructor(found: number, limit: number) {
    super('DtabParamTooLong', `the dtab parameter is ${found} bytes, longer than the limit of ${limit} bytes`)
    this.limit = limit
    this.found = found
  }
}
