import { Dentry } from './dentry.js'
import { type Name, NameBound } from './name.js'
import { NameTree } from './nametree.js'
import { Path } from './path.js'

interface Node {
  /** The path being resolved at this node. */
  readonly path: Path
  /** The dtab entry that produced this node (`Dentry.nop` at the root). */
  readonly dentry: Dentry
}

/**
 * A lookup failed here; `error` says why.
 *
 * @example
 * ```ts
 * { kind: 'exception', path, dentry, error }
 * ```
 */
export interface DelegateException extends Node {
  readonly kind: 'exception'
  readonly error: unknown
}
/**
 * `$`: the name exists with no members.
 *
 * @example
 * ```ts
 * { kind: 'empty', path, dentry }
 * ```
 */
export interface DelegateEmpty extends Node {
  readonly kind: 'empty'
}
/**
 * `!`: resolution fails here.
 *
 * @example
 * ```ts
 * { kind: 'fail', path, dentry }
 * ```
 */
export interface DelegateFail extends Node {
  readonly kind: 'fail'
}
/**
 * `~`: nothing matched (or an explicit `~`, whose path is then empty).
 *
 * @example
 * ```ts
 * { kind: 'neg', path: Path.empty, dentry: Dentry.read('/a=>~') }
 * ```
 */
export interface DelegateNeg extends Node {
  readonly kind: 'neg'
}
/**
 * One dentry rewrote `path` into `tree`.
 *
 * @example
 * ```ts
 * { kind: 'delegate', path, dentry, tree }
 * ```
 */
export interface DelegateDelegate<T> extends Node {
  readonly kind: 'delegate'
  readonly tree: DelegateTree<T>
}
/**
 * A name: bound at the end of delegation.
 *
 * @example
 * ```ts
 * { kind: 'leaf', path, dentry, value: bound }
 * ```
 */
export interface DelegateLeaf<T> extends Node {
  readonly kind: 'leaf'
  readonly value: T
}
/**
 * Several alternatives, the last matching dentry first; all of them are explained.
 *
 * @example
 * ```ts
 * { kind: 'alt', path, dentry, trees: [first, second] }
 * ```
 */
export interface DelegateAlt<T> extends Node {
  readonly kind: 'alt'
  readonly trees: readonly DelegateTree<T>[]
}
/**
 * A weighted branch of a union.
 *
 * @example
 * ```ts
 * { weight: 9, tree }
 * ```
 */
export interface DelegateWeighted<T> {
  readonly weight: number
  readonly tree: DelegateTree<T>
}
/**
 * A weighted union.
 *
 * @example
 * ```ts
 * { kind: 'union', path, dentry, trees: [{ weight: 1, tree: canary }, { weight: 9, tree: stable }] }
 * ```
 */
export interface DelegateUnion<T> extends Node {
  readonly kind: 'union'
  readonly trees: readonly DelegateWeighted<T>[]
}
/**
 * A transformer (`/%/...`) rewrote a bound name `value` into `tree`.
 *
 * @example
 * ```ts
 * { kind: 'transformation', path, name: 'io.l5d.port', value: bound, tree }
 * ```
 */
export interface DelegateTransformation<T> {
  readonly kind: 'transformation'
  readonly path: Path
  /** The transformer's name. */
  readonly name: string
  readonly value: T
  readonly tree: DelegateTree<T>
}

/**
 * How a path was delegated, step by step (linkerd's `DelegateTree`): every node records the path
 * being resolved and the dentry that produced it, so a user can see why a request went where it
 * went. Produced by `delegate`; encoded for namerd's `/api/1/delegate` by `delegateTreeJson`.
 *
 * @example
 * ```ts
 * const t: DelegateTree<NameBound> = await delegate(Dtab.read('/s=>/$/inet/127.0.0.1'), Path.read('/s/80')).toPromise()
 * t.kind // 'delegate'
 * ```
 */
export type DelegateTree<T> =
  | DelegateException
  | DelegateEmpty
  | DelegateFail
  | DelegateNeg
  | DelegateDelegate<T>
  | DelegateLeaf<T>
  | DelegateAlt<T>
  | DelegateUnion<T>
  | DelegateTransformation<T>

