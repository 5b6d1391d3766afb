/**
 * The one parser behind every `read`: Path, Prefix, NameTree, Dentry and Dtab (Finagle's
 * `NameTreeParsers`). Hand-written recursive descent over UTF-16 code units, so that error
 * messages can say exactly what was expected, what was found and where, in Finagle's words.
 *
 * ```
 * label    = lchar { lchar }                 lchar = showable | "\x" hex hex
 * path     = ws "/" [ label { "/" label } ]
 * prefix   = ws "/" [ pelem { "/" pelem } ]  pelem = "*" | label
 * tree     = tree1 { ws "|" tree1 }
 * tree1    = weighted { ws "&" weighted }
 * weighted = ws [ number ws "*" ws ] simple  number = ( digit | "." ) { digit | "." }
 * simple   = ws ( "(" tree ws ")" | path | "!" | "~" | "$" )
 * dentry   = prefix ws "=" ">" tree
 * dtab     = ws [ dentry ws { ";" ws dentry ws } [ ";" ws ] ]
 * ```
 *
 * `ws` is Java's `Character.isWhitespace` plus `#` comments running to the end of the line. Every
 * entry point then skips `ws` and requires the end of the input. Nothing here throws anything but
 * {@link ParseError}: loops are iterative and parenthesis nesting is capped at {@link MAX_NESTING}.
 */
import { type Either, left, right } from 'fp-ts/lib/Either.js'
import type { PrefixElem } from './dentry.js'
import { isLabelChar, labelFromBytes } from './label.js'
import { ParseError } from './parse-error.js'
import { empty, fail, type NameTree, neg, type Weighted } from './tree-node.js'

/**
 * How deeply parentheses may nest before the parser gives up with a {@link ParseError} (rather than
 * overflowing the stack, as Finagle would).
 *
 * @example
 * ```ts
 * NameTree.read('('.repeat(MAX_NESTING + 1) + '/a') // throws "at most 1000 nested '(' expected but '(' found at ..."
 * ```
 */
export const MAX_NESTING = 1000

/** Finagle marks the end of input with U+FFFF, and so do we (a literal U+FFFF reads as one too). */
const EOI = 0xffff

const SLASH = 0x2f
const BACKSLASH = 0x5c
const STAR = 0x2a
const DOT = 0x2e
const HASH = 0x23
const NEWLINE = 0x0a

// java.lang.Character.isWhitespace: the Unicode space, line and paragraph separators except the
// no-break spaces U+00A0, U+2007 and U+202F, plus TAB, LF, VT, FF, CR and U+001C..U+001F.
function isWhitespace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)
  if (c < 0x1680) return false
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x2006) ||
    (c >= 0x2008 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x205f ||
    c === 0x3000
  )
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  return -1
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === DOT
}

function describe(c: number): string {
  return c === EOI ? 'end of input' : `'${String.fromCharCode(c)}'`
}

/** A dentry as the parser sees it, before Dentry wraps it. */
export interface ParsedDentry<P> {
  readonly prefix: PrefixElem[]
  readonly dst: NameTree<P>
}

class Parser<P> {
  private readonly str: string
  private readonly mkPath: (labels: string[]) => P
  private idx = 0
  private nesting = 0

  constructor(str: string, mkPath: (labels: string[]) => P) {
    this.str = str
    this.mkPath = mkPath
  }

  private get atEnd(): boolean {
    return this.idx >= this.str.length
  }

  private peek(): number {
    return this.idx < this.str.length ? this.str.charCodeAt(this.idx) : EOI
  }

  private illegal(expected: string, found: number): never {
    throw new ParseError({ input: this.str, offset: this.idx, expected, found: describe(found) })
  }

  private maybeEat(c: number): boolean {
    if (this.peek() !== c) return false
    this.idx++
    return true
  }

  private eat(c: number): void {
    if (this.peek() !== c) this.illegal(describe(c), this.peek())
    this.idx++
  }

  eatWhitespace(): void {
    const s = this.str
    while (this.idx < s.length) {
      const c = s.charCodeAt(this.idx)
      if (c === HASH) {
        while (this.idx < s.length && s.charCodeAt(this.idx) !== NEWLINE) this.idx++
      } else if (isWhitespace(c)) {
        this.idx++
      } else {
        return
      }
    }
  }

  ensureEnd(): void {
    if (!this.atEnd) this.illegal('end of input', this.peek())
  }

  private parseHexDigit(): number {
    const v = hexValue(this.peek())
    if (v < 0) this.illegal('hex char', this.peek())
    this.idx++
    return v
  }

  private parseLabel(): string {
    const s = this.str
    const start = this.idx
    // Fast path: a label of plain characters is a slice of the input.
    while (isLabelChar(this.peek())) this.idx++
    if (this.peek() !== BACKSLASH) {
      if (this.idx === start) this.illegal('label char', this.peek())
      return s.slice(start, this.idx)
    }
    const bytes: number[] = []
    for (let i = start; i < this.idx; i++) bytes.push(s.charCodeAt(i))
    for (;;) {
      const c = this.peek()
      if (isLabelChar(c)) {
        bytes.push(c)
        this.idx++
      } else if (c === BACKSLASH) {
        this.idx++
        this.eat(0x78 /* x */)
        const hi = this.parseHexDigit()
        const lo = this.parseHexDigit()
        bytes.push((hi << 4) | lo)
      } else {
        return labelFromBytes(bytes)
      }
    }
  }

  parsePath(): string[] {
    this.eatWhitespace()
    this.eat(SLASH)
    const labels: string[] = []
    const c = this.peek()
    if (!isLabelChar(c) && c !== BACKSLASH) return labels
    do labels.push(this.parseLabel())
    while (this.maybeEat(SLASH))
    return labels
  }

