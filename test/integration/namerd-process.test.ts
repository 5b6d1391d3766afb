// namerd as a whole: the example configuration `npm start` uses, and the real executable
// (configuration errors, signals).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { isLeft } from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeConfig, parseConfigText } from '../../src/config/decode.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { type Namerd, startNamerd } from '../../src/namerd/server.js'
import { call } from './http-helpers.js'

const run = promisify(execFile)

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-namerd-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The example config with ports 0 and the data dir in a temp dir. */
async function exampleConfig(dataDir: string): Promise<Record<string, unknown>> {
  const raw = parseConfigText(await readFile('examples/namerd.yaml', 'utf8'))
  if (isLeft(raw)) throw raw.left
  const config = raw.right as {
    admin: { port: number }
    interfaces: { port: number }[]
    storage: { dir: string }
  }
  config.admin.port = 0
  for (const i of config.interfaces) i.port = 0
  config.storage.dir = dataDir
  return config as unknown as Record<string, unknown>
}

describe('examples/namerd.yaml (what npm start runs)', () => {
  it('starts namerd with the demo namespace, the fs namer and the admin server', async () => {
    const config = await exampleConfig(await tempDir())
    const spec = decodeConfig(namerdConfigCodec(), config)
    if (isLeft(spec)) throw spec.left
    const namerd: Namerd = await startNamerd(spec.right, { rawConfig: config, log: () => {} })
    cleanups.push(() => namerd.close())
    const api = namerd.interfaces[0]!.url
    expect((await call(`${namerd.admin.url}/admin/ping`)).body).toBe('pong')
    expect((await call(`${api}/api/1/dtabs`)).body).toBe('["demo"]\n')
    const resolved = JSON.parse((await call(`${api}/api/1/resolve/demo?path=/svc/users`)).body)
    expect(resolved.addrs.map((a: { port: number }) => a.port).sort()).toEqual([8080, 8081])
    const metrics = JSON.parse((await call(`${namerd.admin.url}/admin/metrics.json`)).body)
    expect(metrics['http/requests']).toBeGreaterThanOrEqual(2)
    expect(metrics['store/switchboard.file/namespaces']).toBe(1)
    expect(metrics['api/resolve/requests']).toBe(1)
    expect(metrics['namer/#/io.l5d.fs/lookups']).toBeGreaterThanOrEqual(1)
    const prom = (await call(`${namerd.admin.url}/admin/metrics/prometheus`)).body
    expect(prom).toContain('# TYPE http_requests_total counter')
    expect(prom).toContain('# TYPE process_cpu_user_seconds_total counter')
    expect(JSON.parse((await call(`${namerd.admin.url}/config.json`)).body).namers[0].kind).toBe('io.l5d.fs')
  })
})

function runNamerd(args: string[], stdin?: string) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/namerd.ts', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  if (stdin !== undefined) child.stdin!.end(stdin)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child,
    exited,
    out: () => stdout,
    err: () => stderr,
    async waitFor(re: RegExp, timeoutMs = 45_000): Promise<RegExpExecArray> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const m = re.exec(stdout)
        if (m) return m
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no ${re} in output: ${stdout}${stderr}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
}

describe('the namerd executable', () => {
  it('an invalid configuration exits 1 naming every wrong field', async () => {
    const p = runNamerd(
      ['-'],
      'storage: {kind: io.l5d.inMemory, bogus: 1}\ninterfaces: [{kind: io.l5d.httpController, port: -1}]\n',
    )
    expect(await p.exited).toBe(1)
    expect(p.err()).toContain('invalid configuration in standard input:')
    expect(p.err()).toContain('storage.bogus: unknown field (known fields: kind, experimental, namespaces)')
    expect(p.err()).toContain('interfaces[0].port: expected an integer port from 0 to 65535, found -1')
  })

  it('a missing io.l5d.fs rootDir stops the start with exit 1', async () => {
    const p = runNamerd(
      ['-'],
      'storage: {kind: io.l5d.inMemory}\nnamers: [{kind: io.l5d.fs, rootDir: /nonexistent/disco}]\ninterfaces: [{kind: io.l5d.httpController, port: 0}]\nadmin: {port: 0}\n',
    )
    expect(await p.exited).toBe(1)
    expect(p.err()).toContain(
      'namerd: failed to start: io.l5d.fs: rootDir "/nonexistent/disco" is not a directory',
    )
  })

  it('-validate checks the configuration and exits 0', async () => {
    const p = runNamerd(['-validate', 'examples/namerd.yaml'])
    expect(await p.exited).toBe(0)
    expect(p.out()).toBe('examples/namerd.yaml: configuration is valid\n')
  })

  it('serves, and SIGTERM closes it cleanly with exit code 0', async () => {
    const dir = await tempDir()
    const file = join(dir, 'namerd.yaml')
    await writeFile(file, JSON.stringify(await exampleConfig(join(dir, 'data'))))
    const p = runNamerd([file])
    const admin = (await p.waitFor(/admin: +(http:\/\/\S+)/))[1]!
    const api = (await p.waitFor(/http controller: (http:\/\/\S+)/))[1]!
    expect((await call(`${admin}/admin/ping`)).body).toBe('pong')
    expect((await call(`${api}/api/1/dtabs/demo`, { headers: { accept: 'application/dtab' } })).body).toBe(
      '/svc=>/#/io.l5d.fs\n',
    )
    // The banner names the installed executable, not the repository's npm script.
    expect(p.out()).toContain(`npx namerctl --base-url ${api} dtab get demo`)
    expect(p.out()).not.toContain('npm run')
    p.child.kill('SIGTERM')
    expect(await p.exited).toBe(0)
    expect(p.err()).toContain('SIGTERM, shutting down')
  })
})

