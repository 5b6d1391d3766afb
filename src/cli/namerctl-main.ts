import { existsSync, readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { isLeft } from 'fp-ts/lib/Either.js'
import { request } from 'undici'
import { parse as parseYaml } from 'yaml'
import { addrFromJson, delegateTreeFromJson, type WireBound } from '../namerd/client/wire.js'
import type { Addr } from '../naming/addr.js'
import { DelegateTree } from '../naming/delegate-tree.js'
import {
  EXIT_OK,
  EXIT_USAGE,
  type FlagSpec,
  type ParsedFlags,
  packageVersion,
  parseFlags,
  UsageError,
} from './common.js'
import { completionScript } from './namerctl-completion.js'

/** Where namerctl writes, reads and looks things up. */
export interface NamerctlIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly readStdin: () => Promise<string>
  readonly env: Readonly<Record<string, string | undefined>>
  /** Where `.namerctl.*` files are searched from (upwards). */
  readonly cwd: string
  /** Reads a dtab file (default: the file system). */
  readonly readFile?: ((path: string) => Promise<string>) | undefined
}

interface JsonDentry {
  prefix: string
  dst: string
}

/** A failure at run time: exits 255 (as linkerd's namerctl does) with `Error: <message>` on stderr. */
class CommandError extends Error {}

/** Exit code of a failure at run time (namerd unreachable or answering an error, bad base URL). */
export const NAMERCTL_EXIT_FAILURE = 255

const CONFIG_NAMES = ['.namerctl.yaml', '.namerctl.yml', '.namerctl.json']

const ROOT_USAGE = `namerctl: find and update information about your namers and their dtabs.

Usage:
  namerctl [command]

Available Commands:
  dtab        Control namer's dtab interface
  delegate    Show how a path is delegated in a namespace
  resolve     Show the addresses a path resolves to in a namespace
  completion  Print a shell completion script (bash or zsh)

Flags:
      --base-url string   namer location (e.g. http://namerd.example.com:4180); or NAMERCTL_BASE_URL,
                          or base-url in the config file
      --config string     config file (default is .namerctl.yaml in this or a parent directory)
      --token string      bearer token for namerd's authToken; or NAMERCTL_TOKEN, or token in the
                          config file
  -h, --help              help for namerctl
  -V, --version           print the version of namerctl

Exit codes: 0 success, 2 usage error, 255 failure (namerd unreachable or answering an error).

Use "namerctl [command] --help" for more information about a command.
`

const USAGES: Record<string, string> = {
  dtab: `Control namer's dtab interface

Usage:
  namerctl dtab [command]

Available Commands:
  create      Create a new dtab
  delete      Delete a dtab
  get         Get a dtab by name
  list        List dtab names
  update      Update a dtab

Flags:
      --json   Print json (default is false)
`,
  list: 'Usage:\n  namerctl dtab list [flags]\n\nAliases:\n  list, ls\n\nFlags:\n      --json   Print json\n',
  get: 'Usage:\n  namerctl dtab get <name> [flags]\n\nAliases:\n  get, cat\n\nFlags:\n      --json     Print json\n      --pretty   Pretty-print dtab (default true)\n',
  create: 'Usage:\n  namerctl dtab create <name> <file> [flags]\n\nAliases:\n  create, new\n',
  update:
    'Usage:\n  namerctl dtab update <name> <file> [flags]\n\nAliases:\n  update, up\n\nFlags:\n      --version string   dtab version (ETag) to update from\n',
  delete: 'Usage:\n  namerctl dtab delete <name> [flags]\n\nAliases:\n  delete, del, rm\n',
  delegate:
    "Usage:\n  namerctl delegate <namespace> <path> [flags]\n\nFlags:\n      --dtab string   extra dtab entries, applied after the namespace's\n      --json          Print json\n",
  completion:
    'Usage:\n  namerctl completion bash|zsh\n\nPrints a completion script for the shell. Load it with:\n  bash: source <(namerctl completion bash)      (or save it in /etc/bash_completion.d/namerctl)\n  zsh:  source <(namerctl completion zsh)       (in ~/.zshrc)\n',
  resolve:
    "Usage:\n  namerctl resolve <namespace> <path> [flags]\n\nFlags:\n      --dtab string   extra dtab entries, applied after the namespace's\n      --json          Print json\n",
}

