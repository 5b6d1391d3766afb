import type { Either } from 'fp-ts/lib/Either.js'
import { SwitchboardError } from '../core/errors.js'
import { canonicalLabel, showLabel } from './label.js'
import type { ParseError } from './parse-error.js'
import { parseWith, readPath } from './parser.js'

/**
 * A path was built in code with an empty label (`Path.of('a', '')`). Labels are never empty; the
 * text form has no way to write one (`/a//b` does not parse).
 *
 * @example
 * ```ts
 * try { Path.of('a', '') } catch (e) { (e as InvalidLabelError).code } // 'InvalidLabel'
 * ```
 */
export class InvalidLabelError extends SwitchboardError {
  /** Position of the offending label in the argument list. */
  readonly index: number
  constructor(index: number) {
    super('InvalidLabel', `requirement failed: label ${index} is empty`)
    this.index = index
  }
}

/** Checks and canonicalises labels given by a caller (see `label.ts` for the byte mapping). */
export function checkLabels(labels: readonly string[]): string[] {
  const out = new Array<string>(labels.length)
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!
    if (label.length === 0) throw new InvalidLabelError(i)
    out[i] = canonicalLabel(label)
  }
  return out
}

/**
 * A hierarchical name, `/s/users/v2`: an ordered list of non-empty labels (Finagle's `Path`).
 * `/` alone is the empty path.
 *
 * Labels are strings whose UTF-8 bytes are the label's bytes. In the text form a label is made of
 * `0-9 A-Z a-z _ : . # $ % -` and `\xHH` escapes for any other byte; {@link Path.show} writes a
 * label as-is when every character is one of those 66, and otherwise writes every byte escaped
 * (`/a b` shows as `/\x61\x20\x62`).
 *
 * @example
 * ```ts
 * import { Path } from 'switchboard/naming'
 *
 * const p = Path.read('/s/users')
 * p.segments                        // ['s', 'users']
 * p.concat(Path.of('v2')).show()    // '/s/users/v2'
 * p.startsWith(Path.read('/s'))     // true
 * Path.of('a b').show()             // '/\\x61\\x20\\x62'
 * ```
 */
export class Path {
  /** The labels, in order. */
  readonly segments: readonly string[]

  private constructor(segments: readonly string[]) {
    this.segments = segments
  }

  /** The path with no labels, shown as `/`. */
  static readonly empty: Path = new Path([])

  /**
   * A path of the given labels (each UTF-8 encoded); throws {@link InvalidLabelError} for an empty
   * label.
   *
   * @example
   * ```ts
   * Path.of('s', 'users').show() // '/s/users'
   * ```
   */
  static of(...segments: readonly string[]): Path {
    return Path.from(segments)
  }

  /**
   * A path of the labels in `segments`, like {@link Path.of} but from an iterable.
   *
   * @example
   * ```ts
   * Path.from('/s/users'.split('/').slice(1)).show() // '/s/users'
   * ```
   */
  static from(segments: Iterable<string>): Path {
    const labels = checkLabels(Array.isArray(segments) ? segments : [...segments])
    return labels.length === 0 ? Path.empty : new Path(labels)
  }

  /**
   * Reads the text form; throws {@link ParseError}. Grammar:
   * `path = "/" [ label { "/" label } ]`, `label = { showable | "\x" hex hex }` (at least one),
   * with whitespace and `#` comments allowed before and after, never inside.
   *
   * @example
   * ```ts
   * Path.read('/foo/bar').segments // ['foo', 'bar']
   * Path.read('/\\x66oo').equals(Path.of('foo')) // true
   * Path.read('/foo/') // throws ParseError "label char expected but end of input found at '/foo/[]'"
   * ```
   */
  static read(text: string): Path {
    const labels = readPath(text)
    return labels.length === 0 ? Path.empty : new Path(labels)
  }

  /**
   * Reads the text form, returning the {@link ParseError} instead of throwing it.
   *
   * @example
   * ```ts
   * Path.parse('/a') // right(Path(a))
   * Path.parse('a')  // left(ParseError "'/' expected but 'a' found at '[a]'")
   * ```
   */
  static parse(text: string): Either<ParseError, Path> {
    return parseWith(Path.read, text)
  }

  /** Number of labels. @example `Path.read('/a/b').size // 2` */
  get size(): number {
    return this.segments.length
  }

  /** True for `/`. @example `Path.read('/').isEmpty // true` */
  get isEmpty(): boolean {
    return this.segments.length === 0
  }

  /** The first `n` labels (clamped). @example `Path.read('/a/b/c').take(2).show() // '/a/b'` */
  take(n: number): Path {
    if (n >= this.segments.length) return this
    return n <= 0 ? Path.empty : new Path(this.segments.slice(0, n))
  }

  /** All but the first `n` labels (clamped). @example `Path.read('/a/b/c').drop(1).show() // '/b/c'` */
  drop(n: number): Path {
    if (n <= 0) return this
    return n >= this.segments.length ? Path.empty : new Path(this.segments.slice(n))
  }

  /**
   * True when `prefix`'s labels are the first labels of this path (whole labels, byte for byte).
   *
   * @example
   * ```ts
   * Path.read('/foo/bar').startsWith(Path.read('/foo')) // true
   * Path.read('/foobar').startsWith(Path.read('/foo'))  // false
   * ```
   */
  startsWith(prefix: Path): boolean {
    const p = prefix.segments
    if (p.length > this.segments.length) return false
    for (let i = 0; i < p.length; i++) if (p[i] !== this.segments[i]) return false
    return true
  }

  /**
   * This path followed by `other` (Finagle's `++`); returns `this` itself when `other` is empty.
   *
   * @example
   * ```ts
   * Path.read('/a').concat(Path.read('/b/c')).show() // '/a/b/c'
   * ```
   */
  concat(other: Path): Path {
    if (other.segments.length === 0) return this
    if (this.segments.length === 0) return other
    return new Path(this.segments.concat(other.segments))
  }

  /** Same labels in the same order. @example `Path.read('/a').equals(Path.of('a')) // true` */
  equals(other: Path): boolean {
    if (this === other) return true
    const a = this.segments
    const b = other.segments
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }

  /**
   * The canonical text form, which {@link Path.read} reads back: `/` plus the shown labels joined
   * by `/`; `/` for the empty path.
   *
   * @example
   * ```ts
   * Path.of('foo', 'é').show() // '/foo/\\xc3\\xa9'
   * ```
   */
  show(): string {
    if (this.segments.length === 0) return '/'
    let out = ''
    for (const s of this.segments) out += `/${showLabel(s)}`
    return out
  }

  /** Finagle's debug form `Path(a,b)`. @example `Path.read('/a/b').toString() // 'Path(a,b)'` */
  toString(): string {
    return `Path(${this.segments.map(showLabel).join(',')})`
  }
}
