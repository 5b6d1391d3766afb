// namerctl against a real namerd on loopback (spec §3): commands, flags, output and exit codes.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { namerctlMain, prettyDtab } from '../../src/cli/namerctl-main.js'
import { type HttpController, httpController } from '../../src/namerd/http/controller.js'
import { type Listening, listen } from '../../src/namerd/http/listen.js'
import { nameEndpoints } from '../../src/namerd/http/names.js'
import { inMemoryDtabStore } from '../../src/namerd/store/memory.js'
import type { DtabStore } from '../../src/namerd/store/store.js'
import { fsNamer } from '../../src/namers/fs.js'
import { Dtab } from '../../src/naming/dtab.js'

const exec = promisify(execFile)

let server: Listening
let api: HttpController
let store: DtabStore
let dir: string
let fs: ReturnType<typeof fsNamer>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-namerctl-'))
  await mkdir(join(dir, 'disco'))
  await writeFile(join(dir, 'disco', 'users'), '127.0.0.1 8080\n')
  fs = fsNamer({ rootDir: join(dir, 'disco'), pollIntervalMs: 0 })
})
afterAll(async () => {
  fs.close()
  await rm(dir, { recursive: true, force: true })
})

beforeEach(async () => {
  store = inMemoryDtabStore({
    namespaces: { yeezus: Dtab.read('/yeezy=>/yeezus'), tlop: Dtab.read('/tlop=>/life') },
  })
  api = httpController({ store, names: nameEndpoints({ store, namers: [{ prefix: fs.prefix, namer: fs }] }) })
  server = await listen(api.handler, '127.0.0.1', 0)
  return async () => {
    api.close()
    await server.close()
  }
})

async function run(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
) {
  let stdout = ''
  let stderr = ''
  const code = await namerctlMain(args, {
    stdout: (s) => {
      stdout += s
    },
    stderr: (s) => {
      stderr += s
    },
    readStdin: async () => options.stdin ?? '',
    env: options.env ?? { NAMERCTL_BASE_URL: server.url },
    cwd: options.cwd ?? dir,
  })
  return { code, stdout, stderr }
}
/** A failure at run time: exit 255, `Error: <message>` once on stderr, nothing else (no usage). */
async function failure(args: string[], options: Parameters<typeof run>[1] = {}): Promise<string> {
  const r = await run(args, options)
  expect(r.code).toBe(255)
  expect(r.stdout).toBe('')
  expect(r.stderr).not.toContain('Usage:')
  expect(r.stderr).toMatch(/^Error: [^\n]*\n$/)
  return r.stderr.slice('Error: '.length, -1)
}

/** A usage error: exit 2, `Error: <message>` and the usage on stderr, nothing on stdout. */
async function usageError(args: string[]): Promise<string> {
  const r = await run(args)
  expect(r.code).toBe(2)
  expect(r.stdout).toBe('')
  const m = /^Error: ([^\n]*)\n/.exec(r.stderr)
  expect(m).not.toBeNull()
  expect(r.stderr.slice(m![0].length)).toMatch(/^([^\n]*\n\n)?Usage:\n/)
  return m![1]!
}

const file = async (name: string, text: string) => {
  const f = join(dir, name)
  await writeFile(f, text)
  return f
}

