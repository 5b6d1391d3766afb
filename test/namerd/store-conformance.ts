// A conformance suite every DtabStore must pass: memory, file, etcd and ZooKeeper stores run the
// same cases. Observations are awaited (not sampled) so stores whose watches lag behind their
// writes (etcd, ZooKeeper) pass as long as they converge.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Activity } from '../../src/core/activity.js'
import { InvalidDtabNamespace } from '../../src/namerd/store/namespace.js'
import {
  DtabNamespaceDoesNotExist,
  DtabNamespaceExists,
  type DtabStore,
  DtabVersionMismatch,
  type VersionedDtab,
} from '../../src/namerd/store/store.js'
import { Version } from '../../src/namerd/store/version.js'
import { Dtab } from '../../src/naming/dtab.js'

/** A store under test and how to dispose of what it used (a temp dir, a server). */
export interface StoreUnderTest {
  readonly store: DtabStore
  readonly cleanup?: (() => Promise<void>) | undefined
}

/** Options of the suite. */
export interface ConformanceOptions {
  /** How long to wait for an observation to converge (default 5000 ms). */
  readonly timeoutMs?: number
}

/** Resolves with the first value of `activity` that satisfies `p`; rejects after `timeoutMs`. */
export function eventually<T>(activity: Activity<T>, p: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false
    let dispose: (() => void) | undefined
    const timer = setTimeout(() => {
      done = true
      dispose?.()
      let last: string
      try {
        last = JSON.stringify(activity.state(), (_k, v) => (v instanceof Dtab ? v.show() : v))
      } catch (e) {
        last = String(e)
      }
      reject(new Error(`timed out after ${timeoutMs} ms; last state ${last}`))
    }, timeoutMs)
    dispose = activity.observe((s) => {
      if (done) return
      if (s.kind === 'failed') {
        done = true
        clearTimeout(timer)
        queueMicrotask(() => dispose?.())
        reject(s.error)
      } else if (s.kind === 'ok' && p(s.value)) {
        done = true
        clearTimeout(timer)
        queueMicrotask(() => dispose?.())
        resolve(s.value)
      }
    })
    if (done) dispose()
  })
}

const d1 = Dtab.read('/svc=>/#/io.l5d.fs')
const d2 = Dtab.read('/svc/users=>/#/io.l5d.fs/users-v2')
const d3 = Dtab.read('/svc=>/$/inet/127.1/8080;/a=>/b')

const hasDtab = (dtab: Dtab) => (v: VersionedDtab | undefined) => v?.dtab.equals(dtab) === true
const absent = (v: VersionedDtab | undefined) => v === undefined

/**
 * Runs the DtabStore contract against a store made fresh for every test by `makeStore`.
 *
 * @example
 * ```ts
 * describeDtabStore('inMemory', async () => ({ store: inMemoryDtabStore() }))
 * ```
 */
