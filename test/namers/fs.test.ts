import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Activity } from '../../src/core/activity.js'
import { type FsNamer, FsNamerFileError, fsNamer, parseServiceFile } from '../../src/namers/fs.js'
import type { Addr } from '../../src/naming/addr.js'
import type { NameBound } from '../../src/naming/name.js'
import type { NameTree } from '../../src/naming/nametree.js'
import { Path } from '../../src/naming/path.js'
import { inMemoryStats } from '../../src/stats/stats.js'

let dir: string
let namer: FsNamer
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-fs-'))
})
afterEach(async () => {
  namer?.close()
  await rm(dir, { recursive: true, force: true })
})

function first<T>(a: Activity<T>, p: (v: T) => boolean = () => true, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)
    let stop: (() => void) | undefined
    let done = false
    stop = a.observe((s) => {
      if (done || s.kind !== 'ok' || !p(s.value)) return
      done = true
      clearTimeout(timer)
      queueMicrotask(() => stop?.())
      resolve(s.value)
    })
    if (done) stop()
  })
}
const addrOf = (tree: NameTree<unknown>) => (tree as { value: NameBound }).value.addr
function settled(
  tree: NameTree<unknown>,
  p: (a: Addr) => boolean = (a) => a.kind !== 'pending',
): Promise<Addr> {
  const v = addrOf(tree)
  return first(
    {
      observe: (f: (s: { kind: 'ok'; value: Addr }) => void) => v.observe((a) => f({ kind: 'ok', value: a })),
    } as unknown as Activity<Addr>,
    p,
  )
}
const ports = (a: Addr) => (a.kind === 'bound' ? a.addresses.map((x) => x.port).sort() : a.kind)

describe('parseServiceFile', () => {
  it('reads host port lines, weights, comments and blank lines', () => {
    const r = parseServiceFile('f', '# users\n127.0.0.1 8080\n\n  127.0.0.1   8081 * 0.25  # canary\n')
    expect(Array.isArray(r) && r.map((a) => [a.host, a.port, a.metadata])).toEqual([
      ['127.0.0.1', 8080, {}],
      ['127.0.0.1', 8081, { endpoint_addr_weight: 0.25 }],
    ])
  })

  it('names the file and line of a malformed line', () => {
    for (const bad of [
      '127.0.0.1',
      '127.0.0.1 http',
      '127.0.0.1 0',
      '127.0.0.1 70000',
      '127.0.0.1 80 * x',
      'a b c',
    ]) {
      const r = parseServiceFile('disco/users', `127.0.0.1 80\n${bad}\n`)
      expect(r).toBeInstanceOf(FsNamerFileError)
      expect((r as FsNamerFileError).line).toBe(2)
      expect((r as FsNamerFileError).message).toMatch(/^disco\/users:2: malformed address: /)
    }
  })
})

describe('fsNamer', () => {
  it('binds /<file> with id /#/io.l5d.fs/<file>, subdirectories, residuals; missing is Neg', async () => {
    await writeFile(join(dir, 'users'), '127.0.0.1 8080\n')
    await mkdir(join(dir, 'prod'))
    await writeFile(join(dir, 'prod', 'web'), '127.0.0.1 9000\n')
    namer = fsNamer({ rootDir: dir, pollIntervalMs: 0 })
    const users = await first(namer.lookup(Path.read('/users/api/v1')))
    expect(users.kind).toBe('leaf')
    const bound = (users as { value: NameBound }).value
    expect(bound.idStr).toBe('/#/io.l5d.fs/users')
    expect(bound.path.show()).toBe('/api/v1')
    expect(ports(await settled(users))).toEqual([8080])
    const web = (await first(namer.lookup(Path.read('/prod/web')))) as { value: NameBound }
    expect(web.value.idStr).toBe('/#/io.l5d.fs/prod/web')
    expect((await first(namer.lookup(Path.read('/missing')))).kind).toBe('neg')
    expect((await first(namer.lookup(Path.read('/prod')))).kind).toBe('neg')
    expect((await first(namer.lookup(Path.read('/../etc/passwd')))).kind).toBe('neg')
  })

  it('uses its prefix in ids', async () => {
    await writeFile(join(dir, 'users'), '127.0.0.1 8080\n')
    namer = fsNamer({ rootDir: dir, prefix: 'disco', pollIntervalMs: 0 })
    expect(namer.prefix.show()).toBe('/#/disco')
    const t = (await first(namer.lookup(Path.read('/users')))) as { value: NameBound }
    expect(t.value.idStr).toBe('/#/disco/users')
  })

  it('re-reads a file when it changes, and sees a file that appears', async () => {
    await writeFile(join(dir, 'users'), '127.0.0.1 8080\n')
    namer = fsNamer({ rootDir: dir, pollIntervalMs: 0 })
    const users = namer.lookup(Path.read('/users'))
    const stop = users.observe(() => {})
    const tree = await first(users)
    expect(ports(await settled(tree))).toEqual([8080])
    await writeFile(join(dir, 'users'), '127.0.0.1 8080\n127.0.0.1 8081\n')
    expect(ports(await settled(tree, (a) => ports(a).length === 2))).toEqual([8080, 8081])
    const later = namer.lookup(Path.read('/later'))
    const stop2 = later.observe(() => {})
    expect((await first(later)).kind).toBe('neg')
    await writeFile(join(dir, 'later'), '127.0.0.1 7000\n')
    expect((await first(later, (t) => t.kind === 'leaf')).kind).toBe('leaf')
    stop()
    stop2()
  })

  it('keeps the last good addresses when a line goes bad, and reports file and line', async () => {
    const stats = inMemoryStats()
    const errors: FsNamerFileError[] = []
    await writeFile(join(dir, 'users'), '127.0.0.1 8080\n')
    namer = fsNamer({ rootDir: dir, pollIntervalMs: 0, stats, onError: (e) => errors.push(e) })
    const tree = await first(namer.lookup(Path.read('/users')))
    const stop = addrOf(tree).observe(() => {})
    expect(ports(await settled(tree))).toEqual([8080])
    await writeFile(join(dir, 'users'), '127.0.0.1 8080\n127.0.0.1 oops\n')
    namer.refresh()
    const deadline = Date.now() + 3000
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(errors[0]?.message).toBe(
      `${join(dir, 'users')}:2: malformed address: "127.0.0.1 oops" (port 1-65535 expected)`,
    )
    expect(ports(addrOf(tree).sample())).toEqual([8080])
    expect(stats.counterValue('file_errors')).toBeGreaterThanOrEqual(1)
    stop()
  })

  it('a file that never parsed fails its addr', async () => {
    await writeFile(join(dir, 'bad'), 'nope\n')
    namer = fsNamer({ rootDir: dir, pollIntervalMs: 0 })
    const tree = await first(namer.lookup(Path.read('/bad')))
    const a = await settled(tree)
    expect(a.kind).toBe('failed')
  })

  it('lists the top-level files as bound names', async () => {
    await writeFile(join(dir, 'b'), '127.0.0.1 1\n')
    await writeFile(join(dir, 'a'), '127.0.0.1 1\n')
    await mkdir(join(dir, 'sub'))
    namer = fsNamer({ rootDir: dir, pollIntervalMs: 0 })
    expect(await first(namer.names())).toEqual(['/#/io.l5d.fs/a', '/#/io.l5d.fs/b'])
  })
})