describe('namerctl dtab list', () => {
  it('prints the names one per line, or JSON', async () => {
    expect(await run(['dtab', 'list'])).toEqual({ code: 0, stdout: 'tlop\nyeezus\n', stderr: '' })
    expect((await run(['dtab', 'ls', '--json'])).stdout).toBe('["tlop","yeezus"]\n')
  })

  it('takes no arguments', async () => {
    const r = await run(['dtab', 'list', 'x'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^Error: list does not take arguments\nUsage:\n {2}namerctl dtab list/)
  })
})

describe('namerctl dtab get', () => {
  it('prints the version and the aligned dtab', async () => {
    expect(await run(['dtab', 'get', 'yeezus'])).toEqual({
      code: 0,
      stdout: '# version AAAAAAAAAAE=\n/yeezy  => /yeezus ;\n',
      stderr: '',
    })
    await store.put('yeezus', Dtab.read('/foo=>/bar;/foo/bar/baz=>/bah & 2 * /x'))
    expect((await run(['dtab', 'cat', 'yeezus'])).stdout).toBe(
      '# version AAAAAAAAAAI=\n/foo          => /bar ;\n/foo/bar/baz  => /bah & 2.00*/x ;\n',
    )
  })

  it('--pretty=false prints compact dentries each followed by ;', async () => {
    await store.put('yeezus', Dtab.read('/a=>/b;/c=>/d'))
    expect((await run(['dtab', 'get', 'yeezus', '--pretty=false'])).stdout).toBe('/a=>/b;/c=>/d;\n')
  })

  it("--json prints version and dtab as Go's encoder would (& escaped)", async () => {
    await store.put('yeezus', Dtab.read('/a=>/b & /c'))
    expect((await run(['dtab', 'get', 'yeezus', '--json'])).stdout).toBe(
      '{"version":"AAAAAAAAAAI=","dtab":[{"prefix":"/a","dst":"/b \\u0026 /c"}]}\n',
    )
  })

  it('a missing dtab: exit 255, the error once on stderr, no usage', async () => {
    expect(await run(['dtab', 'get', 'nope'])).toEqual({
      code: 255,
      stdout: '',
      stderr: 'Error: resource was not found by ID or name\n',
    })
  })

  it('requires a name', async () => {
    expect(await usageError(['dtab', 'get'])).toBe('get requires a name argument')
  })
})

describe('namerctl dtab create, update, delete', () => {
  it('creates from a dtab text file and refuses an existing one', async () => {
    const f = await file('new.dtab', '/svc => /#/io.l5d.fs\n')
    expect(await run(['dtab', 'create', 'new', f])).toEqual({ code: 0, stdout: 'Created new\n', stderr: '' })
    expect((await store.observe('new').toPromise())?.dtab.show()).toBe('/svc=>/#/io.l5d.fs')
    expect(await failure(['dtab', 'new', 'new', f])).toBe('unexpected response: 409 Conflict')
  })

  it('creates from a JSON {version, dtab} file; a bare array is an error', async () => {
    const f = await file('new.json', '{"dtab":[{"prefix":"/a","dst":"/b"}]}')
    expect((await run(['dtab', 'create', 'j', f])).stdout).toBe('Created j\n')
    expect((await store.observe('j').toPromise())?.dtab.show()).toBe('/a=>/b')
    const bare = await file('bare.json', '[{"prefix":"/a","dst":"/b"}]')
    expect(await failure(['dtab', 'create', 'k', bare])).toMatch(/cannot unmarshal array/)
  })

  it('reads the dtab from standard input with -', async () => {
    expect(
      (
        await run(['dtab', 'create', 'stdin', '-'], {
          stdin: '/x=>/y',
          env: { NAMERCTL_BASE_URL: server.url },
        })
      ).stdout,
    ).toBe('Created stdin\n')
    expect(await failure(['dtab', 'create', 'x', ''])).toBe('empty dtab path')
  })

  it('updates with --version (If-Match): the current version wins, a stale one is 412', async () => {
    const f = await file('up.dtab', '/yeezy=>/kanye')
    expect((await run(['dtab', 'update', 'yeezus', f, '--version', 'AAAAAAAAAAE='])).stdout).toBe(
      'Updated yeezus\n',
    )
    expect(await failure(['dtab', 'up', 'yeezus', f, '--version=AAAAAAAAAAE='])).toBe(
      'unexpected response: 412 Precondition Failed',
    )
    expect((await run(['dtab', 'update', 'yeezus', f])).stdout).toBe('Updated yeezus\n')
  })

  it('takes the version from a JSON file before --version', async () => {
    const f = await file('up.json', '{"version":"AAAAAAAAAAE=","dtab":[{"prefix":"/a","dst":"/b"}]}')
    expect((await run(['dtab', 'update', 'yeezus', f, '--version', 'garbage'])).stdout).toBe(
      'Updated yeezus\n',
    )
  })

  it('update of a missing dtab with a version is not found', async () => {
    const f = await file('up.dtab', '/a=>/b')
    expect(await failure(['dtab', 'update', 'nope', f, '--version', 'AAAAAAAAAAE='])).toBe(
      'resource was not found by ID or name',
    )
  })

  it('deletes, and a missing one is not found', async () => {
    expect((await run(['dtab', 'rm', 'tlop'])).stdout).toBe('Deleted tlop\n')
    expect(await failure(['dtab', 'del', 'tlop'])).toBe('resource was not found by ID or name')
    expect(await usageError(['dtab', 'delete'])).toBe('delete requires one argument')
  })
})

describe('the base URL', () => {
  it('has no default', async () => {
    expect(await failure(['dtab', 'list'], { env: {}, cwd: tmpdir() })).toBe('empty base URL')
  })

  it('needs a scheme and a host', async () => {
    expect(await failure(['dtab', 'list', '--base-url', 'localhost:4180'], { env: {} })).toBe(
      'invalid base URL: localhost:4180',
    )
  })

  it('--base-url wins over the environment, which wins over .namerctl.yaml in a parent directory', async () => {
    const nested = join(dir, 'a', 'b')
    await mkdir(nested, { recursive: true })
    await writeFile(join(dir, 'a', '.namerctl.yaml'), `base-url: ${server.url}\n`)
    expect((await run(['dtab', 'list'], { env: {}, cwd: nested })).stdout).toBe('tlop\nyeezus\n')
    expect(
      (await run(['dtab', 'list'], { env: { NAMERCTL_BASE_URL: 'http://127.0.0.1:1' }, cwd: nested })).code,
    ).toBe(255)
    expect(
      (await run(['dtab', 'list', `--base-url=${server.url}/`], { env: { NAMERCTL_BASE_URL: 'x' } })).code,
    ).toBe(0)
  })
})

describe('namerctl delegate and resolve (beyond the reference)', () => {
  it('delegate prints the delegation as an indented tree', async () => {
    await store.put('yeezus', Dtab.read('/svc=>/#/io.l5d.fs'))
    const r = await run(['delegate', 'yeezus', '/svc/users'])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      '/svc/users\n└─ /#/io.l5d.fs/users  => /#/io.l5d.fs/users  [127.0.0.1:8080]  (/svc=>/#/io.l5d.fs)\n',
    )
  })

  it('resolve prints the addresses', async () => {
    await store.put('yeezus', Dtab.read('/svc=>/#/io.l5d.fs'))
    expect((await run(['resolve', 'yeezus', '/svc/users'])).stdout).toBe('127.0.0.1:8080\n')
    expect((await run(['resolve', 'yeezus', '/nothing'])).stdout).toBe('neg\n')
    expect((await run(['resolve', 'yeezus', '/svc/users', '--json'])).stdout).toBe(
      '{"type":"bound","addrs":[{"ip":"127.0.0.1","port":8080,"meta":{}}],"meta":{}}\n',
    )
  })
})

