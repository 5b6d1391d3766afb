import type { Either } from 'fp-ts/lib/Either.js'
import { Dentry, Prefix } from './dentry.js'
import { NameTree } from './nametree.js'
import type { ParseError } from './parse-error.js'
import { parseWith, readDtab } from './parser.js'
import { Path } from './path.js'

/** The text of each dtab that was shown, kept only as long as the dtab itself. */
const shownDtabs = new WeakMap<Dtab, string>()

/**
 * A delegation table: an ordered list of {@link Dentry} rules that rewrite paths (Finagle's `Dtab`).
 * Later entries win: {@link Dtab.lookup} tries them from last to first, so appending a dtab
 * overrides the rules before it.
 *
 * @example
 * ```ts
 * import { Dtab, NameTree, Path } from 'switchboard/naming'
 *
 * const dtab = Dtab.read(`
 *   /srv => /#/io.l5d.consul/dc1;
 *   /svc => /srv;                        # every service lives in consul dc1...
 *   /svc/users => 1 * /srv/users-v2 & 9 * /srv/users;   # ...and users is a 10% canary
 * `)
 * dtab.show()
 * // '/srv=>/#/io.l5d.consul/dc1;/svc=>/srv;/svc/users=>/srv/users-v2 & 9.00*\/srv/users'
 * NameTree.show(dtab.lookup(Path.read('/svc/users/42')))
 * // '/srv/users-v2/42 & 9.00*\/srv/users/42 | /srv/users/42'
 * ```
 */

export class Dtab {
  /** The rules, in order (the last one is tried first). */
  readonly entries: readonly Dentry[]
  /**
   * @example
   * ```ts
   * new Dtab([Dentry.read('/a=>/b')]).show() // '/a=>/b'
   * ```
   */
  constructor(entries: readonly Dentry[]) {
    this.entries = entries
  }

  /** The dtab with no entries; shows as the empty string. */
  static readonly empty: Dtab = new Dtab([])

  /** Finagle's `Dtab.fail`, `/=>!`: every path fails. */
  static readonly fail: Dtab = new Dtab([new Dentry(Prefix.empty, NameTree.Fail)])

  /**
   * A dtab of the given entries.
   *
   * @example
   * ```ts
   * Dtab.of(Dentry.read('/a=>/b'), Dentry.read('/c=>/d')).size // 2
   * ```
   */
  static of(...entries: readonly Dentry[]): Dtab {
    return entries.length === 0 ? Dtab.empty : new Dtab(entries)
  }

  /**
   * Reads a dtab; throws {@link ParseError}. Grammar: `dtab = [ dentry { ";" dentry } [ ";" ] ]`,
   * `dentry = prefix "=>" tree`. Whitespace and `#` comments (to the end of the line) may appear
   * between tokens; newlines mean nothing special. One trailing `;` is allowed; `;;` and a leading
   * `;` are errors. Empty text, or only comments, is the empty dtab.
   *
   * @example
   * ```ts
   * Dtab.read('/a => /b; /c => /d;').size // 2
   * Dtab.read('/a=>/b;;') // throws: '/' expected but ';' found at '/a=>/b;[;]'
   * ```
   */
  static read(text: string): Dtab {
    const entries = readDtab(text, Path.from)
    if (entries.length === 0) return Dtab.empty
    return new Dtab(entries.map(({ prefix, dst }) => new Dentry(Prefix.from(prefix), dst)))
  }

  /**
   * Reads a dtab, returning the {@link ParseError} instead of throwing it; use it for text you do
   * not control (headers, files, HTTP bodies).
   *
   * @example
   * ```ts
   * import { isLeft } from 'fp-ts/lib/Either.js'
   * isLeft(Dtab.parse('/a=>')) // true
   * ```
   */
  static parse(text: string): Either<ParseError, Dtab> {
    return parseWith(Dtab.read, text)
  }

  /** Number of entries. @example `Dtab.read('/a=>/b;/c=>/d').size // 2` */
  get size(): number {
    return this.entries.length
  }

  /** True when there are no entries. @example `Dtab.read('# nothing').isEmpty // true` */
  get isEmpty(): boolean {
    return this.entries.length === 0
  }

  /** The entries, in order. @example `for (const d of Dtab.read('/a=>/b')) d.show() // '/a=>/b'` */
  [Symbol.iterator](): Iterator<Dentry> {
    return this.entries[Symbol.iterator]()
  }

  /**
   * This dtab with `dentry` added at the end (Finagle's `d + dentry`).
   *
   * @example
   * ```ts
   * Dtab.read('/a=>/b').append(Dentry.read('/a=>/c')).show() // '/a=>/b;/a=>/c'
   * ```
   */
  append(dentry: Dentry): Dtab {
    return new Dtab([...this.entries, dentry])
  }

  /**
   * This dtab followed by `other`'s entries (Finagle's `++`): `other` takes precedence. Returns
   * `this` itself when `other` is empty; duplicates are kept.
   *
   * @example
   * ```ts
   * const base = Dtab.read('/svc=>/srv/prod')
   * const local = Dtab.read('/svc/users=>/srv/staging/users')
   * base.concat(local).show() // '/svc=>/srv/prod;/svc/users=>/srv/staging/users'
   * ```
   */
  concat(other: Dtab): Dtab {
    if (other.entries.length === 0) return this
    if (this.entries.length === 0) return other
    return new Dtab([...this.entries, ...other.entries])
  }

