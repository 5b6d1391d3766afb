import { describe, expect, it } from 'vitest'
import { inMemoryDtabStore } from '../../../src/namerd/store/memory.js'
import { DtabStoreClosed } from '../../../src/namerd/store/store.js'
import { Version } from '../../../src/namerd/store/version.js'
import { Dtab } from '../../../src/naming/dtab.js'
import { describeDtabStore } from '../store-conformance.js'

describeDtabStore('inMemory', async () => ({ store: inMemoryDtabStore() }))

const etag = (store: ReturnType<typeof inMemoryDtabStore>, ns: string) => {
  const v = store.observe(ns).sample()
  return v === undefined ? undefined : Version.toEtag(v.version)
}

describe('inMemoryDtabStore', () => {
  const d = Dtab.read('/a=>/b')

  it("versions are namerd's 8-byte counters: 1 on create, +1 per write, 1 again after re-create", async () => {
    const store = inMemoryDtabStore()
    await store.create('ns', d)
    expect(etag(store, 'ns')).toBe('AAAAAAAAAAE=')
    await store.put('ns', d)
    expect(etag(store, 'ns')).toBe('AAAAAAAAAAI=')
    await store.update('ns', d, Version.fromEtag('AAAAAAAAAAI='))
    expect(etag(store, 'ns')).toBe('AAAAAAAAAAM=')
    await store.delete('ns')
    expect(etag(store, 'ns')).toBeUndefined()
    await store.put('ns', d)
    expect(etag(store, 'ns')).toBe('AAAAAAAAAAE=')
  })

  it('is seeded from namespaces at version 1', () => {
    const store = inMemoryDtabStore({
      namespaces: { yeezus: Dtab.read('/yeezy=>/yeezus'), tlop: Dtab.empty },
    })
    expect(store.list().sample()).toEqual(['tlop', 'yeezus'])
    expect(store.observe('yeezus').sample()?.dtab.show()).toBe('/yeezy=>/yeezus')
    expect(etag(store, 'tlop')).toBe('AAAAAAAAAAE=')
  })

  it('refuses a seed with an invalid namespace name', () => {
    expect(() => inMemoryDtabStore({ namespaces: [['a/b', d]] })).toThrow(/invalid dtab namespace "a\/b"/)
  })

  it('holds no watcher after the last observer leaves', async () => {
    const store = inMemoryDtabStore()
    const seen: unknown[] = []
    const stop = store
      .observe('ns')
      .observe((s) => seen.push(s.kind === 'ok' ? s.value?.dtab.show() : s.kind))
    await store.put('ns', d)
    stop()
    await store.put('ns', Dtab.read('/c=>/d'))
    expect(seen).toEqual([undefined, '/a=>/b'])
  })

  it('rejects writes after close', async () => {
    const store = inMemoryDtabStore()
    await store.close()
    await expect(store.put('ns', d)).rejects.toBeInstanceOf(DtabStoreClosed)
  })
})