describe('namerctl as a command-line program', () => {
  it('unknown commands and flags are usage errors (exit 2, usage on stderr)', async () => {
    expect(await usageError(['frobnicate'])).toBe('unknown command "frobnicate" for "namerctl"')
    expect(await usageError(['dtab', 'list', '--bogus'])).toBe('unknown flag: --bogus')
    expect(await usageError(['dtab', 'frob'])).toBe('unknown command "frob" for "namerctl dtab"')
    expect(await usageError(['dtab', 'get', 'x', '--json=maybe'])).toMatch(/invalid argument "maybe"/)
    expect(await usageError(['dtab', 'list', '--base-url'])).toBe('flag needs an argument: --base-url')
  })

  it('--help, -h and help print the usage on stdout and exit 0', async () => {
    const root = await run(['--help'])
    expect(root).toMatchObject({ code: 0, stderr: '' })
    expect(root.stdout).toMatch(/^namerctl: find and update/)
    expect(root.stdout).toContain('--token string')
    expect(root.stdout).toContain('completion')
    expect(await run(['-h'])).toEqual(root)
    expect(await run([])).toEqual(root)
    const get = await run(['dtab', 'get', '--help'])
    expect(get).toMatchObject({ code: 0, stderr: '' })
    expect(get.stdout).toMatch(/^Usage:\n {2}namerctl dtab get <name>/)
    expect((await run(['help', 'delegate'])).stdout).toMatch(/^Usage:\n {2}namerctl delegate/)
  })

  it('--version and -V print the package version; dtab update --version is still the ETag', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `namerctl ${version}\n`, stderr: '' })
    expect(await run(['-V'])).toEqual({ code: 0, stdout: `namerctl ${version}\n`, stderr: '' })
    expect(await run(['dtab', 'list', '--version'])).toEqual({
      code: 0,
      stdout: `namerctl ${version}\n`,
      stderr: '',
    })
    const f = await file('v.dtab', '/a=>/b')
    expect(await failure(['dtab', 'update', 'yeezus', '--version', 'AAAAAAAAAAc=', f])).toBe(
      'unexpected response: 412 Precondition Failed',
    )
  })

  it('a namerd that cannot be reached is a failure: once on stderr, no usage', async () => {
    const closed = await listen((_req, res) => res.end(), '127.0.0.1', 0)
    const url = closed.url
    await closed.close()
    expect(await failure(['dtab', 'list', '--base-url', url])).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/api\/1\/dtabs: /,
    )
  })
})

