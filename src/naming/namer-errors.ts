import { SwitchboardError } from '../core/errors.js'
import type { Path } from './path.js'

/**
 * Binding or delegating followed more rewrites than allowed (a dtab loop such as
 * `/a=>/b;/b=>/a`, or a very deep chain). Binding fails with Finagle's message
 * `Max recursion level: <N> reached in Namer lookup`; delegation with
 * `Max recursion level reached.`, as linkerd's delegator words it.
 *
 * @example
 * ```ts
 * const tree = defaultInterpreter().bind(Dtab.read('/a=>/b;/b=>/a'), Path.read('/a'))
 * tree.state() // { kind: 'failed', error: NamerExceededMaxDepthError }
 * ```
 */
export class NamerExceededMaxDepthError extends SwitchboardError {
  /** The depth limit that was exceeded, when known. */
  readonly maxDepth: number | undefined
  constructor(maxDepth?: number, message?: string) {
    super('NamerExceededMaxDepth', message ?? `Max recursion level: ${maxDepth} reached in Namer lookup`)
    this.maxDepth = maxDepth
  }
}

/**
 * A binding nested Alt/Union nodes and lookups deeper than allowed along one branch (see
 * `DEFAULT_MAX_BIND_NESTING`): the dtab, not the server, is at fault, so namerd answers 400.
 *
 * @example
 * ```ts
 * new BindingTooDeepError(2000).message
 * // 'name tree nested more than 2000 levels deep while binding'
 * ```
 */
export class BindingTooDeepError extends SwitchboardError {
  /** The nesting limit that was exceeded. */
  readonly maxNesting: number
  constructor(maxNesting: number) {
    super('BindingTooDeep', `name tree nested more than ${maxNesting} levels deep while binding`)
    this.maxNesting = maxNesting
  }
}

/**
 * A `/$/<kind>/...` path names a system namer that is not registered (Finagle's
 * `ClassNotFoundException`, reported by linkerd as `UnknownNamer`). `/$/inet` without a valid port
 * is reported this way too, as in Finagle.
 *
 * @example
 * ```ts
 * new UnknownNamerError('com.example.nope', Path.read('/$/com.example.nope/x')).message
 * // 'Unknown namer: com.example.nope for path: /$/com.example.nope/x'
 * ```
 */
export class UnknownNamerError extends SwitchboardError {
  readonly kind: string
  readonly path: Path
  constructor(kind: string, path: Path) {
    super('UnknownNamer', `Unknown namer: ${kind} for path: ${path.show()}`)
    this.kind = kind
    this.path = path
  }
}
