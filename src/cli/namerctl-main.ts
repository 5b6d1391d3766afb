import { existsSync, readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { isLeft } from 'fp-ts/lib/Either.js'
import { request } from 'undici'
import { parse as parseYaml } from 'yaml'
import { addrFromJson, delegateTreeFromJson, type WireBound } from '../namerd/client/wire.js'
import type { Addr } from '../naming/addr.js'
import { DelegateTree } from '../naming/delegate-tree.js'

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

/** A failure: exits 255 with `Error: <message>` and the usage on stderr, the message on stdout. */
class CommandError extends Error {}

const CONFIG_NAMES = ['.namerctl.yaml', '.namerctl.yml', '.namerctl.json']

const ROOT_USAGE = `namerctl: find and update information about your namers and their dtabs.

Usage:
  namerctl [command]

Available Commands:
  dtab        Control namer's dtab interface
  delegate    Show how a path is delegated in a namespace
  resolve     Show the addresses a path resolves to in a namespace

Flags:
      --base-url string   namer location (e.g. http://namerd.example.com:4180)
      --config string     config file (default is .namerctl.yaml in this or a parent directory)
  -h, --help              help for namerctl

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

interface Flags {
  baseUrl?: string
  config?: string
  json: boolean
  pretty: boolean
  version: string
  dtab?: string
  help: boolean
}

function parseBool(flag: string, v: string): boolean {
  if (['true', '1', 't', 'TRUE', 'True', 'T'].includes(v)) return true
  if (['false', '0', 'f', 'FALSE', 'False', 'F'].includes(v)) return false
  throw new CommandError(
    `invalid argument "${v}" for "--${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`,
  )
}

function parseArgs(args: readonly string[]): { flags: Flags; positional: string[] } {
  const flags: Flags = { json: false, pretty: true, version: '', help: false }
  const positional: string[] = []
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
    const name = (eq >= 0 ? a.slice(0, eq) : a).replace(/^--?/, '')
    const inline = eq >= 0 ? a.slice(eq + 1) : undefined
    const value = () => {
      if (inline !== undefined) return inline
      const v = args[++i]
      if (v === undefined) throw new CommandError(`flag needs an argument: --${name}`)
      return v
    }
    switch (name) {
      case 'base-url':
        flags.baseUrl = value()
        break
      case 'config':
        flags.config = value()
        break
      case 'version':
        flags.version = value()
        break
      case 'dtab':
        flags.dtab = value()
        break
      case 'json':
        flags.json = inline === undefined ? true : parseBool(name, inline)
        break
      case 'pretty':
        flags.pretty = inline === undefined ? true : parseBool(name, inline)
        break
      case 'h':
      case 'help':
        flags.help = true
        break
      default:
        throw new CommandError(`unknown flag: ${a.startsWith('--') ? `--${name}` : a}`)
    }
  }
  return { flags, positional }
}

/** The base URL: `--base-url`, then `NAMERCTL_BASE_URL`, then `base-url` in a `.namerctl.*` file. */
function baseUrlOf(flags: Flags, io: NamerctlIo): URL {
  let value = flags.baseUrl ?? io.env['NAMERCTL_BASE_URL'] ?? ''
  if (value === '') {
    const file = flags.config !== undefined ? resolvePath(io.cwd, flags.config) : findConfig(io.cwd)
    if (file !== undefined) {
      let parsed: unknown
      try {
        parsed = parseYaml(readFileSync(file, 'utf8'))
      } catch (error) {
        throw new CommandError(`cannot read config file ${file}: ${(error as Error).message}`)
      }
      const v =
        typeof parsed === 'object' && parsed !== null
          ? (parsed as Record<string, unknown>)['base-url']
          : undefined
      if (typeof v === 'string') value = v
    }
  }
  if (value === '') throw new CommandError('empty base URL')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new CommandError(`invalid base URL: ${value}`)
  }
  if (url.host === '' || !/^https?:$/.test(url.protocol)) throw new CommandError(`invalid base URL: ${value}`)
  return url
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
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  let r: Awaited<ReturnType<typeof request>>
  try {
    r = await request(url, { method: method as 'GET', headers, body: body ?? null })
  } catch (error) {
    throw new CommandError(`${method} ${url}: ${(error as Error).message}`)
  }
  const etag = r.headers['etag']
  return { status: r.statusCode, etag: typeof etag === 'string' ? etag : '', body: await r.body.text() }
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
  if (positional.length !== n) throw new CommandError(message)
}

