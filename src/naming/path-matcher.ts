import { SwitchboardError } from '../core/errors.js'
import type { Path } from './path.js'

/**
 * A path pattern could not be read: an unclosed `{`, an empty or badly named variable, or an empty
 * segment. The message quotes the pattern and says what was expected.
 *
 * @example
 * ```ts
 * PathMatcher.read('/svc/{name') // throws InvalidPathPatternError
 * ```
 */
export class InvalidPathPatternError extends SwitchboardError {
  readonly pattern: string
  constructor(pattern: string, problem: string) {
    super('InvalidPathPattern', `invalid path pattern ${JSON.stringify(pattern)}: ${problem}`)
    this.pattern = pattern
  }
}

type Segment =
  | { readonly kind: 'any' }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'capture'; readonly regex: RegExp; readonly names: readonly string[] }

const VAR = /\{([a-zA-Z0-9.:_-]*)\}/g

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function segmentOf(pattern: string, text: string): Segment {
  if (text === '*') return { kind: 'any' }
  if (!text.includes('{') && !text.includes('}')) return { kind: 'literal', text }
  const names: string[] = []
  let source = ''
  let last = 0
  for (const m of text.matchAll(VAR)) {
    const name = m[1]!
    if (name === '') throw new InvalidPathPatternError(pattern, `empty variable name in segment '${text}'`)
    source += escapeRegex(text.slice(last, m.index))
    source += '(.*)'
    names.push(name)
    last = m.index + m[0].length
  }
  const rest = text.slice(last)
  const before = text.slice(0, last).replace(VAR, '')
  if (rest.includes('{') || rest.includes('}') || before.includes('{') || before.includes('}'))
    throw new InvalidPathPatternError(
      pattern,
      `'{name}' with a name of letters, digits and '.:_-' expected in segment '${text}'`,
    )
  source += escapeRegex(rest)
  return { kind: 'capture', regex: new RegExp(source), names }
}

/**
 * linkerd's path-prefix patterns (`PathMatcher`), used by per-prefix `client` and `service` configs:
 * the pattern matches a prefix of a path segment by segment; `*` matches any one segment; a segment
 * with `{name}` captures (each `{…}` is a greedy `.*`, searched within the segment, so
 * `{A}-{B}` on `foo-bar-baz` gives A=`foo-bar`, B=`baz`); any other segment must be equal. `/`
 * matches every path. Unlike linkerd, regex characters other than `{…}` in a capture segment match
 * themselves (linkerd escapes only `.`).
 *
 * @example
 * ```ts
 * const m = PathMatcher.read('/#/io.l5d.fs/{service}')
 * m.match(Path.read('/#/io.l5d.fs/users/v2'))  // { service: 'users' }
 * m.match(Path.read('/$/inet/127.0.0.1/80'))   // undefined
 * PathMatcher.substitute('{service}.internal', { service: 'users' }) // 'users.internal'
 * ```
 */
export class PathMatcher {
  /** The pattern text, as given. */
  readonly pattern: string
  private readonly segments: readonly Segment[]

  private constructor(pattern: string, segments: readonly Segment[]) {
    this.pattern = pattern
    this.segments = segments
  }

  /**
   * Reads a pattern; throws `InvalidPathPatternError`.
   *
   * @example
   * ```ts
   * PathMatcher.read('/svc/*').show() // '/svc/*'
   * ```
   */
  static read(pattern: string): PathMatcher {
    if (!pattern.startsWith('/')) throw new InvalidPathPatternError(pattern, "'/' expected at the start")
    const parts = pattern.slice(1).split('/')
    // Trailing slashes are ignored, as linkerd's split does (`/svc/` is `/svc`); an empty segment
    // inside could never match a label, so it is refused rather than silently matching nothing.
    while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
    if (parts.some((p) => p === ''))
      throw new InvalidPathPatternError(pattern, 'empty segment (a pattern has no "//")')
    return new PathMatcher(
      pattern,
      parts.map((p) => segmentOf(pattern, p)),
    )
  }

  /**
   * The variables captured when the pattern matches a prefix of `path`, or `undefined`.
   *
   * @example
   * ```ts
   * PathMatcher.read('/svc/*').match(Path.read('/svc/users')) // {}
   * ```
   */
  match(path: Path | readonly string[]): Record<string, string> | undefined {
    const labels = Array.isArray(path) ? (path as readonly string[]) : (path as Path).segments
    if (labels.length < this.segments.length) return undefined
    const vars: Record<string, string> = {}
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!
      const label = labels[i]!
      if (seg.kind === 'any') continue
      if (seg.kind === 'literal') {
        if (seg.text !== label) return undefined
        continue
      }
      const m = seg.regex.exec(label)
      if (!m) return undefined
      for (let j = 0; j < seg.names.length; j++) vars[seg.names[j]!] = m[j + 1]!
    }
    return vars
  }

  /** Whether the pattern matches a prefix of `path`. */
  matches(path: Path | readonly string[]): boolean {
    return this.match(path) !== undefined
  }

  /** The pattern text; `PathMatcher.read(m.show())` matches the same paths. */
  show(): string {
    return this.pattern
  }

  /**
   * Replaces every `{name}` in `template` with its value in `vars` (unknown names are left as they
   * are).
   *
   * @example
   * ```ts
   * PathMatcher.substitute('/{a}/{b}', { a: 'x', b: 'y' }) // '/x/y'
   * ```
   */
  static substitute(template: string, vars: Readonly<Record<string, string>>): string {
    return template.replace(VAR, (whole, name: string) => vars[name] ?? whole)
  }
}
