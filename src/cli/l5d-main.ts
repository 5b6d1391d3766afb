import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { isLeft } from 'fp-ts/lib/Either.js'
import { readLinkerConfig } from '../router/config.js'
import { createLinker, type Linker } from '../router/linker.js'
import { loadPlugins } from '../router/plugins.js'

/** Where the l5d command writes and reads. */
export interface L5dIo {
  readonly stdout: (line: string) => void
  readonly stderr: (line: string) => void
  /** Reads all of standard input (for the config path `-`). */
  readonly readStdin: () => Promise<string>
  /** `L5D_PLUGINS` and friends. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

export const L5D_USAGE = `usage: l5d [-validate] [--plugins DIR] <linkerd.yaml | ->

Runs a linkerd 1.x configuration: its routers (each with its servers), namers, telemeters and the
admin server (default 127.0.0.1:9990). SIGTERM, SIGINT or POST /admin/shutdown drain and exit.

Options:
  -validate, --validate   only check the configuration (every problem at once); exit 0 if valid
  --plugins DIR           load ES modules from DIR that register identifier, namer, transformer,
                          classifier, interpreter or telemeter kinds (repeatable; also L5D_PLUGINS,
                          a ':'-separated list)
  -h, --help              this text
  --version               the version`

/** The package version, read from package.json next to the build. */
export function l5dVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'switchboard' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // try the next place
    }
  }
  return 'unknown'
}

/** The outcome of `l5dMain`: an exit code, or a running linker. */
export type L5dOutcome = { readonly exitCode: number } | { readonly linker: Linker }

/**
 * The `l5d` command without the process around it: reads the config (as published by linkerd 1.x),
 * loads plugins, checks everything (`-validate` stops there) and starts the linker.
 *
 * @example
 * ```ts
 * const out = await l5dMain(['linkerd.yaml'], { stdout: console.log, stderr: console.error, readStdin })
 * if ('linker' in out) await out.linker.close()
 * ```
 */
export async function l5dMain(args: readonly string[], io: L5dIo): Promise<L5dOutcome> {
  let validate = false
  const plugins: string[] = []
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '-validate' || a === '--validate') validate = true
    else if (a === '-h' || a === '--help' || a === '-help') {
      io.stdout(L5D_USAGE)
      return { exitCode: 0 }
    } else if (a === '--version' || a === '-version') {
      io.stdout(`l5d (switchboard) ${l5dVersion()}`)
      return { exitCode: 0 }
    } else if (a === '--plugins' || a === '-plugins') {
      const v = args[++i]
      if (v === undefined) {
        io.stderr('l5d: --plugins needs a directory')
        return { exitCode: 2 }
      }
      plugins.push(v)
    } else if (a.startsWith('--plugins=')) plugins.push(a.slice('--plugins='.length))
    else if (a.startsWith('-') && a !== '-') {
      io.stderr(`l5d: unknown flag ${a}`)
      io.stderr('usage: linkerd path/to/config')
      return { exitCode: 2 }
    } else rest.push(a)
  }
  if (rest.length !== 1) {
    io.stderr('usage: linkerd path/to/config')
    return { exitCode: 2 }
  }
  const envPlugins = io.env?.['L5D_PLUGINS']
  if (envPlugins) plugins.push(...envPlugins.split(':').filter((p) => p !== ''))
  const source = rest[0]!
  let text: string
  try {
    text = source === '-' ? await io.readStdin() : await readFile(source, 'utf8')
  } catch (error) {
    const code = (error as { code?: string }).code
    io.stderr(
      code === 'EISDIR' || code === 'ENOENT'
        ? `config is not a file: ${source}`
        : `l5d: cannot read ${source}: ${(error as Error).message}`,
    )
    return { exitCode: 1 }
  }
  let kinds = {}
  if (plugins.length > 0) {
    try {
      const loaded = await loadPlugins(plugins)
      kinds = loaded.kinds
      for (const n of loaded.registered) io.stderr(`loaded plugin kind: ${n}`)
    } catch (error) {
      io.stderr((error as Error).message)
      return { exitCode: 1 }
    }
  }
  const name = source === '-' ? 'standard input' : source
  const r = readLinkerConfig(text, name, kinds)
  if (isLeft(r)) {
    io.stderr(r.left.message)
    return { exitCode: 1 }
  }
  if (validate) {
    for (const w of r.right.spec.warnings) io.stderr(`warning: ${w}`)
    io.stdout(`${name}: configuration is valid`)
    return { exitCode: 0 }
  }
  try {
    const linker = await createLinker(r.right.spec, { rawConfig: r.right.raw, log: io.stderr, kinds })
    return { linker }
  } catch (error) {
    io.stderr(`l5d: failed to start: ${(error as Error).message}`)
    return { exitCode: 1 }
  }
}
