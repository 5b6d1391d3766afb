// What every switchboard executable (namerd, namerctl, l5d) shares: flag parsing that refuses
// unknown flags, `--help` / `--version`, the package version, and one way to report a mistake in the
// command line (exit 2, with the usage) apart from a failure at run time (its message only).
import { readFileSync } from 'node:fs'

/** Exit code of a successful run, `--help` and `--version`. */
export const EXIT_OK = 0
/** Exit code of a command-line mistake (unknown flag or command, wrong arguments): usage printed. */
export const EXIT_USAGE = 2

/**
 * A mistake in the command line: the program prints the message and its usage on stderr and exits
 * with `EXIT_USAGE` (2).
 *
 * @example
 * ```ts
 * throw new UsageError('unknown flag: --bogus')
 * ```
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

let version: string | undefined

/**
 * The version of the installed switchboard package (from its package.json), for `--version`.
 *
 * @example
 * ```ts
 * io.stdout(`namerd ${packageVersion()}\n`) // namerd 0.2.0
 * ```
 */
export function packageVersion(): string {
  if (version === undefined) {
    // src/cli/ and dist/cli/ are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown
    }
    version = typeof pkg.version === 'string' ? pkg.version : 'unknown'
  }
  return version
}

/** How one flag is written: a boolean switch or a flag that takes a value. */
export interface FlagDef {
  readonly type: 'boolean' | 'string'
  /** One-letter form, e.g. `h` for `-h`. */
  readonly short?: string
}

/** The flags a program accepts, by long name (without dashes). */
export type FlagSpec = Readonly<Record<string, FlagDef>>

/** Parsed flags: a string flag's last value, a boolean's `true`/`false`; absent flags are missing. */
export type ParsedFlags<S extends FlagSpec> = {
  -readonly [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string
}

const TRUE = ['true', '1', 't', 'T', 'TRUE', 'True']
const FALSE = ['false', '0', 'f', 'F', 'FALSE', 'False']

/**
 * Parses a command line: `--name value`, `--name=value`, `-name` (Go style), `-h`, boolean
 * `--json` / `--json=false`, and `--` ending the flags. Anything that is not a flag is positional.
 * An unknown flag or a missing value throws `UsageError`.
 *
 * @example
 * ```ts
 * const { flags, positional } = parseFlags(['--json', 'dtab', 'list'], { json: { type: 'boolean' } })
 * // flags.json === true, positional = ['dtab', 'list']
 * ```
 */
export function parseFlags<S extends FlagSpec>(
  args: readonly string[],
  spec: S,
): { flags: ParsedFlags<S>; positional: string[] } {
  const flags: Record<string, string | boolean> = {}
  const positional: string[] = []
  const byShort = new Map<string, string>()
  for (const [name, def] of Object.entries(spec)) if (def.short !== undefined) byShort.set(def.short, name)
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--') {
      positional.push(...args.slice(i + 1))
      break
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const written = eq >= 0 ? a.slice(0, eq) : a
    const bare = written.replace(/^--?/, '')
    const name = !written.startsWith('--') && byShort.has(bare) ? byShort.get(bare)! : bare
    const def = Object.hasOwn(spec, name) ? spec[name] : undefined
    if (def === undefined) throw new UsageError(`unknown flag: ${written}`)
    const inline = eq >= 0 ? a.slice(eq + 1) : undefined
    if (def.type === 'boolean') {
      if (inline === undefined || TRUE.includes(inline)) flags[name] = true
      else if (FALSE.includes(inline)) flags[name] = false
      else throw new UsageError(`invalid argument "${inline}" for "${written}" flag: expected true or false`)
      continue
    }
    if (inline !== undefined) flags[name] = inline
    else {
      const v = args[i + 1]
      if (v === undefined) throw new UsageError(`flag needs an argument: ${written}`)
      flags[name] = v
      i++
    }
  }
  return { flags: flags as ParsedFlags<S>, positional }
}
