import type { Either } from 'fp-ts/lib/Either.js'
import { idKey, NameBound, NamePath } from './name.js'
import type { ParseError } from './parse-error.js'
import { parseWith, readNameTree } from './parser.js'
import { Path } from './path.js'
import {
  type Alt,
  alt,
  defaultWeight,
  type Empty,
  empty,
  type Fail,
  fail,
  type Leaf,
  leaf,
  type Neg,
  neg,
  type NameTree as Tree,
  type Union,
  union,
  type Weighted,
  weighted,
} from './tree-node.js'
import { formatFixed2, javaDoubleString } from './weight.js'

export type { Alt, Empty, Fail, Leaf, Neg, Union, Weighted }

/**
 * A tree of destinations, Finagle's `NameTree[T]`: a {@link Leaf}, a fail-over {@link Alt}, a
 * weighted {@link Union}, or one of the three "no destination" cases {@link Neg} (no such name),
 * {@link Fail} (failed, stop) and {@link Empty} (exists, no members). Values are plain immutable
 * objects discriminated on `kind`; the functions live on the {@link NameTree} companion.
 *
 * @example
 * ```ts
 * const t: NameTree<Path> = NameTree.read('/a & 2 * /b | ~')
 * if (t.kind === 'alt') t.trees.length // 2
 * ```
 */
export type NameTree<T> = Tree<T>

function defaultShowLeaf(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    const show = (value as { show?: unknown }).show
    if (typeof show === 'function') return String(show.call(value))
  }
  return String(value)
}

// The three printers mirror Finagle's show / show1 / showSimple, which decide where parentheses go:
// a Union inside an Alt needs none (`&` binds tighter), an Alt inside anything does, and a Union
// inside a Union does. One-child Alts and Unions print as their child. (Top-level functions rather
// than closures: show runs for every dtab shown on the wire.)
function show<T>(tree: NameTree<T>, showLeaf: (value: T) => string = defaultShowLeaf): string {
  return showTop(tree, showLeaf)
}

function showTop<T>(t: NameTree<T>, showLeaf: (value: T) => string): string {
  if (t.kind === 'union' && t.trees.length === 1) return showTop(t.trees[0]!.tree, showLeaf)
  if (t.kind !== 'alt') return show1(t, showLeaf)
  if (t.trees.length === 1) return showTop(t.trees[0]!, showLeaf)
  let out = ''
  for (let i = 0; i < t.trees.length; i++) {
    if (i > 0) out += ' | '
    out += show1(t.trees[i]!, showLeaf)
  }
  return out
}

function show1<T>(t: NameTree<T>, showLeaf: (value: T) => string): string {
  if (t.kind === 'union') {
    if (t.trees.length === 1) return show1(t.trees[0]!.tree, showLeaf)
    let out = ''
    for (let i = 0; i < t.trees.length; i++) {
      const w = t.trees[i]!
      if (i > 0) out += ' & '
      if (w.weight !== defaultWeight) out += `${formatFixed2(w.weight)}*`
      out += showSimple(w.tree, showLeaf)
    }
    return out
  }
  if (t.kind === 'alt') {
    if (t.trees.length === 1) return show1(t.trees[0]!, showLeaf)
    return `(${showTop(t, showLeaf)})`
  }
  return showSimple(t, showLeaf)
}

function showSimple<T>(t: NameTree<T>, showLeaf: (value: T) => string): string {
  switch (t.kind) {
    case 'union':
      if (t.trees.length === 1) return showSimple(t.trees[0]!.tree, showLeaf)
      return `(${showTop(t, showLeaf)})`
    case 'alt':
      if (t.trees.length === 1) return showSimple(t.trees[0]!, showLeaf)
      return `(${showTop(t, showLeaf)})`
    case 'leaf':
      return showLeaf(t.value)
    case 'fail':
      return '!'
    case 'neg':
      return '~'
    case 'empty':
      return '$'
  }
}

function map<T, U>(tree: NameTree<T>, f: (value: T) => U): NameTree<U> {
  switch (tree.kind) {
    case 'leaf':
      return leaf(f(tree.value))
    case 'alt': {
      const trees = new Array<NameTree<U>>(tree.trees.length)
      for (let i = 0; i < trees.length; i++) trees[i] = map(tree.trees[i]!, f)
      return { kind: 'alt', trees }
    }
    case 'union': {
      const trees = new Array<Weighted<U>>(tree.trees.length)
      for (let i = 0; i < trees.length; i++) {
        const w = tree.trees[i]!
        trees[i] = weighted(w.weight, map(w.tree, f))
      }
      return { kind: 'union', trees }
    }
    default:
      return tree
  }
}

