import { InvalidOptionError } from '../core/errors.js'
import type { DelegateTree } from '../naming/delegate-tree.js'
import { Dentry } from '../naming/dentry.js'
import { Dtab } from '../naming/dtab.js'
import { defaultInterpreter, type NameInterpreter } from '../naming/interpreter.js'
import { Name, type NameBound } from '../naming/name.js'
import { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import {
  mapDelegateLeaves,
  prefixedId,
  type Transformer,
  type TransformerPrefixOption,
  transformerPrefix,
} from './transformer.js'

/** Options of `replaceTransformer` and `constTransformer`. */
export interface ReplaceTransformerOptions extends TransformerPrefixOption {
  /** The path whose bound tree takes the place of the input. */
  readonly path: Path | string
  /** Binds `path` (with an empty dtab). Default `defaultInterpreter()`: the system namers (`/$/inet`, ...). */
  readonly interpreter?: NameInterpreter | undefined
}

function readPath(kind: string, p: Path | string): Path {
  if (p instanceof Path) return p
  const parsed = Path.parse(p)
  if (parsed._tag === 'Left') throw new InvalidOptionError(kind, 'path', 'a path', p)
  return parsed.right
}

/** Every leaf replaced by the tree `f` gives for it. */
function flatMapLeaves<A, B>(tree: NameTree<A>, f: (a: A) => NameTree<B>): NameTree<B> {
  switch (tree.kind) {
    case 'leaf':
      return f(tree.value)
    case 'alt':
      return NameTree.alt(...tree.trees.map((t) => flatMapLeaves(t, f)))
    case 'union':
      return NameTree.union(...tree.trees.map((w) => NameTree.weighted(w.weight, flatMapLeaves(w.tree, f))))
    default:
      return tree
  }
}

function hasLeaf<T>(tree: DelegateTree<T>): boolean {
  switch (tree.kind) {
    case 'leaf':
      return true
    case 'delegate':
    case 'transformation':
      return hasLeaf(tree.tree)
    case 'alt':
      return tree.trees.some(hasLeaf)
    case 'union':
      return tree.trees.some((w) => hasLeaf(w.tree))
    default:
      return false
  }
}

/** A bound tree as a delegate tree: each leaf's path is its id (when the id is a path). */
function asDelegate(path: Path, dentry: Dentry, tree: NameTree<NameBound>): DelegateTree<NameBound> {
  switch (tree.kind) {
    case 'leaf':
      return {
        kind: 'leaf',
        path: tree.value.id instanceof Path ? tree.value.id : path,
        dentry,
        value: tree.value,
      }
    case 'alt':
      return { kind: 'alt', path, dentry, trees: tree.trees.map((t) => asDelegate(path, dentry, t)) }
    case 'union':
      return {
        kind: 'union',
        path,
        dentry,
        trees: tree.trees.map((w) => ({ weight: w.weight, tree: asDelegate(path, dentry, w.tree) })),
      }
    case 'neg':
      return { kind: 'neg', path, dentry }
    case 'fail':
      return { kind: 'fail', path, dentry }
    case 'empty':
      return { kind: 'empty', path, dentry }
  }
}

/** A transformer built on the bound tree of `options.path`, ids prefixed (replace and const). */
function onReplacement(
  kind: string,
  name: string,
  options: ReplaceTransformerOptions,
  apply: {
    tree: (input: NameTree<NameBound>, replacement: NameTree<NameBound>) => NameTree<NameBound>
    delegate: (input: DelegateTree<NameBound>, replacement: NameTree<NameBound>) => DelegateTree<NameBound>
  },
): Transformer {
  const prefix = transformerPrefix(kind, options.prefix, Path.of(kind))
  const path = readPath(kind, options.path)
  const interpreter = options.interpreter ?? defaultInterpreter()
  const replacement = interpreter
    .bind(Dtab.empty, path)
    .map((tree) => NameTree.map(tree, (b) => Name.bound(prefixedId(prefix, b.id), b.addr, b.path)))
  return {
    name,
    prefix,
    transform: (tree) => replacement.map((r) => apply.tree(tree, r)),
    transformDelegate: (tree) => replacement.map((r) => apply.delegate(tree, r)),
  }
}

function withTransformationNodes(
  name: string,
  tree: DelegateTree<NameBound>,
  replacement: NameTree<NameBound>,
): DelegateTree<NameBound> {
  return mapDelegateLeaves(tree, (leaf) => ({
    kind: 'transformation',
    path: leaf.path,
    name,
    value: leaf.value,
    tree: asDelegate(leaf.path, leaf.dentry, replacement),
  }))
}

/**
 * `io.l5d.replace`: every bound leaf is replaced by the bound tree of `path` (bound with an empty
 * dtab, ids prefixed); Neg, Fail and Empty stay as they are. Default prefix `/io.l5d.replace`.
 *
 * @example
 * ```ts
 * // send everything to the local router, whatever the namer found
 * replaceTransformer({ path: '/$/inet/127.0.0.1/4140' })
 * ```
 */
export function replaceTransformer(options: ReplaceTransformerOptions): Transformer {
  const name = 'ReplaceTransformer'
  return onReplacement('io.l5d.replace', name, options, {
    tree: (input, r) => flatMapLeaves(input, () => r),
    delegate: (input, r) => withTransformationNodes(name, input, r),
  })
}

/**
 * `io.l5d.const`: ignores the input and always gives the bound tree of `path` (even for Neg). Default
 * prefix `/io.l5d.const`.
 *
 * @example
 * ```ts
 * constTransformer({ path: '/$/inet/127.0.0.1/4140' })
 * ```
 */
export function constTransformer(options: ReplaceTransformerOptions): Transformer {
  const name = 'ConstTransformer'
  return onReplacement('io.l5d.const', name, options, {
    tree: (_input, r) => r,
    delegate: (input, r) =>
      hasLeaf(input) ? withTransformationNodes(name, input, r) : asDelegate(input.path, Dentry.nop, r),
  })
}
