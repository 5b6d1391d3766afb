/**
 * The text layer of naming: {@link Path}, {@link NameTree}, {@link Prefix}, {@link Dentry} and
 * {@link Dtab}, with Finagle's text forms, parse errors and lookup semantics.
 *
 * @example
 * ```ts
 * import { Dtab, NameTree, Path } from 'switchboard/naming'
 *
 * const dtab = Dtab.read('/svc => /#/io.l5d.consul/dc1; /svc/users => 1 * /canary & 9 * /stable')
 * NameTree.show(dtab.lookup(Path.read('/svc/users'))) // '/canary & 9.00*\/stable | /#/io.l5d.consul/dc1/users'
 * ```
 */
export { Dentry, Prefix, type PrefixElem } from './dentry.js'
export { Dtab } from './dtab.js'
export {
  type Alt,
  type Empty,
  type Fail,
  type Leaf,
  NameTree,
  type Neg,
  type Union,
  type Weighted,
} from './nametree.js'
export { ParseError } from './parse-error.js'
export { MAX_NESTING } from './parser.js'
export { InvalidLabelError, Path } from './path.js'
