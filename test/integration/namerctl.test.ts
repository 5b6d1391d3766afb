// namerctl against a real namerd on loopback (spec §3): commands, flags, output and exit codes.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { namerctlMain, prettyDtab } from '../../src/cli/namerctl-main.js'
import { type HttpController, httpController } from '../../src/namerd/http/controller.js'
import { type Listening, listen } from '../../src/namerd/http/listen.js'
import { nameEndpoints } from '../../src/namerd/http/names.js'
import { inMemoryDtabStore } from '../../src/namerd/store/memory.js'
import type { DtabStore } from '../../src/namerd/store/store.js'
import { fsNamer } from '../../src/namers/fs.js'
import { Dtab } from '../../src/naming/dtab.js'

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
    expect(r.code).toBe(255)
    expect(r.stdout).toBe('list does not take arguments\n')
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

  it('a missing dtab: exit 255, Error on stderr, the message on stdout', async () => {
    const r = await run(['dtab', 'get', 'nope'])
    expect(r.code).toBe(255)
    expect(r.stdout).toBe('resource was not found by ID or name\n')
    expect(r.stderr.startsWith('Error: resource was not found by ID or name\n')).toBe(true)
  })

  it('requires a name', async () => {
    expect((await run(['dtab', 'get'])).stdout).toBe('get requires a name argument\n')
  })
})

describe('namerctl dtab create, update, delete', () => {
  it('creates from a dtab text file and refuses an existing one', async () => {
    const f = await file('new.dtab', '/svc => /#/io.l5d.fs\n')
    expect(await run(['dtab', 'create', 'new', f])).toEqual({ code: 0, stdout: 'Created new\n', stderr: '' })
    expect((await store.observe('new').toPromise())?.dtab.show()).toBe('/svc=>/#/io.l5d.fs')
    const again = await run(['dtab', 'new', 'new', f])
    expect(again.code).toBe(255)
    expect(again.stdout).toBe('unexpected response: 409 Conflict\n')
  })

  it('creates from a JSON {version, dtab} file; a bare array is an error', async () => {
    const f = await file('new.json', '{"dtab":[{"prefix":"/a","dst":"/b"}]}')
    expect((await run(['dtab', 'create', 'j', f])).stdout).toBe('Created j\n')
    expect((await store.observe('j').toPromise())?.dtab.show()).toBe('/a=>/b')
    const bare = await file('bare.json', '[{"prefix":"/a","dst":"/b"}]')
    const r = await run(['dtab', 'create', 'k', bare])
    expect(r.code).toBe(255)
    expect(r.stdout).toMatch(/cannot unmarshal array/)
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
    expect((await run(['dtab', 'create', 'x', ''])).stdout).toBe('empty dtab path\n')
  })

  it('updates with --version (If-Match): the current version wins, a stale one is 412', async () => {
    const f = await file('up.dtab', '/yeezy=>/kanye')
    expect((await run(['dtab', 'update', 'yeezus', f, '--version', 'AAAAAAAAAAE='])).stdout).toBe(
      'Updated yeezus\n',
    )
    const stale = await run(['dtab', 'up', 'yeezus', f, '--version=AAAAAAAAAAE='])
    expect(stale.code).toBe(255)
    expect(stale.stdout).toBe('unexpected response: 412 Precondition Failed\n')
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
    expect((await run(['dtab', 'update', 'nope', f, '--version', 'AAAAAAAAAAE='])).stdout).toBe(
      'resource was not found by ID or name\n',
    )
  })

  it('deletes, and a missing one is not found', async () => {
    expect((await run(['dtab', 'rm', 'tlop'])).stdout).toBe('Deleted tlop\n')
    expect((await run(['dtab', 'del', 'tlop'])).stdout).toBe('resource was not found by ID or name\n')
    expect((await run(['dtab', 'delete'])).stdout).toBe('delete requires one argument\n')
  })
})

describe('the base URL', () => {
  it('has no default', async () => {
    const r = await run(['dtab', 'list'], { env: {}, cwd: tmpdir() })
    expect(r).toMatchObject({ code: 255, stdout: 'empty base URL\n' })
  })

  it('needs a scheme and a host', async () => {
    expect((await run(['dtab', 'list', '--base-url', 'localhost:4180'], { env: {} })).stdout).toBe(
      'invalid base URL: localhost:4180\n',
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

  it('unknown commands and flags are errors', async () => {
    expect((await run(['frobnicate'])).stdout).toBe('unknown command "frobnicate" for "namerctl"\n')
    expect((await run(['dtab', 'list', '--bogus'])).stdout).toBe('unknown flag: --bogus\n')
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