function simplify<T>(tree: NameTree<T>): NameTree<T> {
  switch (tree.kind) {
    case 'alt': {
      const kept: NameTree<T>[] = []
      for (const child of tree.trees) {
        const s = simplify(child)
        if (s.kind === 'fail') {
          // Fail stops the fallback: nothing after it can ever be reached.
          kept.push(s)
          break
        }
        if (s.kind !== 'neg') kept.push(s)
      }
      if (kept.length === 0) return neg
      if (kept.length === 1) return kept[0]!
      return { kind: 'alt', trees: kept }
    }
    case 'union': {
      // A lone branch is just its tree, even a Fail: only a real split drops failed branches.
      if (tree.trees.length === 1) return simplify(tree.trees[0]!.tree)
      const kept: Weighted<T>[] = []
      for (const w of tree.trees) {
        const s = simplify(w.tree)
        if (s.kind !== 'fail' && s.kind !== 'neg') kept.push(weighted(w.weight, s))
      }
      if (kept.length === 0) return neg
      if (kept.length === 1) return kept[0]!.tree
      return { kind: 'union', trees: kept }
    }
    default:
      return tree
  }
}

// Finagle's private evaluator: Fail and Neg are kept apart so that an Alt can stop on Fail but move
// past Neg; a Leaf carries the set of values found so far.
type Evaluated<T> =
  | { readonly kind: 'fail' }
  | { readonly kind: 'neg' }
  | { readonly kind: 'set'; values: T[] }

function evaluate<T>(tree: NameTree<T>): Evaluated<T> {
  switch (tree.kind) {
    case 'fail':
    case 'neg':
      return tree
    case 'empty':
      return { kind: 'set', values: [] }
    case 'leaf':
      return { kind: 'set', values: [tree.value] }
    case 'alt':
      for (const child of tree.trees) {
        const e = evaluate(child)
        if (e.kind !== 'neg') return e
      }
      return neg
    case 'union': {
      if (tree.trees.length === 1) return evaluate(tree.trees[0]!.tree)
      let values: T[] | undefined
      for (const w of tree.trees) {
        const e = evaluate(w.tree)
        if (e.kind !== 'set') continue
        // Appending (not concat) keeps a wide union linear.
        if (values === undefined) values = e.values.slice()
        else for (const v of e.values) values.push(v)
      }
      return values === undefined ? neg : { kind: 'set', values }
    }
  }
}

// Finagle's eval builds a Set, so values count once under Scala equality: a Path or a Name.Path by
// its labels, a Name.Bound by its id alone.
function defaultKey(value: unknown): unknown {
  if (value instanceof Path) return `path:${value.show()}`
  if (value instanceof NamePath) return `name:${value.path.show()}`
  if (value instanceof NameBound) {
    const k = idKey(value.id)
    return typeof k === 'string' ? `bound:${k}` : k
  }
  return value
}

function evalTree<T>(
  tree: NameTree<T>,
  keyOf: (value: T) => unknown = defaultKey,
): ReadonlySet<T> | undefined {
  const e = evaluate(tree)
  if (e.kind !== 'set') return undefined
  const byKey = new Map<unknown, T>()
  for (const v of e.values) {
    const k = keyOf(v)
    if (!byKey.has(k)) byKey.set(k, v)
  }
  return new Set(byKey.values())
}

function defaultEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'object' && a !== null) {
    const eq = (a as { equals?: unknown }).equals
    if (typeof eq === 'function') return eq.call(a, b) === true
  }
  return false
}

function equals<T>(
  a: NameTree<T>,
  b: NameTree<T>,
  leafEquals: (x: T, y: T) => boolean = defaultEquals,
): boolean {
  if (a === b) return true
  switch (a.kind) {
    case 'leaf':
      return b.kind === 'leaf' && leafEquals(a.value, b.value)
    case 'alt':
      return (
        b.kind === 'alt' &&
        a.trees.length === b.trees.length &&
        a.trees.every((t, i) => equals(t, b.trees[i]!, leafEquals))
      )
    case 'union':
      return (
        b.kind === 'union' &&
        a.trees.length === b.trees.length &&
        a.trees.every((w, i) => {
          const v = b.trees[i]!
          return w.weight === v.weight && equals(w.tree, v.tree, leafEquals)
        })
      )
    default:
      return a.kind === b.kind
  }
}