async function dtabCommand(cmd: string, args: string[], flags: Flags, io: NamerctlIo): Promise<void> {
  switch (cmd) {
    case 'list': {
      expectArgs(args, 0, 'list does not take arguments')
      const base = baseUrlOf(flags, io)
      const r = await call(apiUrl(base, '/api/1/dtabs'), 'GET', { accept: 'application/json' })
      if (r.status !== 200) throw unexpected(r)
      const names = JSON.parse(r.body) as string[]
      io.stdout(flags.json ? `${goJson(names)}\n` : `${names.join('\n')}\n`)
      return
    }
    case 'get': {
      expectArgs(args, 1, 'get requires a name argument')
      const base = baseUrlOf(flags, io)
      const r = await call(apiUrl(base, `/api/1/dtabs/${args[0]}`), 'GET', { accept: 'application/json' })
      if (r.status === 404) throw notFound()
      if (r.status !== 200) throw unexpected(r)
      const dtab = JSON.parse(r.body) as JsonDentry[]
      if (flags.json) io.stdout(`${goJson({ version: r.etag, dtab })}\n`)
      else if (flags.pretty) io.stdout(`${r.etag === '' ? '' : `# version ${r.etag}\n`}${prettyDtab(dtab)}`)
      else io.stdout(`${dtab.map((d) => `${d.prefix}=>${d.dst};`).join('')}\n`)
      return
    }
    case 'create':
    case 'update': {
      expectArgs(args, 2, `${cmd} requires a name and file path`)
      const base = baseUrlOf(flags, io)
      const file = await readDtabFile(args[1]!, io)
      const headers: Record<string, string> = { 'content-type': file.type }
      const version = file.version !== '' ? file.version : flags.version
      if (cmd === 'update' && version !== '') headers['if-match'] = version
      const r = await call(
        apiUrl(base, `/api/1/dtabs/${args[0]}`),
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
      const base = baseUrlOf(flags, io)
      const r = await call(apiUrl(base, `/api/1/dtabs/${args[0]}`), 'DELETE')
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
  const base = baseUrlOf(flags, io)
  const query: Record<string, string> = { path: args[1]! }
  if (flags.dtab !== undefined) query['dtab'] = flags.dtab
  const r = await call(apiUrl(base, `/api/1/${cmd}/${args[0]}`, query), 'GET', { accept: 'application/json' })
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
  if (top === 'delegate' || top === 'resolve') return USAGES[top]!
  return ROOT_USAGE
}

/**
 * The `namerctl` command (linkerd's Go CLI, same flags, output and exit codes): `dtab list|get|
 * create|update|delete` against namerd's HTTP API, plus `delegate` and `resolve`. Returns the exit
 * code: 0, or 255 after printing `Error: <message>` and the usage on stderr and the message on
 * stdout.
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
    if (flags.help || top === undefined || top === 'help') {
      io.stdout(usageOf(top === 'help' ? rest : positional))
      return 0
    }
    if (top === 'dtab') {
      const [sub, ...subArgs] = rest
      const cmd = sub === undefined ? undefined : ALIASES[sub]
      if (cmd === undefined) {
        if (sub === undefined) {
          io.stdout(USAGES['dtab']!)
          return 0
        }
        throw new CommandError(`unknown command "${sub}" for "namerctl dtab"`)
      }
      await dtabCommand(cmd, subArgs, flags, io)
      return 0
    }
    if (top === 'delegate' || top === 'resolve') {
      await namesCommand(top, rest, flags, io)
      return 0
    }
    throw new CommandError(`unknown command "${top}" for "namerctl"`)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    io.stderr(`Error: ${message}\n${usageOf(positional)}`)
    io.stdout(`${message}\n`)
    return 255
  }
}