describe('namerctl --token (namerd with authToken)', () => {
  let secured: Listening
  let securedApi: HttpController
  beforeEach(async () => {
    securedApi = httpController({ store, authToken: 's3cret' })
    secured = await listen(securedApi.handler, '127.0.0.1', 0)
    return async () => {
      securedApi.close()
      await secured.close()
    }
  })
  const env = () => ({ NAMERCTL_BASE_URL: secured.url })

  it('without a token a write is refused with a 401 that says how to give one', async () => {
    const f = await file('t.dtab', '/a=>/b')
    const message = await failure(['dtab', 'create', 'fresh', f], { env: env() })
    expect(message).toContain('401 Unauthorized')
    expect(message).toContain('--token')
    expect(message).toContain('NAMERCTL_TOKEN')
    expect(message).toContain('.namerctl.yaml')
    expect(await store.observe('fresh').toPromise()).toBeUndefined()
    // Reads stay open.
    expect((await run(['dtab', 'list'], { env: env() })).stdout).toBe('tlop\nyeezus\n')
  })

  it('--token is sent as Authorization: Bearer and the write is applied', async () => {
    const f = await file('t.dtab', '/a=>/b')
    expect(await run(['dtab', 'create', 'fresh', f, '--token', 's3cret'], { env: env() })).toEqual({
      code: 0,
      stdout: 'Created fresh\n',
      stderr: '',
    })
    expect((await store.observe('fresh').toPromise())?.dtab.show()).toBe('/a=>/b')
    expect((await run(['dtab', 'rm', 'fresh', '--token=s3cret'], { env: env() })).stdout).toBe(
      'Deleted fresh\n',
    )
  })

  it('NAMERCTL_TOKEN, then the token key of .namerctl.yaml; --token wins', async () => {
    const f = await file('t.dtab', '/a=>/b')
    expect(
      (await run(['dtab', 'create', 'env', f], { env: { ...env(), NAMERCTL_TOKEN: 's3cret' } })).code,
    ).toBe(0)
    const home = join(dir, 'tok')
    await mkdir(home, { recursive: true })
    await writeFile(join(home, '.namerctl.yaml'), `base-url: ${secured.url}\ntoken: s3cret\n`)
    expect((await run(['dtab', 'update', 'env', f], { env: {}, cwd: home })).stdout).toBe('Updated env\n')
    const wrong = await failure(['dtab', 'update', 'env', f, '--token', 'nope'], { env: {}, cwd: home })
    expect(wrong).toBe(
      "namerd refused the token from --token: 401 Unauthorized. Check that it equals the authToken of namerd's interface",
    )
    const fromFile = await failure(['dtab', 'rm', 'env'], { env: {}, cwd: join(dir, 'disco') })
    expect(fromFile).toBe('empty base URL')
    await writeFile(join(home, '.namerctl.yaml'), `base-url: ${secured.url}\ntoken: stale\n`)
    expect(await failure(['dtab', 'rm', 'env'], { env: {}, cwd: home })).toContain(
      `the token key of ${join(home, '.namerctl.yaml')}`,
    )
  })
})