  /**
   * Rewrites `path` by every entry whose prefix matches it, trying the entries from last to first.
   * Each match gives its dst with the rest of the path (after the prefix; a `*` consumes one label)
   * appended to every leaf, weights and structure kept. No match gives `Neg`, one match gives that
   * tree, several give an `Alt` of them, last entry first (nested Alts and duplicates are kept).
   *
   * @example
   * ```ts
   * const dtab = Dtab.read('/foo/bar=>/xxx;/foo=>/yyy')
   * NameTree.show(dtab.lookup(Path.read('/foo/bar/baz'))) // '/yyy/bar/baz | /xxx/baz'
   * NameTree.show(dtab.lookup(Path.read('/nope')))        // '~'
   * ```
   */
  lookup(path: Path): NameTree<Path> {
    const matches: NameTree<Path>[] = []
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const { prefix, dst } = this.entries[i]!
      if (prefix.matches(path)) {
        const suffix = path.drop(prefix.size)
        matches.push(suffix.isEmpty ? dst : NameTree.map(dst, (p) => p.concat(suffix)))
      }
    }
    if (matches.length === 0) return NameTree.Neg
    if (matches.length === 1) return matches[0]!
    return { kind: 'alt', trees: matches }
  }

  /**
   * This dtab without `prefix`'s entries at its start, checked in Finagle's order: the empty dtab
   * if `prefix` is this very object; `this` if this dtab is empty or shorter than `prefix`; `this`
   * unless every entry of `prefix` equals (structurally, not {@link Dentry.equiv}) the entry at the
   * same position; otherwise the remaining entries.
   *
   * @example
   * ```ts
   * const d = Dtab.read('/a=>/b;/c=>/d')
   * d.stripPrefix(Dtab.read('/a => /b')).show() // '/c=>/d'
   * d.stripPrefix(Dtab.read('/a=>/b | ~')).show() // '/a=>/b;/c=>/d' (not equal, only equivalent)
   * ```
   */
  stripPrefix(prefix: Dtab): Dtab {
    if (this === prefix) return Dtab.empty
    if (this.entries.length === 0 || this.entries.length < prefix.entries.length) return this
    for (let i = 0; i < prefix.entries.length; i++) {
      if (!this.entries[i]!.equals(prefix.entries[i]!)) return this
    }
    if (this.entries.length === prefix.entries.length) return Dtab.empty
    return new Dtab(this.entries.slice(prefix.entries.length))
  }

  /**
   * Every dst simplified ({@link NameTree.simplify}), and the entries whose dst became `~` dropped.
   *
   * @example
   * ```ts
   * Dtab.read('/a=>~ | ~;/b=>/c | ~').simplified().show() // '/b=>/c'
   * ```
   */
  simplified(): Dtab {
    const out: Dentry[] = []
    for (const d of this.entries) {
      const dst = NameTree.simplify(d.dst)
      if (dst.kind !== 'neg') out.push(new Dentry(d.prefix, dst))
    }
    return new Dtab(out)
  }

  /** Same entries in the same order, compared structurally. @example `Dtab.read('/a => /b').equals(Dtab.read('/a=>/b')) // true` */
  equals(other: Dtab): boolean {
    if (this === other) return true
    if (this.entries.length !== other.entries.length) return false
    return this.entries.every((d, i) => d.equals(other.entries[i]!))
  }

  /** Same length and pairwise {@link Dentry.equiv}. @example `Dtab.read('/a=>/b | ~').equiv(Dtab.read('/a=>/b')) // true` */
  equiv(other: Dtab): boolean {
    if (this.entries.length !== other.entries.length) return false
    return this.entries.every((d, i) => d.equiv(other.entries[i]!))
  }

  /**
   * The canonical one-line form: entries' shows joined by `;`, no spaces, no trailing `;`; the
   * empty dtab shows as `''`. This is the form linkerd and namerd send on the wire.
   *
   * @example
   * ```ts
   * Dtab.read('/a => /b;\n/c => /d;').show() // '/a=>/b;/c=>/d'
   * ```
   */
  show(): string {
    // A dtab is immutable: its text is computed once (stores, versions and renders all ask).
    let text = shownDtabs.get(this)
    if (text === undefined) {
      text = this.entries.map((d) => d.show()).join(';')
      shownDtabs.set(this, text)
    }
    return text
  }

  /**
   * namerctl's multi-line form: one entry per line, the `=>` column two places after the longest
   * prefix, each line ending in ` ;`. It reads back as the same dtab.
   *
   * @example
   * ```ts
   * Dtab.read('/foo=>/bar;/foo/bar/baz=>/bah').pretty()
   * // '/foo          => /bar ;\n/foo/bar/baz  => /bah ;\n'
   * ```
   */
  pretty(): string {
    const prefixes = this.entries.map((d) => d.prefix.show())
    const width = prefixes.reduce((m, p) => Math.max(m, p.length), 0) + 2
    return this.entries.map((d, i) => `${prefixes[i]!.padEnd(width)}=> ${NameTree.show(d.dst)} ;\n`).join('')
  }

  /**
   * Finagle's `Dtab.print` form: `Dtab(<n>)`, then one line per entry, `\t<prefix> => <dst>`.
   *
   * @example
   * ```ts
   * Dtab.read('/a=>/b').print() // 'Dtab(1)\n\t/a => /b\n'
   * ```
   */
  print(): string {
    let out = `Dtab(${this.entries.length})\n`
    for (const d of this.entries) out += `\t${d.prefix.show()} => ${NameTree.show(d.dst)}\n`
    return out
  }

  /** Finagle's debug form `Dtab(<show>)`. @example `Dtab.read('/a=>/b').toString() // 'Dtab(/a=>/b)'` */
  toString(): string {
    return `Dtab(${this.show()})`
  }
}