function withDentry<T>(t: DelegateTree<T>, dentry: Dentry): DelegateTree<T> {
  return t.kind === 'transformation' ? t : { ...t, dentry }
}

function fromNameTree<T>(path: Path, dentry: Dentry, tree: NameTree<T>): DelegateTree<T> {
  switch (tree.kind) {
    case 'empty':
      return { kind: 'empty', path, dentry }
    case 'fail':
      return { kind: 'fail', path, dentry }
    case 'neg':
      // linkerd gives an explicit `~` an empty path, which the JSON then prints as "~".
      return { kind: 'neg', path: Path.empty, dentry }
    case 'leaf':
      return { kind: 'leaf', path, dentry, value: tree.value }
    case 'alt':
      return { kind: 'alt', path, dentry, trees: tree.trees.map((t) => fromNameTree(path, dentry, t)) }
    case 'union':
      return {
        kind: 'union',
        path,
        dentry,
        trees: tree.trees.map((w) => ({ weight: w.weight, tree: fromNameTree(path, dentry, w.tree) })),
      }
  }
}

const isTerminal = (t: DelegateTree<unknown>) => t.kind === 'neg' || t.kind === 'fail' || t.kind === 'empty'

function simplify<T>(t: DelegateTree<T>): DelegateTree<T> {
  switch (t.kind) {
    case 'delegate': {
      const s = simplify(t.tree)
      // A delegate adds nothing when its child resolves the same path: keep the child, credited to
      // the delegate's dentry. Neg/Fail/Empty stay wrapped so the rule that led to them shows.
      if (!isTerminal(s) && s.path.equals(t.path)) return withDentry(s, t.dentry)
      return { ...t, tree: s }
    }
    case 'alt': {
      if (t.trees.length === 0) return { kind: 'neg', path: t.path, dentry: t.dentry }
      if (t.trees.length === 1)
        return simplify({ kind: 'delegate', path: t.path, dentry: t.dentry, tree: t.trees[0]! })
      const out: DelegateTree<T>[] = []
      for (const child of t.trees) {
        const s = simplify(child)
        if (s.kind === 'alt' && s.path.equals(t.path)) out.push(...s.trees)
        else out.push(s)
      }
      return { ...t, trees: out }
    }
    case 'union': {
      if (t.trees.length === 0) return { kind: 'neg', path: t.path, dentry: t.dentry }
      if (t.trees.length === 1) {
        return simplify({ kind: 'delegate', path: t.path, dentry: t.dentry, tree: t.trees[0]!.tree })
      }
      return { ...t, trees: t.trees.map((w) => ({ weight: w.weight, tree: simplify(w.tree) })) }
    }
    default:
      return t
  }
}

function toNameTree<T>(t: DelegateTree<T>): NameTree<T> {
  switch (t.kind) {
    case 'exception':
      throw t.error
    case 'empty':
      return NameTree.Empty
    case 'fail':
      return NameTree.Fail
    case 'neg':
      return NameTree.Neg
    case 'delegate':
    case 'transformation':
      return toNameTree(t.tree)
    case 'leaf':
      return NameTree.leaf(t.value)
    case 'alt':
      return NameTree.alt(...t.trees.map(toNameTree))
    case 'union':
      return NameTree.union(...t.trees.map((w) => NameTree.weighted(w.weight, toNameTree(w.tree))))
  }
}

function dentryLabel(d: Dentry): string {
  return d.equiv(Dentry.nop) ? '' : d.show()
}

function find<T>(t: DelegateTree<T>, matches: (value: T) => boolean): [Path, string][] | undefined {
  switch (t.kind) {
    case 'leaf':
      return matches(t.value) ? [[t.path, dentryLabel(t.dentry)]] : undefined
    case 'transformation': {
      const child = t.tree
      if (child.kind === 'leaf' && matches(child.value)) {
        return [
          [t.path, dentryLabel(child.dentry)],
          [child.path, t.name],
        ]
      }
      const rest = find(child, matches)
      return rest && [[t.path, t.name], ...rest]
    }
    case 'delegate': {
      const rest = find(t.tree, matches)
      return rest && [[t.path, dentryLabel(t.dentry)], ...rest]
    }
    case 'alt':
    case 'union':
      for (const c of t.trees) {
        const rest = find('weight' in c ? c.tree : c, matches)
        if (rest) return [[t.path, dentryLabel(t.dentry)], ...rest]
      }
      return undefined
    default:
      return undefined
  }
}

