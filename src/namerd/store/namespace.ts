import { SwitchboardError } from '../../core/errors.js'

/** The longest namespace name a store accepts, in UTF-16 code units. */
export const MAX_NAMESPACE_LENGTH = 255

/**
 * A namespace name that no store accepts: empty, too long, `.`, containing `/`, `..` or a control
 * character. The HTTP controller answers 400 with this message.
 *
 * @example
 * ```ts
 * try { checkNamespace('a/b') } catch (e) { if (e instanceof InvalidDtabNamespace) console.log(e.message) }
 * ```
 */
export class InvalidDtabNamespace extends SwitchboardError {
  readonly namespace: string
  constructor(namespace: string, reason: string) {
    super('InvalidDtabNamespace', `invalid dtab namespace ${JSON.stringify(namespace)}: ${reason}`)
    this.namespace = namespace
  }
}

// C0 controls, DEL and C1 controls: they have no place in a name that ends up in file names,
// ZooKeeper paths, URLs and terminal output.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/**
 * Why `namespace` is not a valid namespace name, or `undefined` when it is. Names are opaque
 * otherwise: `%`, `:`, `#`, spaces and non-ASCII letters are all allowed.
 *
 * @example
 * ```ts
 * namespaceProblem('default')  // undefined
 * namespaceProblem('a/b')      // 'it contains "/"'
 * ```
 */
export function namespaceProblem(namespace: string): string | undefined {
  if (namespace.length === 0) return 'it is empty'
  if (namespace.length > MAX_NAMESPACE_LENGTH)
    return `it is ${namespace.length} characters long, more than ${MAX_NAMESPACE_LENGTH}`
  if (namespace.includes('/')) return 'it contains "/"'
  if (namespace === '.') return 'it is "."'
  if (namespace.includes('..')) return 'it contains ".."'
  const control = CONTROL.exec(namespace)
  if (control)
    return `it contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at index ${control.index}`
  return undefined
}

/**
 * Returns `namespace` when it is a valid name, else throws `InvalidDtabNamespace`.
 *
 * @example
 * ```ts
 * checkNamespace('canary') // 'canary'
 * checkNamespace('..')     // throws InvalidDtabNamespace
 * ```
 */
export function checkNamespace(namespace: string): string {
  const problem = namespaceProblem(namespace)
  if (problem !== undefined) throw new InvalidDtabNamespace(namespace, problem)
  return namespace
}
