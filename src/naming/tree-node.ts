/**
 * The NameTree node types and their constructors, apart from the operations so that the parser can
 * build trees without depending on the module that uses the parser.
 */

/**
 * A leaf: one destination.
 *
 * @example
 * ```ts
 * const leaf: Leaf<Path> = NameTree.leaf(Path.read('/s/users'))
 * ```
 */
export interface Leaf<T> {
  readonly kind: 'leaf'
  readonly value: T
}

/**
 * Fail-over: the first alternative that is not negative wins (`/a | /b`).
 *
 * @example
 * ```ts
 * const alt = NameTree.read('/a | /b') as Alt<Path>
 * alt.trees.length // 2
 * ```
 */
export interface Alt<T> {
  readonly kind: 'alt'
  readonly trees: readonly NameTree<T>[]
}

/**
 * A weighted branch of a {@link Union}.
 *
 * @example
 * ```ts
 * const w: Weighted<Path> = NameTree.weighted(9, NameTree.leaf(Path.read('/stable')))
 * ```
 */
export interface Weighted<T> {
  readonly weight: number
  readonly tree: NameTree<T>
}

/**
 * All branches at once, traffic split by weight (`1 * /canary & 9 * /stable`).
 *
 * @example
 * ```ts
 * const u = NameTree.read('1 * /canary & 9 * /stable') as Union<Path>
 * u.trees.map((w) => w.weight) // [1, 9]
 * ```
 */
export interface Union<T> {
  readonly kind: 'union'
  readonly trees: readonly Weighted<T>[]
}

/**
 * `~`: no such name; an enclosing Alt tries its next alternative.
 *
 * @example
 * ```ts
 * NameTree.read('~') === NameTree.Neg // true
 * ```
 */
export interface Neg {
  readonly kind: 'neg'
}

/**
 * `!`: resolution failed; stops any fallback.
 *
 * @example
 * ```ts
 * NameTree.read('!') === NameTree.Fail // true
 * ```
 */
export interface Fail {
  readonly kind: 'fail'
}

/**
 * `$`: the name exists but has no members.
 *
 * @example
 * ```ts
 * NameTree.read('$') === NameTree.Empty // true
 * ```
 */
export interface Empty {
  readonly kind: 'empty'
}

/** A tree of destinations; see `NameTree` in `nametree.ts`. */
export type NameTree<T> = Leaf<T> | Alt<T> | Union<T> | Neg | Fail | Empty

export const neg: Neg = Object.freeze({ kind: 'neg' })
export const fail: Fail = Object.freeze({ kind: 'fail' })
export const empty: Empty = Object.freeze({ kind: 'empty' })

/** The weight of a union branch written without `w *`. */
export const defaultWeight = 1

export function leaf<T>(value: T): Leaf<T> {
  return { kind: 'leaf', value }
}

export function alt<T>(...trees: readonly NameTree<T>[]): Alt<T> {
  return { kind: 'alt', trees }
}

export function weighted<T>(weight: number, tree: NameTree<T>): Weighted<T> {
  return { weight, tree }
}

export function union<T>(...trees: readonly Weighted<T>[]): Union<T> {
  return { kind: 'union', trees }
}