  parsePrefix(): PrefixElem[] {
    this.eatWhitespace()
    this.eat(SLASH)
    const elems: PrefixElem[] = []
    const c = this.peek()
    if (!isLabelChar(c) && c !== BACKSLASH && c !== STAR) return elems
    do elems.push(this.maybeEat(STAR) ? { kind: 'any' } : { kind: 'label', label: this.parseLabel() })
    while (this.maybeEat(SLASH))
    return elems
  }

  parseTree(): NameTree<P> {
    const trees: NameTree<P>[] = []
    do {
      trees.push(this.parseTree1())
      this.eatWhitespace()
    } while (this.maybeEat(0x7c /* | */))
    return trees.length === 1 ? trees[0]! : { kind: 'alt', trees }
  }

  private parseTree1(): NameTree<P> {
    const trees: Weighted<P>[] = []
    do {
      trees.push(this.parseWeighted())
      this.eatWhitespace()
    } while (this.maybeEat(0x26 /* & */))
    // A lone term is just its tree: its weight is thrown away.
    return trees.length === 1 ? trees[0]!.tree : { kind: 'union', trees }
  }

  private parseWeighted(): Weighted<P> {
    this.eatWhitespace()
    let weight = 1
    if (isNumberChar(this.peek())) {
      weight = this.parseNumber()
      this.eatWhitespace()
      this.eat(STAR)
      this.eatWhitespace()
    }
    return { weight, tree: this.parseSimple() }
  }

  private parseNumber(): number {
    const start = this.idx
    let seenDot = false
    while (isNumberChar(this.peek())) {
      if (this.peek() === DOT) {
        if (seenDot) this.illegal('number char', DOT)
        seenDot = true
      }
      this.idx++
    }
    const text = this.str.slice(start, this.idx)
    // Finagle reports a lone "." after consuming it, so the brackets mark the character after it.
    if (text === '.') this.illegal('weight', DOT)
    const weight = Number(text)
    // Finagle lets a long digit string overflow to Infinity, which then prints as `Infinity*` and
    // cannot be read back; we refuse it here, pointing at the number's first digit.
    if (!Number.isFinite(weight)) {
      this.idx = start
      this.illegal('finite weight', this.peek())
    }
    return weight
  }

  private parseSimple(): NameTree<P> {
    this.eatWhitespace()
    const c = this.peek()
    switch (c) {
      case 0x28 /* ( */:
        {
          if (this.nesting >= MAX_NESTING) this.illegal(`at most ${MAX_NESTING} nested '('`, c)
          this.nesting++
          this.idx++
          const tree = this.parseTree()
          this.eatWhitespace()
          this.eat(0x29 /* ) */)
          this.nesting--
          return tree
        }
      case SLASH:
        return { kind: 'leaf', value: this.mkPath(this.parsePath()) }
      case 0x21 /* ! */:
        this.idx++
        return fail
      case 0x7e /* ~ */:
        this.idx++
        return neg
      case 0x24 /* $ */:
        this.idx++
        return empty
      default:
        return this.illegal('simple', c)
    }
  }

  parseDentry(): ParsedDentry<P> {
    const prefix = this.parsePrefix()
    this.eatWhitespace()
    this.eat(0x3d /* = */)
    this.eat(0x3e /* > */)
    return { prefix, dst: this.parseTree() }
  }

  parseDtab(): ParsedDentry<P>[] {
    const entries: ParsedDentry<P>[] = []
    this.eatWhitespace()
    if (this.atEnd) return entries
    for (;;) {
      entries.push(this.parseDentry())
      this.eatWhitespace()
      if (!this.maybeEat(0x3b /* ; */)) return entries
      this.eatWhitespace()
      if (this.atEnd) return entries
    }
  }
}

// Paths and prefixes contain no trees, so their parsers never build a leaf path.
const labelsOnly = (labels: string[]): string[] => labels

function whole<P, R>(text: string, mkPath: (labels: string[]) => P, body: (p: Parser<P>) => R): R {
  const parser = new Parser(text, mkPath)
  const result = body(parser)
  parser.eatWhitespace()
  parser.ensureEnd()
  return result
}

/** Reads a whole path; returns its labels. Throws {@link ParseError}. */
export function readPath(text: string): string[] {
  return whole(text, labelsOnly, (p) => p.parsePath())
}

/** Reads a whole prefix. Throws {@link ParseError}. */
export function readPrefix(text: string): PrefixElem[] {
  return whole(text, labelsOnly, (p) => p.parsePrefix())
}

/** Reads a whole name tree, building leaves with `mkPath`. Throws {@link ParseError}. */
export function readNameTree<P>(text: string, mkPath: (labels: string[]) => P): NameTree<P> {
  return whole(text, mkPath, (p) => p.parseTree())
}

/** Reads a whole dentry. Throws {@link ParseError}. */
export function readDentry<P>(text: string, mkPath: (labels: string[]) => P): ParsedDentry<P> {
  return whole(text, mkPath, (p) => p.parseDentry())
}

/** Reads a whole dtab. Throws {@link ParseError}. */
export function readDtab<P>(text: string, mkPath: (labels: string[]) => P): ParsedDentry<P>[] {
  return whole(text, mkPath, (p) => p.parseDtab())
}

/** Runs a throwing reader and returns its {@link ParseError} as a `Left`; other errors propagate. */
export function parseWith<T>(read: (text: string) => T, text: string): Either<ParseError, T> {
  try {
    return right(read(text))
  } catch (e) {
    if (e instanceof ParseError) return left(e)
    throw e
  }
}
