import type { Either } from 'fp-ts/lib/Either.js'
import { showLabel } from './label.js'
import { NameTree } from './nametree.js'
import type { ParseError } from './parse-error.js'
import { parseWith, readDentry, readPrefix } from './parser.js'
import { checkLabels, Path } from './path.js'

/**
 * One element of a {@link Prefix}: a literal label, or the wildcard `*` that matches any one label.
 *
 * @example
 * ```ts
 * const elems: PrefixElem[] = [Prefix.label('svc'), Prefix.any]
 * ```
 */
export type PrefixElem = { readonly kind: 'label'; readonly label: string } | { readonly kind: 'any' }

const anyElem: PrefixElem = Object.freeze({ kind: 'any' })

/**
 * The left side of a dentry: a path pattern whose elements are labels or the wildcard `*`
 * (Finagle's `Dentry.Prefix`). `*` is a wildcard only as a whole element; the label `\x2a` is a
 * literal `*` and shows escaped.
 *
 * @example
 * ```ts
 * import { Path, Prefix } from 'switchboard/naming'
 *
 * const p = Prefix.read('/svc/*\/users')
 * p.matches(Path.read('/svc/eu/users/42')) // true
 * p.matches(Path.read('/svc/eu'))          // false: longer than the path
 * p.show()                                 // '/svc/*\/users'
 * ```
 */
export class Prefix {
  /** The elements, in order. */
  readonly elems: readonly PrefixElem[]

  private constructor(elems: readonly PrefixElem[]) {
    this.elems = elems
  }

  /** The prefix `/`, which matches every path. */
  static readonly empty: Prefix = new Prefix([])

  /** The wildcard element `*`. */
  static readonly any: PrefixElem = anyElem

  /**
   * A label element; throws {@link InvalidLabelError} when `label` is empty.
   *
   * @example
   * ```ts
   * Prefix.label('*') // a literal label `*`, shown as `\x2a`, not a wildcard
   * ```
   */
  static label(label: string): PrefixElem {
    return { kind: 'label', label: checkLabels([label])[0]! }
  }

  /**
   * A prefix of the given elements; strings are labels.
   *
   * @example
   * ```ts
   * Prefix.of('svc', Prefix.any).show() // '/svc/*'
   * ```
   */
  static of(...elems: readonly (PrefixElem | string)[]): Prefix {
    return Prefix.from(elems)
  }

  /**
   * A prefix of the elements in `elems`, like {@link Prefix.of} but from an iterable.
   *
   * @example
   * ```ts
   * Prefix.from(['svc', Prefix.any]).show() // '/svc/*'
   * ```
   */
  static from(elems: Iterable<PrefixElem | string>): Prefix {
    const out: PrefixElem[] = []
    for (const e of elems) {
      if (typeof e === 'string') out.push(Prefix.label(e))
      else out.push(e.kind === 'any' ? anyElem : Prefix.label(e.label))
    }
    return Prefix.fromElems(out)
  }

  private static fromElems(elems: PrefixElem[]): Prefix {
    return elems.length === 0 ? Prefix.empty : new Prefix(elems)
  }

  /**
   * The prefix whose labels are `path`'s labels.
   *
   * @example
   * ```ts
   * Prefix.fromPath(Path.read('/a/b')).show() // '/a/b'
   * ```
   */
  static fromPath(path: Path): Prefix {
    if (path.isEmpty) return Prefix.empty
    return new Prefix(path.segments.map((label) => ({ kind: 'label', label })))
  }

  /**
   * Reads a prefix; throws {@link ParseError}. Grammar: `prefix = "/" [ elem { "/" elem } ]`,
   * `elem = "*" | label`.
   *
   * @example
   * ```ts
   * Prefix.read('/a/*\/c').size // 3
   * Prefix.read('/a*')          // throws: end of input expected but '*' found at '/a[*]'
   * ```
   */
  static read(text: string): Prefix {
    return Prefix.fromElems(readPrefix(text))
  }

  /**
   * Reads a prefix, returning the {@link ParseError} instead of throwing it.
   *
   * @example
   * ```ts
   * Prefix.parse('/a/*') // right(Prefix(a,*))
   * ```
   */
  static parse(text: string): Either<ParseError, Prefix> {
    return parseWith(Prefix.read, text)
  }

  /** Number of elements. @example `Prefix.read('/a/*').size // 2` */
  get size(): number {
    return this.elems.length
  }

  /** True for `/`. @example `Prefix.read('/').isEmpty // true` */
  get isEmpty(): boolean {
    return this.elems.length === 0
  }