const ALIASES: Record<string, string> = {
  list: 'list',
  ls: 'list',
  get: 'get',
  cat: 'get',
  create: 'create',
  new: 'create',
  update: 'update',
  up: 'update',
  delete: 'delete',
  del: 'delete',
  rm: 'delete',
}

const FLAGS = {
  'base-url': { type: 'string' },
  config: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  pretty: { type: 'boolean' },
  dtab: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies FlagSpec

/** `dtab update --version <etag>` keeps linkerd's meaning; elsewhere `--version` prints ours. */
const UPDATE_FLAGS = { ...FLAGS, version: { type: 'string' } } as const satisfies FlagSpec

type Flags = ParsedFlags<typeof UPDATE_FLAGS> & { showVersion?: boolean }

const TAKES_VALUE = new Set(['--base-url', '--config', '--token', '--dtab', '--version'])

/** Whether the command line is `dtab update` (or `dtab up`), looked at before the flags are parsed. */
function isUpdate(args: readonly string[]): boolean {
  const words: string[] = []
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const a = args[i]!
    if (a === '--') break
    if (a.startsWith('-') && a !== '-') {
      if (!a.includes('=') && TAKES_VALUE.has(a)) i++
      continue
    }
    words.push(a)
  }
  return words[0] === 'dtab' && (words[1] === 'update' || words[1] === 'up')
}

function parseArgs(args: readonly string[]): { flags: Flags; positional: string[] } {
  if (isUpdate(args)) return parseFlags(args, UPDATE_FLAGS)
  const { flags, positional } = parseFlags(args, FLAGS)
  const { version, ...rest } = flags
  return { flags: { ...rest, ...(version === true && { showVersion: true }) }, positional }
}

interface Connection {
  readonly base: URL
  readonly token: string | undefined
  /** Where the token came from, for the message of a 401. */
  readonly tokenSource: string
}

/**
 * The base URL (`--base-url`, then `NAMERCTL_BASE_URL`, then `base-url` in a `.namerctl.*` file) and
 * the token (`--token`, then `NAMERCTL_TOKEN`, then `token` in that file).
 */
function connect(flags: Flags, io: NamerctlIo): Connection {
  let fileValues: Record<string, unknown> | undefined
  let fileName: string | undefined
  const fromFile = (key: string): string | undefined => {
    if (fileValues === undefined) {
      fileValues = {}
      const file = flags.config !== undefined ? resolvePath(io.cwd, flags.config) : findConfig(io.cwd)
      if (file !== undefined) {
        fileName = file
        let parsed: unknown
        try {
          parsed = parseYaml(readFileSync(file, 'utf8'))
        } catch (error) {
          throw new CommandError(`cannot read config file ${file}: ${(error as Error).message}`)
        }
        if (typeof parsed === 'object' && parsed !== null) fileValues = parsed as Record<string, unknown>
      }
    }
    const v = fileValues[key]
    return typeof v === 'string' && v !== '' ? v : undefined
  }
  const envToken = io.env['NAMERCTL_TOKEN']
  let token: string | undefined
  let tokenSource = ''
  if (flags.token !== undefined && flags.token !== '') [token, tokenSource] = [flags.token, '--token']
  else if (envToken !== undefined && envToken !== '') [token, tokenSource] = [envToken, 'NAMERCTL_TOKEN']
  else {
    token = fromFile('token')
    if (token !== undefined) tokenSource = `the token key of ${fileName}`
  }
  let value = flags['base-url'] ?? io.env['NAMERCTL_BASE_URL'] ?? ''
  if (value === '') value = fromFile('base-url') ?? ''
  if (value === '') throw new CommandError('empty base URL')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new CommandError(`invalid base URL: ${value}`)
  }
  if (url.host === '' || !/^https?:$/.test(url.protocol)) throw new CommandError(`invalid base URL: ${value}`)
  return { base: url, token, tokenSource }
}

