import { Name } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import { Namer as Namers } from '../naming/namer.js'
import { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { InvalidPathPatternError, PathMatcher } from '../naming/path-matcher.js'

/** What `io.l5d.rewrite` needs: the pattern to match and the path template to produce. */
export interface RewriteNamerOptions {
  /** A {@link PathMatcher} pattern: `*` for any one label, `{var}` captures, e.g. `/{service}/api`. */
  readonly pattern: string
  /** The path to produce, with `{var}` replaced by the captured values, e.g. `/srv/{service}`. */
  readonly name: string
}

const VAR = /\{([^{}]*)\}/g

function varNames(text: string): string[] {
  return [...text.matchAll(VAR)].map((m) => m[1]!)
}

// A captured value is (part of) a label: write it in the text form so that it reads back as the
// same bytes, whatever characters it holds.
function labelText(value: string): string {
  return value === '' ? '' : Path.of(value).show().slice(1)
}

/**
 * linkerd's `io.l5d.rewrite` namer: when `pattern` matches the start of the looked-up path, the
 * result is the path `name` with every `{var}` replaced by what the pattern captured, to be bound
 * again through the dtab. The rest of the looked-up path, past what the pattern matched, is
 * dropped (linkerd's behaviour); put a capture at the end of the pattern to keep a label. No match
 * gives Neg. A template that cannot make a path throws {@link InvalidPathPatternError} here, at
 * configuration time; a substitution that still gives no path (a capture matched nothing and left
 * an empty label) fails that lookup with the `ParseError`.
 *
 * @example
 * ```ts
 * import { rewriteNamer } from 'switchboard/namers'
 *
 * const namer = rewriteNamer({ pattern: '/{service}/api', name: '/srv/{service}' })
 * const namers = NamerRegistry.create().mount('/#/io.l5d.rewrite', namer)
 * // /#/io.l5d.rewrite/users/api/v1 → /srv/users (the /v1 is dropped); /#/io.l5d.rewrite/users → ~
 * ```
 */
export function rewriteNamer(options: RewriteNamerOptions): Namer {
  const matcher = PathMatcher.read(options.pattern)
  const template = options.name
  // Check the template once: it may only use captured names, and with every capture standing for
  // some label it must read as a path.
  const captured = new Set(varNames(options.pattern))
  const unknown = varNames(template).filter((v) => !captured.has(v))
  if (unknown.length > 0) {
    throw new InvalidPathPatternError(template, `{${unknown[0]}} is not captured by ${options.pattern}`)
  }
  if (Path.parse(template.replace(VAR, 'x'))._tag === 'Left') {
    throw new InvalidPathPatternError(template, 'a path such as /srv/{service} expected as the name')
  }
  return Namers.of((path) => {
    const vars = matcher.match(path)
    if (vars === undefined) return NameTree.Neg
    const shown: Record<string, string> = {}
    for (const [k, v] of Object.entries(vars)) shown[k] = labelText(v)
    return NameTree.leaf(Name.path(Path.read(PathMatcher.substitute(template, shown))))
  })
}
