import { readFile } from 'node:fs/promises'
import { isLeft } from 'fp-ts/lib/Either.js'
import { decodeConfig, parseConfigText } from '../config/decode.js'
import { type NamerdKinds, type NamerdSpec, namerdConfigCodec } from '../namerd/config.js'
import { type Namerd, startNamerd } from '../namerd/server.js'
import { createLogger, type Logger } from '../telemetry/log.js'
import { EXIT_OK, EXIT_USAGE, type FlagSpec, packageVersion, parseFlags, UsageError } from './common.js'

/** Where the namerd command writes and reads. */
export interface NamerdIo {
  readonly stdout: (line: string) => void
  readonly stderr: (line: string) => void
  /** Reads all of standard input (for the config path `-`). */
  readonly readStdin: () => Promise<string>
  /**
   * Where the running namerd logs (dtab-write audit lines, store problems). Default: JSON lines on
   * standard error through pino, level from `LOG_LEVEL` (default `info`).
   */
  readonly logger?: Logger | undefined
}

/** `namerd --help`. */
export const NAMERD_USAGE = `Usage: namerd [flags] <config.yaml | ->

Runs namerd, the dtab store and naming service behind linkerd's namerd HTTP API, from a YAML or
JSON configuration file (- reads it from standard input).

Flags:
  -validate, --validate   check the configuration and exit
  -h, --help              print this help and exit
  -V, --version           print the version and exit

Exit codes: 0 stopped cleanly, 1 invalid configuration or failure to start,
2 usage error (unknown flag, missing or extra argument).
`

const NAMERD_FLAGS = {
  validate: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies FlagSpec

/** The outcome of `namerdMain`: an exit code, or a running namerd. */
export type NamerdOutcome =
  | { readonly exitCode: number }
  | { readonly namerd: Namerd; readonly spec: NamerdSpec }

/**
 * The `namerd` command without the process around it: reads and checks the configuration
 * (`-validate` stops there), starts namerd and prints where to reach it. `--help` and `--version`
 * print on stdout (exit 0); a usage error prints the message and the usage on stderr (exit 2); an
 * unreadable or invalid configuration prints every problem on stderr (exit 1).
 *
 * @example
 * ```ts
 * const out = await namerdMain(['examples/namerd.yaml'], { stdout: console.log, stderr: console.error, readStdin })
 * if ('namerd' in out) await out.namerd.close()
 * ```
 */
export async function namerdMain(
  args: readonly string[],
  io: NamerdIo,
  kinds: NamerdKinds = {},
): Promise<NamerdOutcome> {
  let parsed: ReturnType<typeof parseFlags<typeof NAMERD_FLAGS>>
  try {
    parsed = parseFlags(args, NAMERD_FLAGS)
    if (!parsed.flags.help && !parsed.flags.version && parsed.positional.length !== 1)
      throw new UsageError(
        parsed.positional.length === 0
          ? 'a configuration file is required'
          : `one configuration file expected, found ${parsed.positional.length} arguments`,
      )
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.stderr(`namerd: ${error.message}\n${NAMERD_USAGE.trimEnd()}`)
    return { exitCode: EXIT_USAGE }
  }
  if (parsed.flags.help) {
    io.stdout(NAMERD_USAGE.trimEnd())
    return { exitCode: EXIT_OK }
  }
  if (parsed.flags.version) {
    io.stdout(`namerd ${packageVersion()}`)
    return { exitCode: EXIT_OK }
  }
  const validate = parsed.flags.validate === true
  const source = parsed.positional[0]!
  let text: string
  try {
    text = source === '-' ? await io.readStdin() : await readFile(source, 'utf8')
  } catch (error) {
    io.stderr(`namerd: cannot read ${source}: ${(error as Error).message}`)
    return { exitCode: 1 }
  }
  const name = source === '-' ? 'standard input' : source
  const raw = parseConfigText(text, name)
  if (isLeft(raw)) {
    io.stderr(raw.left.message)
    return { exitCode: 1 }
  }
  const spec = decodeConfig(namerdConfigCodec(kinds), raw.right, name)
  if (isLeft(spec)) {
    io.stderr(spec.left.message)
    return { exitCode: 1 }
  }
  for (const w of spec.right.warnings ?? []) io.stderr(`warning: ${w}`)
  if (validate) {
    io.stdout(`${name}: configuration is valid`)
    return { exitCode: 0 }
  }
  let namerd: Namerd
  try {
    const logger =
      io.logger ??
      createLogger({
        base: { name: 'namerd' },
        destination: { write: (l: string) => io.stderr(l.replace(/\n$/, '')) },
      })
    namerd = await startNamerd(spec.right, { rawConfig: raw.right, logger })
  } catch (error) {
    io.stderr(`namerd: failed to start: ${(error as Error).message}`)
    return { exitCode: 1 }
  }
  const api = namerd.interfaces[0]?.url
  const admin = namerd.admin.url
  io.stdout(
    [
      'namerd is running',
      ...(namerd.interfaces.length > 0
        ? [`  http controller: ${namerd.interfaces.map((i) => i.url).join(', ')}`]
        : []),
      ...(namerd.meshInterfaces.length > 0
        ? [`  mesh interface:  ${namerd.meshInterfaces.map((i) => i.target).join(', ')}`]
        : []),
      `  admin:           ${admin}`,
      '',
      'Try:',
      `  curl ${admin}/admin/ping`,
      ...(api === undefined
        ? []
        : [
            `  curl ${api}/api/1/dtabs`,
            `  curl -H 'Accept: application/dtab' ${api}/api/1/dtabs/demo`,
            `  curl '${api}/api/1/resolve/demo?path=/svc/users'`,
            `  curl '${api}/api/1/delegate/demo?path=/svc/users'`,
            `  npx namerctl --base-url ${api} dtab get demo`,
          ]),
      `  curl ${admin}/admin/metrics.json`,
      '',
      'Stop with Ctrl-C.',
    ].join('\n'),
  )
  return { namerd, spec: spec.right }
}