function findConfig(from: string): string | undefined {
  let dir = resolvePath(from)
  for (;;) {
    for (const name of CONFIG_NAMES) {
      const f = join(dir, name)
      if (existsSync(f)) return f
    }
    const up = dirname(dir)
    if (up === dir) return undefined
    dir = up
  }
}

function apiUrl(base: URL, path: string, query?: Record<string, string>): string {
  const u = new URL(base.href)
  u.pathname = `${u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname}${path}`
  u.search = query ? new URLSearchParams(query).toString() : ''
  return u.href
}

interface Reply {
  status: number
  etag: string
  body: string
}

async function call(
  conn: Connection,
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  let r: Awaited<ReturnType<typeof request>>
  const all = conn.token === undefined ? headers : { ...headers, authorization: `Bearer ${conn.token}` }
  try {
    r = await request(url, { method: method as 'GET', headers: all, body: body ?? null })
  } catch (error) {
    throw new CommandError(`${method} ${url}: ${(error as Error).message}`)
  }
  const etag = r.headers['etag']
  const text = await r.body.text()
  if (r.statusCode === 401)
    throw new CommandError(
      conn.token === undefined
        ? `namerd refused the request: 401 Unauthorized (its interface has an authToken). Give the token with --token, the NAMERCTL_TOKEN environment variable or a "token" key in .namerctl.yaml`
        : `namerd refused the token from ${conn.tokenSource}: 401 Unauthorized. Check that it equals the authToken of namerd's interface`,
    )
  return { status: r.statusCode, etag: typeof etag === 'string' ? etag : '', body: text }
}

const statusLine = (status: number) => `${status} ${STATUS_CODES[status] ?? ''}`.trimEnd()
const unexpected = (r: Reply) => new CommandError(`unexpected response: ${statusLine(r.status)}`)
const notFound = () => new CommandError('resource was not found by ID or name')

/** Go's encoding/json escapes <, > and & (and U+2028/9); namerctl's --json output does too. */
function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/**
 * namerctl's pretty dtab: the `=>` of every dentry lined up two columns after the longest prefix,
 * each line ending in ` ;`.
 *
 * @example
 * ```ts
 * prettyDtab([{ prefix: '/foo', dst: '/bar' }, { prefix: '/foo/bar/baz', dst: '/bah' }])
 * // '/foo          => /bar ;\n/foo/bar/baz  => /bah ;\n'
 * ```
 */
export function prettyDtab(dtab: readonly JsonDentry[]): string {
  const width = Math.max(0, ...dtab.map((d) => d.prefix.length))
  return dtab.map((d) => `${d.prefix}  ${'=>'.padStart(width - d.prefix.length + 2)} ${d.dst} ;\n`).join('')
}

async function readDtabFile(
  path: string,
  io: NamerctlIo,
): Promise<{ body: string; type: string; version: string }> {
  if (path === '') throw new CommandError('empty dtab path')
  let text: string
  try {
    text =
      path === '-'
        ? await io.readStdin()
        : await (io.readFile ?? ((p) => Promise.resolve(readFileSync(p, 'utf8'))))(resolvePath(io.cwd, path))
  } catch (error) {
    throw new CommandError((error as Error).message)
  }
  const first = text.trimStart()[0]
  if (first === '{' || first === '[') {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new CommandError((error as Error).message)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new CommandError('json: cannot unmarshal array into Go value of type namer.VersionedDtab')
    const o = parsed as { version?: unknown; dtab?: unknown }
    return {
      body: goJson(o.dtab ?? null),
      type: 'application/json',
      version: typeof o.version === 'string' ? o.version : '',
    }
  }
  return { body: text, type: 'application/dtab', version: '' }
}

function expectArgs(positional: string[], n: number, message: string) {
  if (positional.length !== n) throw new UsageError(message)
}