function debugString<T>(tree: NameTree<T>, leafString: (value: T) => string = String): string {
  // Appends to one list of parts, so the cost is linear in the tree's size however deep it is.
  const out: string[] = []
  const go = (t: NameTree<T>): void => {
    switch (t.kind) {
      case 'leaf':
        out.push('Leaf(', leafString(t.value), ')')
        return
      case 'alt':
        out.push('Alt(')
        t.trees.forEach((c, i) => {
          if (i > 0) out.push(',')
          go(c)
        })
        out.push(')')
        return
      case 'union':
        out.push('Union(')
        t.trees.forEach((w, i) => {
          out.push(i > 0 ? ',Weighted(' : 'Weighted(', javaDoubleString(w.weight), ',')
          go(w.tree)
          out.push(')')
        })
        out.push(')')
        return
      case 'neg':
        out.push('Neg')
        return
      case 'fail':
        out.push('Fail')
        return
      case 'empty':
        out.push('Empty')
        return
    }
  }
  go(tree)
  return out.join('')
}

/**
 * Constructors and operations for {@link NameTree} values (Finagle's `NameTree` companion).
 *
 * @example
 * ```ts
 * import { NameTree, Path } from 'switchboard/naming'
 *
 * const t = NameTree.read('~ | 1 * /canary & 9 * /stable | !')
 * NameTree.show(t)                   // '~ | /canary & 9.00*\/stable | !'
 * NameTree.show(NameTree.simplify(t)) // '/canary & 9.00*\/stable | !'
 * NameTree.eval(t)                   // Set { Path(canary), Path(stable) }
 * NameTree.equals(NameTree.leaf(Path.read('/a')), NameTree.read('/a')) // true
 * ```
 */
export const NameTree = {
  /** `~`, no such name. */
  Neg: neg,
  /** `!`, failed: stops fallback. */
  Fail: fail,
  /** `$`, exists with no members. */
  Empty: empty,
  /** The weight of a union branch written without `w *`: `1`. */
  defaultWeight,
  /** A leaf holding `value`. */
  leaf,
  /** Fail-over between `trees`, in order. */
  alt,
  /** A weighted union of `trees`. */
  union,
  /** One weighted branch for {@link NameTree.union}. */
  weighted,
  /**
   * Reads a name tree; throws {@link ParseError}. Grammar (whitespace and `#` comments are allowed
   * between tokens, never inside a path):
   *
   * ```
   * tree     = tree1 { "|" tree1 }
   * tree1    = weighted { "&" weighted }
   * weighted = [ number "*" ] simple          number = (digit | ".") { digit | "." }
   * simple   = "(" tree ")" | path | "!" | "~" | "$"
   * ```
   *
   * `&` binds tighter than `|`; a weight applies to one `simple`, and is dropped when its `&` chain
   * has a single term (`3 * /a` reads as the leaf `/a`).
   */
  read: (text: string): NameTree<Path> => readNameTree(text, Path.from),
  /** Reads a name tree, returning the {@link ParseError} instead of throwing it. */
  parse: (text: string): Either<ParseError, NameTree<Path>> =>
    parseWith((t) => readNameTree(t, Path.from), text),
  /**
   * The canonical text form, which {@link NameTree.read} reads back: ` | ` and ` & ` separators,
   * weights as `%.2f*` (left out when exactly 1), parentheses only where needed. Leaves print with
   * `showLeaf`, by default their own `show()` (or `String(value)`).
   */
  show,
  /** Rewrites every leaf, keeping the structure and the weights. */
  map,
  /**
   * Removes what can never matter: Neg branches, everything after a Fail in an Alt, Fail and Neg
   * branches of a Union, empty and one-child Alts/Unions (a lone branch loses its weight).
   * Never flattens nesting, removes duplicates or normalises weights. Idempotent.
   */
  simplify,
  /**
   * The set of leaves a tree stands for, or `undefined` when it stands for nothing (Neg or Fail).
   * An Alt takes its first non-Neg branch (Fail stops it), a Union collects every branch that is not
   * Neg or Fail, Empty contributes the empty set; weights play no part. Values with the same
   * `keyOf` count once; by default a Path or a `Name.Path` counts by its labels, a `Name.Bound` by
   * its id (Finagle's `Name.Bound` equality), anything else by identity.
   */
  eval: evalTree,
  /** Structural equality; leaves compare with `leafEquals` (default: `===`, or the value's `equals`). */
  equals,
  /** Equality after simplification (Finagle's `NameTree.equiv`). */
  equiv: <T>(a: NameTree<T>, b: NameTree<T>, leafEquals?: (x: T, y: T) => boolean): boolean =>
    equals(simplify(a), simplify(b), leafEquals),
  /** Scala's case-class form, e.g. `Alt(Leaf(Path(a)),Neg)` or `Union(Weighted(1.0,Leaf(Path(a))),...)`. */
  toDebugString: debugString,
} as const