function leafText(value: unknown): string {
  if (value instanceof NameBound) {
    const residual = value.path.isEmpty ? '' : ` (residual ${value.path.show()})`
    return `${value.idStr}${residual}`
  }
  if (typeof value === 'object' && value !== null && 'show' in value) return (value as Name).show()
  return String(value)
}

function render<T>(tree: DelegateTree<T>, describe: (value: T) => string = leafText): string {
  const lines: string[] = []
  const label = (t: DelegateTree<T>): string => {
    const via = t.kind !== 'transformation' && dentryLabel(t.dentry) ? `  (${dentryLabel(t.dentry)})` : ''
    switch (t.kind) {
      case 'exception':
        return `${t.path.show()}  error: ${t.error instanceof Error ? t.error.message : String(t.error)}${via}`
      case 'empty':
        return `${t.path.show()}  $ empty${via}`
      case 'fail':
        return `${t.path.show()}  ! fail${via}`
      case 'neg':
        return `${t.path.isEmpty ? '~' : `${t.path.show()}  ~ no match`}${via}`
      case 'leaf':
        return `${t.path.show()}  => ${describe(t.value)}${via}`
      case 'delegate':
        return `${t.path.show()}${via}`
      case 'alt':
        return `${t.path.show()}  first of${via}`
      case 'union':
        return `${t.path.show()}  union${via}`
      case 'transformation':
        return `${t.path.show()}  transformed by ${t.name}`
    }
  }
  const children = (t: DelegateTree<T>): [string, DelegateTree<T>][] => {
    switch (t.kind) {
      case 'delegate':
      case 'transformation':
        return [['', t.tree]]
      case 'alt':
        return t.trees.map((c) => ['', c])
      case 'union':
        return t.trees.map((w) => [`${w.weight} * `, w.tree])
      default:
        return []
    }
  }
  const write = (t: DelegateTree<T>, lead: string, rest: string) => {
    lines.push(`${lead}${label(t)}`)
    const cs = children(t)
    cs.forEach(([weight, c], i) => {
      const last = i === cs.length - 1
      write(c, `${rest}${last ? '└─ ' : '├─ '}${weight}`, `${rest}${last ? '   ' : '│  '}`)
    })
  }
  write(tree, '', '')
  return lines.join('\n')
}

/**
 * Functions on `DelegateTree` values.
 *
 * @example
 * ```ts
 * const t = DelegateTree.fromNameTree(Path.read('/a'), Dentry.nop, NameTree.read('/b | ~'))
 * DelegateTree.simplify(t).kind // 'alt'
 * console.log(DelegateTree.render(t))
 * ```
 */
export const DelegateTree = {
  /**
   * Copies a name tree's structure, giving every node `path` and `dentry`. As in linkerd, a Neg
   * gets the empty path (an explicit `~` destination).
   */
  fromNameTree,
  /**
   * linkerd's simplification: a Delegate whose (simplified) child has the same path and is not
   * Neg/Fail/Empty collapses into the child, which takes the Delegate's dentry; empty Alts and
   * Unions become Neg, one-child ones a Delegate (a lone union branch loses its weight); an Alt
   * splices in child Alts that have the same path.
   */
  simplify,
  /** The name tree the delegation stands for; an Exception node throws its error. */
  toNameTree,
  /**
   * The steps (path, dentry text; `''` for the root's no-op dentry) from the root to the first leaf,
   * depth first, whose value satisfies `matches`; `undefined` when none does.
   */
  find,
  /** The same tree with another dentry on its root (a Transformation has none). */
  withDentry,
  /**
   * A human-readable, indented rendering (one node per line, the dentry that produced it in
   * brackets), as the dtab playground shows it.
   */
  render,
} as const