async function dtabCommand(cmd: string, args: string[], flags: Flags, io: NamerctlIo): Promise<void> {
  switch (cmd) {
    case 'list': {
      expectArgs(args, 0, 'list does not take arguments')
      const conn = connect(flags, io)
      const r = await call(conn, apiUrl(conn.base, '/api/1/dtabs'), 'GET', { accept: 'application/json' })
      if (r.status !== 200) throw unexpected(r)
      const names = JSON.parse(r.body) as string[]
      io.stdout(flags.json ? `${goJson(names)}\n` : `${names.join('\n')}\n`)
      return
    }
    case 'get': {
      expectArgs(args, 1, 'get requires a name argument')
      const conn = connect(flags, io)
      const r = await call(conn, apiUrl(conn.base, `/api/1/dtabs/${args[0]}`), 'GET', {
        accept: 'application/json',
      })
      if (r.status === 404) throw notFound()
      if (r.status !== 200) throw unexpected(r)
      const dtab = JSON.parse(r.body) as JsonDentry[]
      if (flags.json) io.stdout(`${goJson({ version: r.etag, dtab })}\n`)
      else if (flags.pretty !== false)
        io.stdout(`${r.etag === '' ? '' : `# version ${r.etag}\n`}${prettyDtab(dtab)}`)
      else io.stdout(`${dtab.map((d) => `${d.prefix}=>${d.dst};`).join('')}\n`)
      return
    }
    case 'create':
    case 'update': {
      expectArgs(args, 2, `${cmd} requires a name and file path`)
      const conn = connect(flags, io)
      const file = await readDtabFile(args[1]!, io)
      const headers: Record<string, string> = { 'content-type': file.type }
      const version = file.version !== '' ? file.version : (flags.version ?? '')
      if (cmd === 'update' && version !== '') headers['if-match'] = version
      const r = await call(
        conn,
        apiUrl(conn.base, `/api/1/dtabs/${args[0]}`),
        cmd === 'create' ? 'POST' : 'PUT',
        headers,
        file.body,
      )
      if (cmd === 'update' && r.status === 404) throw notFound()
      if (![200, 201, 204].includes(r.status)) throw unexpected(r)
      io.stdout(`${cmd === 'create' ? 'Created' : 'Updated'} ${args[0]}\n`)
      return
    }
    case 'delete': {
      expectArgs(args, 1, 'delete requires one argument')
      const conn = connect(flags, io)
      const r = await call(conn, apiUrl(conn.base, `/api/1/dtabs/${args[0]}`), 'DELETE')
      if (r.status === 404) throw notFound()
      if (![200, 201, 204].includes(r.status)) throw unexpected(r)
      io.stdout(`Deleted ${args[0]}\n`)
      return
    }
  }
}

const describeLeaf = (b: WireBound): string => {
  const residual = b.residual.isEmpty ? '' : ` (residual ${b.residual.show()})`
  return `${b.show()}${residual}  [${showAddr(b.addr)}]`
}

function showAddr(addr: Addr): string {
  if (addr.kind === 'bound')
    return addr.addresses.map((a) => `${a.host}:${a.port}`).join(', ') || 'no addresses'
  if (addr.kind === 'failed')
    return `failed: ${addr.cause instanceof Error ? addr.cause.message : String(addr.cause)}`
  return addr.kind
}

async function namesCommand(
  cmd: 'delegate' | 'resolve',
  args: string[],
  flags: Flags,
  io: NamerctlIo,
): Promise<void> {
  expectArgs(args, 2, `${cmd} requires a namespace and a path`)
  const conn = connect(flags, io)
  const query: Record<string, string> = { path: args[1]! }
  if (flags.dtab !== undefined) query['dtab'] = flags.dtab
  const r = await call(conn, apiUrl(conn.base, `/api/1/${cmd}/${args[0]}`, query), 'GET', {
    accept: 'application/json',
  })
  if (r.status !== 200)
    throw new CommandError(
      `unexpected response: ${statusLine(r.status)}${r.body ? `: ${r.body.trim()}` : ''}`,
    )
  if (flags.json) {
    io.stdout(r.body.endsWith('\n') ? r.body : `${r.body}\n`)
    return
  }
  let json: unknown
  try {
    json = JSON.parse(r.body)
  } catch {
    throw new CommandError(`namerd answered something that is not JSON: ${r.body.slice(0, 200)}`)
  }
  if (cmd === 'delegate') {
    const tree = delegateTreeFromJson(json)
    if (isLeft(tree)) throw new CommandError(`cannot read the delegation: ${tree.left}`)
    io.stdout(`${DelegateTree.render(tree.right, describeLeaf)}\n`)
    return
  }
  const addr = addrFromJson(json)
  if (isLeft(addr)) throw new CommandError(`cannot read the addr: ${addr.left}`)
  const a = addr.right
  if (a.kind === 'bound') {
    const lines = a.addresses.map((x) => {
      const meta = Object.keys(x.metadata).length > 0 ? `  ${JSON.stringify(x.metadata)}` : ''
      return `${x.host}:${x.port}${meta}\n`
    })
    io.stdout(lines.length > 0 ? lines.join('') : '(no addresses)\n')
  } else io.stdout(`${showAddr(a)}\n`)
}

function usageOf(positional: readonly string[]): string {
  const [top, sub] = positional
  if (top === 'dtab') return (sub !== undefined && USAGES[ALIASES[sub] ?? '']) || USAGES['dtab']!
  if (top === 'delegate' || top === 'resolve' || top === 'completion') return USAGES[top]!
  return ROOT_USAGE
}

/**
 * The `namerctl` command (linkerd's Go CLI, same flags and output): `dtab list|get|create|update|
 * delete` against namerd's HTTP API, plus `delegate`, `resolve` and `completion bash|zsh`. Requests
 * carry `Authorization: Bearer <token>` when a token is given (`--token`, `NAMERCTL_TOKEN` or
 * `token` in `.namerctl.yaml`). Returns the exit code: 0; 2 after a usage error (`Error: <message>`
 * and the usage on stderr); 255 after a failure (`Error: <message>` on stderr). `--help` prints
 * the usage and `--version` the version on stdout.
 *
 * @example
 * ```ts
 * const code = await namerctlMain(['dtab', 'get', 'default'], { stdout, stderr, readStdin, env: process.env, cwd: process.cwd() })
 * // # version AAAAAAAAAAE=
 * // /svc  => /#/io.l5d.fs ;
 * ```
 */
export async function namerctlMain(args: readonly string[], io: NamerctlIo): Promise<number> {
  let positional: string[] = []
  try {
    const parsed = parseArgs(args)
    positional = parsed.positional
    const { flags } = parsed
    const [top, ...rest] = positional
    if (flags.showVersion) {
      io.stdout(`namerctl ${packageVersion()}\n`)
      return EXIT_OK
    }
    if (flags.help || top === undefined || top === 'help') {
      io.stdout(usageOf(top === 'help' ? rest : positional))
      return EXIT_OK
    }
    if (top === 'dtab') {
      const [sub, ...subArgs] = rest
      const cmd = sub === undefined ? undefined : ALIASES[sub]
      if (cmd === undefined) {
        if (sub === undefined) {
          io.stdout(USAGES['dtab']!)
          return EXIT_OK
        }
        throw new UsageError(`unknown command "${sub}" for "namerctl dtab"`)
      }
      await dtabCommand(cmd, subArgs, flags, io)
      return EXIT_OK
    }
    if (top === 'delegate' || top === 'resolve') {
      await namesCommand(top, rest, flags, io)
      return EXIT_OK
    }
    if (top === 'completion') {
      expectArgs(rest, 1, 'completion requires a shell: bash or zsh')
      const shell = rest[0]!
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`unknown shell "${shell}": bash or zsh`)
      io.stdout(completionScript(shell))
      return EXIT_OK
    }
    throw new UsageError(`unknown command "${top}" for "namerctl"`)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (error instanceof UsageError) {
      io.stderr(`Error: ${message}\n${usageOf(positional)}`)
      return EXIT_USAGE
    }
    io.stderr(`Error: ${message}\n`)
    return NAMERCTL_EXIT_FAILURE
  }
}
