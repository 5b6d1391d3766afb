import { readFile } from 'node:fs/promises'
import { isLeft } from 'fp-ts/lib/Either.js'
import { decodeConfig, parseConfigText } from '../config/decode.js'
import { type NamerdKinds, type NamerdSpec, namerdConfigCodec } from '../namerd/config.js'
import { type Namerd, startNamerd } from '../namerd/server.js'

/** Where the namerd command writes and reads. */
export interface NamerdIo {
  readonly stdout: (line: string) => void
  readonly stderr: (line: string) => void
  /** Reads all of standard input (for the config path `-`). */
  readonly readStdin: () => Promise<string>
}

export const NAMERD_USAGE = 'usage: namerd [-validate] <config.yaml | ->'

/** The outcome of `namerdMain`: an exit code, or a running namerd. */
export type NamerdOutcome =
  | { readonly exitCode: number }
  | { readonly namerd: Namerd; readonly spec: NamerdSpec }

/**
 * The `namerd` command without the process around it: reads and checks the configuration
 * (`-validate` stops there), starts namerd and prints where to reach it. An invalid configuration
 * prints every problem and gives exit code 1.
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
  const validate = args.includes('-validate') || args.includes('--validate')
  const rest = args.filter((a) => a !== '-validate' && a !== '--validate')
  if (rest.length !== 1 || rest[0] === '-h' || rest[0] === '--help') {
    io.stderr(NAMERD_USAGE)
    return { exitCode: rest.length === 1 ? 0 : 2 }
  }
  const source = rest[0]!
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
  if (validate) {
    io.stdout(`${name}: configuration is valid`)
    return { exitCode: 0 }
  }
  let namerd: Namerd
  try {
    namerd = await startNamerd(spec.right, { rawConfig: raw.right, log: io.stderr })
  } catch (error) {
    io.stderr(`namerd: failed to start: ${(error as Error).message}`)
    return { exitCode: 1 }
  }
  const api = namerd.interfaces[0]!.url
  const admin = namerd.admin.url
  io.stdout(
    [
      'namerd is running',
      `  http controller: ${namerd.interfaces.map((i) => i.url).join(', ')}`,
      `  admin:           ${admin}`,
      '',
      'Try:',
      `  curl ${admin}/admin/ping`,
      `  curl ${api}/api/1/dtabs`,
      `  curl -H 'Accept: application/dtab' ${api}/api/1/dtabs/demo`,
      `  curl '${api}/api/1/resolve/demo?path=/svc/users'`,
      `  curl '${api}/api/1/delegate/demo?path=/svc/users'`,
      `  npm run namerctl -- --base-url ${api} dtab get demo`,
      `  curl ${admin}/admin/metrics.json`,
      '',
      'Stop with Ctrl-C.',
    ].join('\n'),
  )
  return { namerd, spec: spec.right }
}