describe('namerctl completion', () => {
  const complete = async (script: string, line: string[], extraEnv: Record<string, string> = {}) => {
    // Runs the bash completion function for a command line whose last word is being completed.
    const words = line.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ')
    const bash = `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _namerctl; printf '%s\\n' "\${COMPREPLY[@]}"`
    const { stdout } = await exec('bash', ['-c', bash], { env: { ...process.env, ...extraEnv } })
    return stdout.split('\n').filter((w) => w !== '')
  }

  it('prints a bash script that completes commands, subcommands, flags and namespaces', async () => {
    const r = await run(['completion', 'bash'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('complete -o default -F _namerctl namerctl')
    expect(await complete(r.stdout, ['namerctl', ''])).toEqual([
      'dtab',
      'delegate',
      'resolve',
      'completion',
      'help',
    ])
    expect(await complete(r.stdout, ['namerctl', 'dtab', 'u'])).toEqual(['update'])
    expect(await complete(r.stdout, ['namerctl', 'dtab', 'get', '--p'])).toEqual(['--pretty'])
    expect(await complete(r.stdout, ['namerctl', 'completion', ''])).toEqual(['bash', 'zsh'])
    // Namespace names come from `namerctl dtab list` with the connection flags typed so far.
    const bin = join(dir, 'bin')
    await mkdir(bin, { recursive: true })
    await writeFile(
      join(bin, 'namerctl'),
      `#!/bin/sh\n[ "$1 $2" = "--base-url http://n:1" ] && [ "$3 $4" = "dtab list" ] && printf 'tlop\\nyeezus\\n'\n`,
      { mode: 0o755 },
    )
    const path = `${bin}:${process.env['PATH']}`
    expect(
      await complete(r.stdout, ['namerctl', '--base-url', 'http://n:1', 'dtab', 'get', 'y'], { PATH: path }),
    ).toEqual(['yeezus'])
    expect(
      await complete(r.stdout, ['namerctl', '--base-url', 'http://n:1', 'delegate', ''], { PATH: path }),
    ).toEqual(['tlop', 'yeezus'])
  })

  it('prints a zsh script (bashcompinit) and refuses other shells', async () => {
    const r = await run(['completion', 'zsh'])
    expect(r.code).toBe(0)
    expect(r.stdout.startsWith('# zsh completion for namerctl')).toBe(true)
    expect(r.stdout).toContain('bashcompinit')
    expect(r.stdout).toContain('_namerctl() {')
    expect(await usageError(['completion', 'fish'])).toBe('unknown shell "fish": bash or zsh')
    expect(await usageError(['completion'])).toBe('completion requires a shell: bash or zsh')
  })
})

describe('prettyDtab', () => {
  it('lines the arrows up two columns after the longest prefix', () => {
    expect(
      prettyDtab([
        { prefix: '/foo', dst: '/bar' },
        { prefix: '/foo/bar/baz', dst: '/bah' },
      ]),
    ).toBe('/foo          => /bar ;\n/foo/bar/baz  => /bah ;\n')
    expect(prettyDtab([])).toBe('')
  })
})
