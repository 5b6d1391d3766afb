import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type DtabFileInvalid,
  fileDtabStore,
  namespaceFileName,
  namespaceOfFileName,
} from '../../../src/namerd/store/file.js'
import { namespaceProblem } from '../../../src/namerd/store/namespace.js'
import { DtabVersionMismatch } from '../../../src/namerd/store/store.js'
import { Version } from '../../../src/namerd/store/version.js'
import { Dtab } from '../../../src/naming/dtab.js'
import { inMemoryStats } from '../../../src/stats/stats.js'
import { describeDtabStore, eventually } from '../store-conformance.js'

const tempDir = () => mkdtemp(join(tmpdir(), 'switchboard-file-store-'))

describeDtabStore('file', async () => {
  const dir = await tempDir()
  return {
    store: await fileDtabStore({ dir, pollIntervalMs: 0 }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})

describe('fileDtabStore', () => {
  let dir: string
  beforeEach(async () => {
    dir = await tempDir()
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps one readable dtab file per namespace, with a version counter on top', async () => {
    const store = await fileDtabStore({ dir, pollIntervalMs: 0 })
    await store.put('default', Dtab.read('/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2'))
    await store.put('default', Dtab.read('/svc=>/#/io.l5d.fs'))
    await store.close()
    expect(await readFile(join(dir, 'default.dtab'), 'utf8')).toBe('# version 2\n/svc=>/#/io.l5d.fs;\n')
    expect(await readdir(dir)).toEqual(['default.dtab'])
  })

  it('a new store over the same directory sees the same dtabs and versions', async () => {
    const a = await fileDtabStore({ dir, pollIntervalMs: 0 })
    await a.create('x', Dtab.read('/a=>/b'))
    await a.create('y', Dtab.read('/c=>/d'))
    const vx = a.observe('x').sample()!.version
    await a.close()
    const b = await fileDtabStore({ dir, pollIntervalMs: 0 })
    expect(b.list().sample()).toEqual(['x', 'y'])
    expect(Version.equals(b.observe('x').sample()!.version, vx)).toBe(true)
    await b.update('x', Dtab.read('/a=>/c'), vx)
    expect(b.observe('x').sample()!.dtab.show()).toBe('/a=>/c')
    await b.close()
  })

  it('picks up an external edit, and a hand edit that keeps the counter is still a new version', async () => {
    const store = await fileDtabStore({ dir, pollIntervalMs: 0, watch: false })
    await store.create('x', Dtab.read('/a=>/b'))
    const v1 = store.observe('x').sample()!.version
    await writeFile(join(dir, 'x.dtab'), '# version 1\n# edited by hand\n/a => /edited ;\n')
    await store.rescan()
    const now = store.observe('x').sample()!
    expect(now.dtab.show()).toBe('/a=>/edited')
    expect(Version.equals(now.version, v1)).toBe(false)
    await expect(store.update('x', Dtab.read('/a=>/lost'), v1)).rejects.toBeInstanceOf(DtabVersionMismatch)
    await store.close()
  })

  it('an edit of comments or layout only is not a new version', async () => {
    const store = await fileDtabStore({ dir, pollIntervalMs: 0, watch: false })
    await store.create('x', Dtab.read('/a=>/b'))
    const v1 = store.observe('x').sample()!.version
    await writeFile(join(dir, 'x.dtab'), '# version 1\n\n   /a   =>   /b   # the same\n')
    await store.rescan()
    expect(Version.equals(store.observe('x').sample()!.version, v1)).toBe(true)
    await store.close()
  })

  it('sees files created and deleted by others through the directory watch', async () => {
    const store = await fileDtabStore({ dir, pollIntervalMs: 0 })
    await writeFile(join(dir, 'ext.dtab'), '/x=>/y\n')
    await eventually(store.observe('ext'), (v) => v?.dtab.show() === '/x=>/y')
    await rm(join(dir, 'ext.dtab'))
    await eventually(store.observe('ext'), (v) => v === undefined)
    await store.close()
  })

  it('reports a broken edit with its file, keeps the last good dtab, and a put repairs it', async () => {
    const stats = inMemoryStats()
    const errors: DtabFileInvalid[] = []
    const store = await fileDtabStore({
      dir,
      pollIntervalMs: 0,
      watch: false,
      stats,
      onError: (e) => errors.push(e),
    })
    await store.create('x', Dtab.read('/a=>/b'))
    const v1 = store.observe('x').sample()!.version
    await writeFile(join(dir, 'x.dtab'), '/a=>\n')
    await store.rescan()
    expect(errors.map((e) => e.file)).toEqual([join(dir, 'x.dtab')])
    expect(errors[0]!.message).toMatch(/^dtab file .*x\.dtab is invalid: .*expected/)
    expect(stats.counterValue('parse_errors')).toBe(1)
    expect(store.observe('x').sample()!.dtab.show()).toBe('/a=>/b')
    // Nobody has seen the broken file's version, so only an unconditional write may replace it.
    await expect(store.update('x', Dtab.read('/a=>/c'), v1)).rejects.toBeInstanceOf(DtabVersionMismatch)
    await store.put('x', Dtab.read('/a=>/c'))
    expect(store.observe('x').sample()!.dtab.show()).toBe('/a=>/c')
    await store.close()
  })

  it('a namespace whose only file is broken fails its observation', async () => {
    await writeFile(join(dir, 'bad.dtab'), 'not a dtab')
    const store = await fileDtabStore({ dir, pollIntervalMs: 0, watch: false })
    expect(store.list().sample()).toEqual(['bad'])
    const s = store.observe('bad').state()
    expect(s.kind).toBe('failed')
    await store.close()
  })

  it('removes temporary files left by a crashed write and ignores foreign files', async () => {
    await writeFile(join(dir, '.123.0.tmp'), 'half a wri')
    await writeFile(join(dir, 'README.txt'), 'not a namespace')
    const store = await fileDtabStore({ dir, pollIntervalMs: 0 })
    expect(await readdir(dir)).toEqual(['README.txt'])
    expect(store.list().sample()).toEqual([])
    await store.close()
  })
})

describe('namespace file names', () => {
  it('percent-encode everything outside [A-Za-z0-9._-]', () => {
    expect(namespaceFileName('default')).toBe('default.dtab')
    expect(namespaceFileName('a b')).toBe('a%20b.dtab')
    expect(namespaceFileName('%')).toBe('%25.dtab')
    expect(namespaceFileName('é')).toBe('%C3%A9.dtab')
    expect(namespaceFileName('.x.y')).toBe('%2Ex.y.dtab')
    expect(namespaceOfFileName('%2Ex.y.dtab')).toBe('.x.y')
    expect(namespaceOfFileName('a%20b.dtab')).toBe('a b')
    expect(namespaceOfFileName('a b.dtab')).toBeUndefined()
    expect(namespaceOfFileName('.hidden.tmp')).toBeUndefined()
    expect(namespaceOfFileName('x.txt')).toBeUndefined()
  })

  it('round-trip for every valid namespace', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), (ns) => {
        fc.pre(namespaceProblem(ns) === undefined)
        expect(namespaceOfFileName(namespaceFileName(ns))).toBe(ns)
      }),
    )
  })
})
