// The package as a user gets it: `npm pack` in a copy of the repository without dist/ (as a fresh
// clone is: prepack must build), then installed into an empty project offline, from the local npm
// cache, and used with plain node: every subpath imported, the executables run. The optional peer
// dependencies (etcd3, node-zookeeper-client) are not installed there, so the etcd and ZooKeeper
// subpaths must fail naming the package to install.
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
  name: string
  version: string
  exports: Record<string, unknown>
  bin: Record<string, string>
}
const OPTIONAL: Record<string, string> = { './namerd/etcd': 'etcd3', './namerd/zk': 'node-zookeeper-client' }

let work: string
let files: string[]
let consumer: string

async function sh(cmd: string, args: string[], cwd: string) {
  return exec(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 })
}

interface LockEntry {
  version?: string
  dependencies?: Record<string, string>
  dev?: boolean
  [key: string]: unknown
}

/** A lockfile for a project that depends on the tarball only, with our lock's production closure. */
async function consumerLock(spec: string) {
  const ours = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>
  }
  const self = ours.packages['']!
  const packages: Record<string, LockEntry> = {
    '': { name: 'consumer', dependencies: { [pkg.name]: spec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      license: self['license'],
      dependencies: self.dependencies ?? {},
      peerDependencies: self['peerDependencies'],
      peerDependenciesMeta: self['peerDependenciesMeta'],
      bin: self['bin'],
      engines: self['engines'],
    },
  }
  const todo = Object.keys(self.dependencies ?? {})
  while (todo.length > 0) {
    const name = todo.pop()!
    const key = `node_modules/${name}`
    if (packages[key] !== undefined) continue
    const entry = ours.packages[key]
    if (entry === undefined) throw new Error(`${name} is not at the top of package-lock.json`)
    const { dev: _dev, ...rest } = entry
    packages[key] = rest
    todo.push(...Object.keys(entry.dependencies ?? {}))
  }
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'switchboard-pack-'))
  // A fresh clone: the files git knows (committed or not, ignored ones left out), no dist/.
  const clone = join(work, 'clone')
  const { stdout } = await sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root)
  for (const f of stdout.split('\0').filter((f) => f !== '')) {
    await mkdir(dirname(join(clone, f)), { recursive: true })
    await cp(join(root, f), join(clone, f)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e // deleted in the work tree but not yet in the index
    })
  }
  await symlink(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir')
  const packed = await sh('npm', ['pack', '--json', '--pack-destination', work], clone)
  const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]
  files = info[0]!.files.map((f) => f.path)
  consumer = join(work, 'consumer')
  await mkdir(consumer)
  // Offline, npm has the cached tarballs of the dependencies but not the registry's version lists, so
  // the consumer gets a lockfile: the package's production closure taken from ours.
  const spec = `file:../${info[0]!.filename}`
  await writeFile(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { [pkg.name]: spec } }),
  )
  await writeFile(join(consumer, 'package-lock.json'), JSON.stringify(await consumerLock(spec)))
  await sh('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], consumer)
}, 300_000)

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

describe('npm pack', () => {
  it('ships dist/ (built by prepack), LICENSE, README and the package metadata', async () => {
    expect(files).toContain('LICENSE')
    expect(files).toContain('README.md')
    expect(files).toContain('package.json')
    for (const target of Object.values(pkg.exports)) {
      if (typeof target === 'string') continue
      const t = target as { types: string; default: string }
      expect(files).toContain(t.default.slice(2))
      expect(files).toContain(t.types.slice(2))
    }
    for (const bin of Object.values(pkg.bin)) expect(files).toContain(bin)
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('node_modules/'))).toBe(false)
    const license = await readFile(join(consumer, 'node_modules', pkg.name, 'LICENSE'), 'utf8')
    expect(license).toContain('Apache License')
    expect(license).toContain('Version 2.0, January 2004')
    expect(license).toContain('END OF TERMS AND CONDITIONS')
    const installed = JSON.parse(
      await readFile(join(consumer, 'node_modules', pkg.name, 'package.json'), 'utf8'),
    )
    expect(installed.version).toBe(pkg.version)
    expect(installed.repository?.url).toMatch(/^git\+https:/)
    expect(installed.keywords).toContain('namerd')
  })

  it('installed offline into an empty project, every subpath imports with plain node', async () => {
    const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json')
    const script = `
      const out = {}
      for (const s of ${JSON.stringify(subpaths)}) {
        const spec = s === '.' ? '${pkg.name}' : '${pkg.name}/' + s.slice(2)
        try { out[s] = { ok: Object.keys(await import(spec)).length } }
        catch (e) { out[s] = { name: e.name, code: e.code, packageName: e.packageName, message: e.message } }
      }
      console.log(JSON.stringify(out))`
    const { stdout } = await sh(process.execPath, ['--input-type=module', '-e', script], consumer)
    const result = JSON.parse(stdout) as Record<
      string,
      { ok?: number; packageName?: string; message?: string }
    >
    for (const s of subpaths) {
      const peer = OPTIONAL[s]
      if (peer === undefined) {
        expect({ s, r: result[s] }).toEqual({ s, r: { ok: expect.any(Number) } })
        expect(result[s]!.ok).toBeGreaterThan(0)
      } else {
        // The optional peer is not installed in the consumer: a clear error naming it.
        expect(result[s]).toMatchObject({
          name: 'MissingDependencyError',
          code: 'MissingDependency',
          packageName: peer,
          message: `switchboard/${s.slice(2)} needs the package "${peer}": npm install ${peer}`,
        })
      }
    }
  })

  it('the installed executables answer --version and --help', async () => {
    const bin = join(consumer, 'node_modules', '.bin')
    expect((await sh(join(bin, 'namerd'), ['--version'], consumer)).stdout).toBe(`namerd ${pkg.version}\n`)
    expect((await sh(join(bin, 'namerctl'), ['--version'], consumer)).stdout).toBe(
      `namerctl ${pkg.version}\n`,
    )
    expect((await sh(join(bin, 'namerd'), ['--help'], consumer)).stdout).toMatch(/^Usage: namerd/)
    expect((await sh(join(bin, 'namerctl'), ['completion', 'bash'], consumer)).stdout).toContain(
      'complete -o default -F _namerctl namerctl',
    )
  })
})