export function describeDtabStore(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: ConformanceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 5000
  describe(`DtabStore conformance: ${name}`, () => {
    let sut: StoreUnderTest
    let store: DtabStore
    beforeEach(async () => {
      sut = await makeStore()
      store = sut.store
    })
    afterEach(async () => {
      await store.close()
      await sut.cleanup?.()
    })
    const wait = <T>(a: Activity<T>, p: (v: T) => boolean) => eventually(a, p, timeoutMs)
    const current = async (ns: string) => (await wait(store.observe(ns), (v) => v !== undefined))!

    it('starts with no namespaces and observes a missing namespace as absent', async () => {
      expect(await wait(store.list(), () => true)).toEqual([])
      expect(await wait(store.observe('nope'), () => true)).toBeUndefined()
    })

    it('create makes a namespace with a version, listed and observable', async () => {
      await store.create('users', d1)
      const v = await wait(store.observe('users'), hasDtab(d1))
      expect(v!.version.byteLength).toBeGreaterThan(0)
      expect(await wait(store.list(), (ns) => ns.includes('users'))).toEqual(['users'])
    })

    it('create of an existing namespace fails with DtabNamespaceExists and changes nothing', async () => {
      await store.create('users', d1)
      const before = await current('users')
      await expect(store.create('users', d2)).rejects.toBeInstanceOf(DtabNamespaceExists)
      const after = await current('users')
      expect(after.dtab.equals(d1)).toBe(true)
      expect(Version.equals(after.version, before.version)).toBe(true)
    })

    it('update with the current version replaces the dtab and changes the version', async () => {
      await store.create('users', d1)
      const v1 = await current('users')
      await store.update('users', d2, v1.version)
      const v2 = await wait(store.observe('users'), hasDtab(d2))
      expect(Version.equals(v1.version, v2!.version)).toBe(false)
    })

    it('update with a stale or garbage version fails with DtabVersionMismatch and changes nothing', async () => {
      await store.create('users', d1)
      const v1 = await current('users')
      await store.update('users', d2, v1.version)
      await wait(store.observe('users'), hasDtab(d2))
      await expect(store.update('users', d3, v1.version)).rejects.toBeInstanceOf(DtabVersionMismatch)
      await expect(store.update('users', d3, Version.fromEtag('yolo'))).rejects.toBeInstanceOf(
        DtabVersionMismatch,
      )
      await expect(store.update('users', d3, new Uint8Array(0))).rejects.toBeInstanceOf(DtabVersionMismatch)
      expect((await current('users')).dtab.equals(d2)).toBe(true)
    })

    it('update of a missing namespace fails with DtabNamespaceDoesNotExist', async () => {
      await expect(store.update('nope', d1, Version.counter(1n))).rejects.toBeInstanceOf(
        DtabNamespaceDoesNotExist,
      )
      expect(await wait(store.observe('nope'), () => true)).toBeUndefined()
    })

    it('put creates a missing namespace and overwrites an existing one with a new version', async () => {
      await store.put('users', d1)
      const v1 = (await wait(store.observe('users'), hasDtab(d1)))!
      await store.put('users', d2)
      const v2 = (await wait(store.observe('users'), hasDtab(d2)))!
      expect(Version.equals(v1.version, v2.version)).toBe(false)
      // The version a put produced is good for a conditional update.
      await store.update('users', d3, v2.version)
      await wait(store.observe('users'), hasDtab(d3))
    })

    it('delete removes a namespace; deleting a missing one fails with DtabNamespaceDoesNotExist', async () => {
      await store.create('users', d1)
      await wait(store.list(), (ns) => ns.includes('users'))
      await store.delete('users')
      expect(await wait(store.observe('users'), absent)).toBeUndefined()
      expect(await wait(store.list(), (ns) => !ns.includes('users'))).toEqual([])
      await expect(store.delete('users')).rejects.toBeInstanceOf(DtabNamespaceDoesNotExist)
    })

    it('a deleted namespace can be created again', async () => {
      await store.create('users', d1)
      await store.delete('users')
      await wait(store.observe('users'), absent)
      await store.create('users', d2)
      expect((await wait(store.observe('users'), hasDtab(d2)))!.dtab.equals(d2)).toBe(true)
    })

    it('an observation sees creation, every update and deletion, in order', async () => {
      const seen: string[] = []
      const dispose = store.observe('users').observe((s) => {
        if (s.kind !== 'ok') return
        const shown = s.value === undefined ? 'absent' : s.value.dtab.show()
        if (seen[seen.length - 1] !== shown) seen.push(shown)
      })
      try {
        await store.create('users', d1)
        await wait(store.observe('users'), hasDtab(d1))
        const v1 = await current('users')
        await store.update('users', d2, v1.version)
        await wait(store.observe('users'), hasDtab(d2))
        await store.delete('users')
        await wait(store.observe('users'), absent)
        // Slow stores may deliver intermediate states late: wait until the observer saw the end.
        const deadline = Date.now() + timeoutMs
        while (seen[seen.length - 1] !== 'absent' && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10))
        expect(seen).toEqual(['absent', d1.show(), d2.show(), 'absent'])
      } finally {
        dispose()
      }
    })

    it('the list follows creates and deletes of several namespaces, sorted', async () => {
      await store.create('b', d1)
      await store.put('a', d1)
      await store.create('c', d1)
      expect(await wait(store.list(), (ns) => ns.length === 3)).toEqual(['a', 'b', 'c'])
      await store.delete('b')
      expect(await wait(store.list(), (ns) => ns.length === 2)).toEqual(['a', 'c'])
    })

    it('namespaces are independent', async () => {
      await store.create('a', d1)
      await store.create('b', d2)
      const a = await current('a')
      await store.update('a', d3, a.version)
      await wait(store.observe('a'), hasDtab(d3))
      expect((await current('b')).dtab.equals(d2)).toBe(true)
    })

    it('the empty dtab is a value like any other', async () => {
      await store.create('empty', Dtab.empty)
      const v = await wait(store.observe('empty'), hasDtab(Dtab.empty))
      expect(v!.dtab.show()).toBe('')
    })

    it('of concurrent updates with the same version exactly one wins', async () => {
      await store.create('race', d1)
      const v1 = await current('race')
      const candidates = Array.from({ length: 10 }, (_, i) => Dtab.read(`/svc=>/#/io.l5d.fs/v${i}`))
      const results = await Promise.allSettled(candidates.map((d) => store.update('race', d, v1.version)))
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
      expect(won).toHaveLength(1)
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DtabVersionMismatch)
      await wait(store.observe('race'), hasDtab(candidates[won[0]!]!))
    })

    it('rejects invalid namespace names in every operation', async () => {
      for (const bad of ['', 'a/b', '..', 'a\u0000b', 'tab\there']) {
        await expect(store.create(bad, d1)).rejects.toBeInstanceOf(InvalidDtabNamespace)
        await expect(store.put(bad, d1)).rejects.toBeInstanceOf(InvalidDtabNamespace)
        await expect(store.update(bad, d1, Version.counter(1n))).rejects.toBeInstanceOf(InvalidDtabNamespace)
        await expect(store.delete(bad)).rejects.toBeInstanceOf(InvalidDtabNamespace)
        expect(store.observe(bad).state().kind).toBe('failed')
      }
    })

    it('accepts unusual but valid namespace names', async () => {
      for (const ns of ['with space', 'ünïcödé', 'a.b-c_d', '%41', 'x:y#z']) {
        await store.put(ns, d1)
        expect((await wait(store.observe(ns), hasDtab(d1)))!.dtab.equals(d1)).toBe(true)
      }
    })
  })
}