  /**
   * True when the path is at least as long as the prefix and every label equals the path's label
   * at that position (byte for byte, so case matters); `*` matches any one label. The empty prefix
   * matches every path.
   *
   * @example
   * ```ts
   * Prefix.read('/a/*').matches(Path.read('/a/b/c')) // true
   * Prefix.read('/*').matches(Path.empty)            // false
   * ```
   */
  matches(path: Path): boolean {
    const segs = path.segments
    const elems = this.elems
    if (elems.length > segs.length) return false
    for (let i = 0; i < elems.length; i++) {
      const e = elems[i]!
      if (e.kind === 'label' && e.label !== segs[i]) return false
    }
    return true
  }

  /** Same elements. @example `Prefix.read('/a/*').equals(Prefix.of('a', Prefix.any)) // true` */
  equals(other: Prefix): boolean {
    if (this === other) return true
    if (this.elems.length !== other.elems.length) return false
    return this.elems.every((e, i) => {
      const o = other.elems[i]!
      return e.kind === 'any' ? o.kind === 'any' : o.kind === 'label' && o.label === e.label
    })
  }

  /**
   * The canonical text form: `*` for a wildcard, labels as in {@link Path.show}; `/` when empty.
   *
   * @example
   * ```ts
   * Prefix.of('a', Prefix.any, '*').show() // '/a/*\/\\x2a'
   * ```
   */
  show(): string {
    if (this.elems.length === 0) return '/'
    let out = ''
    for (const e of this.elems) out += e.kind === 'any' ? '/*' : `/${showLabel(e.label)}`
    return out
  }

  /** Finagle's debug form `Prefix(a,*,b)`. @example `Prefix.read('/a/*').toString() // 'Prefix(a,*)'` */
  toString(): string {
    return `Prefix(${this.elems.map((e) => (e.kind === 'any' ? '*' : showLabel(e.label))).join(',')})`
  }
}

/**
 * One delegation rule, `prefix => dst`: a path starting with `prefix` is rewritten to `dst` with the
 * rest of the path appended to every leaf (Finagle's `Dentry`).
 *
 * @example
 * ```ts
 * import { Dentry } from 'switchboard/naming'
 *
 * const d = Dentry.read('/svc => /#/io.l5d.consul/dc1')
 * d.prefix.show()  // '/svc'
 * d.show()         // '/svc=>/#/io.l5d.consul/dc1'
 * ```
 */
export class Dentry {
  readonly prefix: Prefix
  readonly dst: NameTree<Path>

  /**
   * @example
   * ```ts
   * new Dentry(Prefix.read('/a'), NameTree.read('/b | ~'))
   * ```
   */
  constructor(prefix: Prefix, dst: NameTree<Path>) {
    this.prefix = prefix
    this.dst = dst
  }

  /**
   * Finagle's no-op entry `Dentry(Prefix(Label("/")), Neg)`: a single label holding the byte `/`,
   * so it shows as `/\x2f=>~` and matches no path that a dtab text can name.
   */
  static readonly nop: Dentry = new Dentry(Prefix.of('/'), NameTree.Neg)

  /**
   * Reads `prefix => tree`; throws {@link ParseError}. `=>` must be written without a space
   * between `=` and `>`.
   *
   * @example
   * ```ts
   * Dentry.read('/a => /b | /c').dst.kind // 'alt'
   * Dentry.read('/a = > /b') // throws: '>' expected but ' ' found at '/a =[ ]> /b'
   * ```
   */
  static read(text: string): Dentry {
    const { prefix, dst } = readDentry(text, Path.from)
    return new Dentry(Prefix.from(prefix), dst)
  }

  /**
   * Reads a dentry, returning the {@link ParseError} instead of throwing it.
   *
   * @example
   * ```ts
   * Dentry.parse('/a=>/b') // right(Dentry(/a=>/b))
   * ```
   */
  static parse(text: string): Either<ParseError, Dentry> {
    return parseWith(Dentry.read, text)
  }

  /** Same prefix and structurally equal dst. @example `Dentry.read('/a => /b').equals(Dentry.read('/a=>/b')) // true` */
  equals(other: Dentry): boolean {
    return this === other || (this.prefix.equals(other.prefix) && NameTree.equals(this.dst, other.dst))
  }

  /** Same prefix and equal dst after simplification. @example `Dentry.read('/a=>/b | ~').equiv(Dentry.read('/a=>/b')) // true` */
  equiv(other: Dentry): boolean {
    return this.prefix.equals(other.prefix) && NameTree.equiv(this.dst, other.dst)
  }

  /**
   * The canonical text form `prefix=>dst`, with no spaces around `=>`.
   *
   * @example
   * ```ts
   * Dentry.read('/a => 2 * /b & /c').show() // '/a=>2.00*\/b & /c'
   * ```
   */
  show(): string {
    return `${this.prefix.show()}=>${NameTree.show(this.dst)}`
  }

  /** Finagle's debug form `Dentry(<show>)`. @example `Dentry.read('/a=>/b').toString() // 'Dentry(/a=>/b)'` */
  toString(): string {
    return `Dentry(${this.show()})`
  }
}