describe('namerd and namerctl on the command line', () => {
  const version = async () =>
    (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version

  it('--help and -h print the usage on stdout and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const p = runNamerd([flag])
      expect(await p.exited).toBe(0)
      expect(p.out()).toMatch(/^Usage: namerd \[flags\] <config.yaml \| ->\n/)
      expect(p.out()).toContain('Exit codes:')
      expect(p.err()).toBe('')
    }
  })

  it('--version and -V print the version on stdout and exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const p = runNamerd([flag])
      expect(await p.exited).toBe(0)
      expect(p.out()).toBe(`namerd ${await version()}\n`)
      expect(p.err()).toBe('')
    }
  })

  it('an unknown flag, no configuration or two are usage errors: exit 2, once on stderr', async () => {
    for (const [args, message] of [
      [['--bogus', 'examples/namerd.yaml'], 'namerd: unknown flag: --bogus'],
      [[], 'namerd: a configuration file is required'],
      [['a.yaml', 'b.yaml'], 'namerd: one configuration file expected, found 2 arguments'],
    ] as const) {
      const p = runNamerd([...args])
      expect(await p.exited).toBe(2)
      expect(p.out()).toBe('')
      expect(p.err()).toMatch(new RegExp(`^${message}\nUsage: namerd`))
      expect(p.err().split(message).length).toBe(2)
    }
  })

  it('namerctl sends --token / NAMERCTL_TOKEN to a namerd whose interface has an authToken', async () => {
    const dir = await tempDir()
    const config = await exampleConfig(join(dir, 'data'))
    ;(config['interfaces'] as Record<string, unknown>[])[0]!['authToken'] = 'fleet-s3cret'
    const spec = decodeConfig(namerdConfigCodec(), config)
    if (isLeft(spec)) throw spec.left
    const namerd = await startNamerd(spec.right, { rawConfig: config, log: () => {} })
    cleanups.push(() => namerd.close())
    const api = namerd.interfaces[0]!.url
    const dtab = join(dir, 'canary.dtab')
    await writeFile(dtab, '/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2\n')
    const namerctl = (args: string[], env: Record<string, string> = {}) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli/namerctl.ts', '--base-url', api, ...args], {
        env: { ...process.env, NAMERCTL_TOKEN: '', ...env },
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({
          code: e.code,
          stdout: e.stdout,
          stderr: e.stderr,
        }),
      )

    const refused = await namerctl(['dtab', 'update', 'demo', dtab])
    expect(refused.code).toBe(255)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toBe(
      'Error: namerd refused the request: 401 Unauthorized (its interface has an authToken). Give the token with --token, the NAMERCTL_TOKEN environment variable or a "token" key in .namerctl.yaml\n',
    )
    expect(await namerctl(['dtab', 'update', 'demo', dtab, '--token', 'fleet-s3cret'])).toEqual({
      code: 0,
      stdout: 'Updated demo\n',
      stderr: '',
    })
    expect(await namerctl(['dtab', 'create', 'canary', dtab], { NAMERCTL_TOKEN: 'fleet-s3cret' })).toEqual({
      code: 0,
      stdout: 'Created canary\n',
      stderr: '',
    })
    const wrong = await namerctl(['dtab', 'rm', 'canary', '--token', 'guess'])
    expect(wrong.code).toBe(255)
    expect(wrong.stderr).toContain('namerd refused the token from --token: 401 Unauthorized')
    const got = await namerctl(['dtab', 'get', 'demo', '--pretty=false'])
    expect(got.stdout).toBe('/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2;\n')
  }, 60_000)
})
