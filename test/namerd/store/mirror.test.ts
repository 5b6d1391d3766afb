import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { manualClock } from '../../../src/core/clock.js'
import { type MirroredValue, NamespaceMirror } from '../../../src/namerd/store/mirror.js'
import type { VersionedDtab } from '../../../src/namerd/store/store.js'
import { Version } from '../../../src/namerd/store/version.js'
import { Dtab } from '../../../src/naming/dtab.js'

const vd = (n: number): VersionedDtab => ({
  dtab: Dtab.read(`/svc=>/v${n}`),
  version: Version.counter(BigInt(n)),
})
const shown = (m: NamespaceMirror, ns: string) => {
  const s = m.observe(ns).state()
  return s.kind === 'ok' ? (s.value === undefined ? 'absent' : s.value.dtab.show()) : s.kind
}
const synced = (entries: [string, number, MirroredValue][] = [], at = 0n) => {
  const m = new NamespaceMirror()
  m.resync(at, new Map(entries.map(([ns, order, value]) => [ns, { order: BigInt(order), value }])))
  return m
}

describe('NamespaceMirror', () => {
  it('is pending until the first full read, then serves it', () => {
    const m = new NamespaceMirror()
    expect(m.list().state().kind).toBe('pending')
    expect(m.observe('a').state().kind).toBe('pending')
    m.apply('a', 3n, vd(3)) // a write result before the first read: kept, not published yet
    expect(m.observe('a').state().kind).toBe('pending')
    m.resync(5n, new Map([['b', { order: 4n, value: vd(4) }]]))
    expect(m.list().sample()).toEqual(['b'])
    expect(shown(m, 'a')).toBe('absent') // the full read at 5 did not have it: deleted since
    expect(shown(m, 'b')).toBe('/svc=>/v4')
  })

  it('drops a change that is not newer than what it holds, so replays cause no duplicates', () => {
    const m = synced([['a', 5, vd(5)]], 5n)
    const seen: string[] = []
    const stop = m.observe('a').observe((s) => {
      if (s.kind === 'ok') seen.push(s.value?.dtab.show() ?? 'absent')
    })
    expect(m.apply('a', 5n, vd(5))).toBe(false)
    expect(m.apply('a', 4n, vd(4))).toBe(false)
    expect(m.apply('a', 6n, vd(6))).toBe(true)
    expect(m.apply('a', 6n, vd(6))).toBe(false)
    stop()
    expect(seen).toEqual(['/svc=>/v5', '/svc=>/v6'])
  })

  it('remembers deletions, so an older write result cannot bring a namespace back', () => {
    const m = synced([['a', 1, vd(1)]], 1n)
    m.apply('a', 7n, undefined)
    m.apply('a', 6n, vd(6))
    expect(shown(m, 'a')).toBe('absent')
    expect(m.list().sample()).toEqual([])
    // A resync taken before the deletion does not undo it either.
    m.resync(5n, new Map([['a', { order: 1n, value: vd(1) }]]))
    expect(shown(m, 'a')).toBe('absent')
  })

  it('fails the observation of a namespace whose stored value is not a dtab, and lists it', () => {
    const error = new Error('bad dtab')
    const m = synced([['bad', 1, { error }]], 1n)
    expect(m.observe('bad').state()).toEqual({ kind: 'failed', error })
    expect(m.list().sample()).toEqual(['bad'])
    expect(m.holds('bad')).toBe(true)
  })

  it('a resync that re-reads unchanged values notifies no one', () => {
    const m = synced([['a', 1, vd(1)]], 1n)
    let calls = 0
    const stop = m.observe('a').observe(() => calls++)
    m.resync(9n, new Map([['a', { order: 2n, value: vd(1) }]]))
    stop()
    expect(calls).toBe(1)
  })

  it('fail() before the first read fails reads; after it, the last picture stays', () => {
    const m = new NamespaceMirror()
    const error = new Error('unreachable')
    m.fail(error)
    expect(m.list().state()).toEqual({ kind: 'failed', error })
    m.resync(1n, new Map([['a', { order: 1n, value: vd(1) }]]))
    m.fail(new Error('later'))
    expect(m.list().sample()).toEqual(['a'])
  })

  it('whenReady waits for the first read, or fails after the deadline', async () => {
    const clock = manualClock()
    const m = new NamespaceMirror()
    const late = m.whenReady(clock, 100, () => new Error('not synced in 100 ms'))
    clock.advance(100)
    await expect(late).rejects.toThrow('not synced in 100 ms')
    const waiting = m.whenReady(clock, 100, () => new Error('timeout'))
    m.resync(1n, new Map())
    await expect(waiting).resolves.toBeUndefined()
    expect(clock.pending).toBe(0)
  })

  it('ends in the same state whatever order changes arrive in (property)', () => {
    const change = fc.record({
      ns: fc.constantFrom('a', 'b', 'c'),
      order: fc.integer({ min: 1, max: 50 }),
      present: fc.boolean(),
    })
    const changes = fc
      .uniqueArray(change, { selector: (c) => `${c.ns}@${c.order}` })
      .chain((cs) => fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length })))
    const apply = (list: readonly { ns: string; order: number; present: boolean }[]) => {
      const m = synced()
      for (const c of list) m.apply(c.ns, BigInt(c.order), c.present ? vd(c.order) : undefined)
      return `${['a', 'b', 'c'].map((ns) => shown(m, ns)).join(',')} / ${m.list().sample().join(',')}`
    }
    fc.assert(
      fc.property(changes, ([inOrder, shuffled]) => {
        const sorted = [...inOrder].sort((x, y) => x.order - y.order)
        expect(apply(shuffled)).toBe(apply(sorted))
      }),
    )
  })
})
