// What several namerd replicas over one replicated store must guarantee, run against a real etcd and
// a real ZooKeeper: a write on one replica reaches the watchers of another within a second, racing
// conditional updates lose no acknowledged write and never share a version, and watchers survive the
// server (or their own connection) going away and coming back without missing or repeating updates.
import { afterEach, describe, expect, it } from 'vitest'
import { Activity, type ActivityState, type Disposer } from '../../src/core/index.js'
import {
  DtabStoreUnavailable,
  type StoreHealth,
  type StoreHealthReporting,
} from '../../src/namerd/store/health.js'
import { type DtabStore, DtabVersionMismatch, type VersionedDtab } from '../../src/namerd/store/store.js'
import { Version } from '../../src/namerd/store/version.js'
import { Dtab } from '../../src/naming/dtab.js'
import { type InMemoryStats, inMemoryStats } from '../../src/stats/index.js'
import { eventually } from '../namerd/store-conformance.js'
import { type TcpProxy, type TestServer, tcpProxy } from './servers.js'

export type Replica = DtabStore & StoreHealthReporting

export interface ReplicaOptions {
  /** `host:port` to connect to instead of the server's own address (a proxy). */
  readonly address?: string | undefined
  readonly stats?: InMemoryStats | undefined
}

export interface ReplicatedStoreSetup {
  /** The running server (started in the test file's `beforeAll`). */
  server(): TestServer
  /** A new replica over the store under `prefix`. */
  replica(prefix: string, options?: ReplicaOptions): Replica
  /**
   * Whether a replica that was cut off receives every update it missed, one by one (etcd replays
   * its history from a revision), or only the latest state (ZooKeeper has no history to replay).
   */
  readonly replaysMissedUpdates: boolean
  /** The number in a version of this store (etcd: the revision; ZooKeeper: the znode version). */
  versionNumber(version: Version): bigint
  /** How much one update raises the version, when every update raises it by the same step. */
  readonly versionStep?: bigint | undefined
}

let prefixes = 0
/** A key prefix no other test uses, so tests on one server do not see each other's namespaces. */
export function freshPrefix(): string {
  prefixes++
  return `/switchboard-test/${process.pid}-${Date.now().toString(36)}-${prefixes}`
}

/** Waits until the replica's health is `status`. */
export function healthIs(
  replica: Replica,
  status: StoreHealth['status'],
  timeoutMs = 15_000,
): Promise<StoreHealth> {
  return eventually(
    Activity.of(replica.health.map((h): ActivityState<StoreHealth> => ({ kind: 'ok', value: h }))),
    (h) => h.status === status,
    timeoutMs,
  )
}

/** Every distinct ok value an activity takes, in order, until disposed. */
export function record(activity: Activity<VersionedDtab | undefined>): {
  values: (VersionedDtab | undefined)[]
  stop: Disposer
} {
  const values: (VersionedDtab | undefined)[] = []
  const stop = activity.observe((s) => {
    if (s.kind !== 'ok') return
    const last = values[values.length - 1]
    if (values.length > 0 && sameValue(last, s.value)) return
    values.push(s.value)
  })
  return { values, stop }
}

function sameValue(a: VersionedDtab | undefined, b: VersionedDtab | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return Version.equals(a.version, b.version) && a.dtab.equals(b.dtab)
}

const hasDtab = (dtab: Dtab) => (v: VersionedDtab | undefined) => v?.dtab.equals(dtab) === true
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const dtabN = (n: number) => Dtab.read(`/svc=>/#/io.l5d.fs/v${n}`)
const showOf = (v: VersionedDtab | undefined) => (v === undefined ? 'absent' : v.dtab.show())

async function until(what: string, p: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!p()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/**
 * The replica guarantees, against the server `setup` starts. Each test uses its own key prefix.
 */
export function describeReplicatedStore(name: string, setup: ReplicatedStoreSetup): void {
  describe(`${name}: several replicas on one store`, () => {
    const opened: Replica[] = []
    const proxies: TcpProxy[] = []
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((r) => r.close()))
      await Promise.all(proxies.splice(0).map((p) => p.close()))
      // A test that stopped the server must leave it running for the next one.
      if (!setup.server().running) await setup.server().start()
    })
    const replica = (prefix: string, options?: ReplicaOptions) => {
      const r = setup.replica(prefix, options)
      opened.push(r)
      return r
    }

    it('a PUT on one replica reaches a watcher on another within one second', async () => {
      const prefix = freshPrefix()
      const a = replica(prefix)
      const b = replica(prefix)
      await Promise.all([healthIs(a, 'connected'), healthIs(b, 'connected')])
      const watched = record(b.observe('default'))
      await eventually(b.observe('default'), (v) => v === undefined)
      const latencies: number[] = []
      for (let i = 0; i < 5; i++) {
        const start = performance.now()
        await a.put('default', dtabN(i))
        await eventually(b.observe('default'), hasDtab(dtabN(i)), 1000)
        latencies.push(performance.now() - start)
      }
      watched.stop()
      expect(watched.values.map(showOf)).toEqual(['absent', ...[0, 1, 2, 3, 4].map((i) => dtabN(i).show())])
      for (const ms of latencies) expect(ms).toBeLessThan(1000)
      // The list and a delete travel the same way.
      expect(await eventually(b.list(), (ns) => ns.includes('default'), 1000)).toEqual(['default'])
      await a.delete('default')
      await eventually(b.observe('default'), (v) => v === undefined, 1000)
    })

    it('200 interleaved conditional updates from two replicas lose no acknowledged write and share no version', async () => {
      const prefix = freshPrefix()
      const a = replica(prefix)
      const b = replica(prefix)
      const witness = replica(prefix)
      await a.create('race', dtabN(-1))
      await eventually(witness.observe('race'), hasDtab(dtabN(-1)))
      const seen = record(witness.observe('race'))
      const initial = setup.versionNumber(
        (await eventually(a.observe('race'), (v) => v !== undefined))!.version,
      )
      const acknowledged: { n: number; base: bigint }[] = []
      let next = 0
      const target = 200
      const writer = async (store: Replica) => {
        while (acknowledged.length < target) {
          const current = (await eventually(store.observe('race'), (v) => v !== undefined))!
          const n = next++
          try {
            await store.update('race', dtabN(n), current.version)
            acknowledged.push({ n, base: setup.versionNumber(current.version) })
          } catch (error) {
            if (!(error instanceof DtabVersionMismatch)) throw error
            // Lost the race: wait until this replica has seen the write that won.
            await eventually(
              store.observe('race'),
              (v) => v !== undefined && !Version.equals(v.version, current.version),
            )
          }
        }
      }
      await Promise.all([writer(a), writer(b)])
      // No two acknowledged updates started from the same version: else the second would have
      // overwritten the first without having seen it, and the first would be lost.
      const byBase = [...acknowledged].sort((x, y) => (x.base < y.base ? -1 : x.base > y.base ? 1 : 0))
      expect(new Set(byBase.map((w) => w.base)).size).toBe(acknowledged.length)
      // The store ends with the acknowledged write that came last in its order.
      const last = byBase[byBase.length - 1]!
      const final = (await eventually(witness.observe('race'), hasDtab(dtabN(last.n)), 5000))!
      await until(
        'the witness to see the last write',
        () => seen.values.at(-1)?.dtab.equals(dtabN(last.n)) === true,
      )
      seen.stop()
      if (setup.versionStep !== undefined) {
        // Every acknowledged update raised the version by one step, and nothing else did.
        expect(setup.versionNumber(final.version)).toBe(
          initial + setup.versionStep * BigInt(acknowledged.length),
        )
      }
      // What the witness saw: versions strictly increasing (none repeated), and nothing that was
      // not acknowledged (failed attempts left no trace).
      const numbers = seen.values.map((v) => setup.versionNumber(v!.version))
      for (let i = 1; i < numbers.length; i++) expect(numbers[i]! > numbers[i - 1]!).toBe(true)
      const acked = new Set(acknowledged.map((w) => dtabN(w.n).show()))
      for (const v of seen.values.slice(1)) expect(acked.has(v!.dtab.show())).toBe(true)
      if (setup.replaysMissedUpdates) {
        // A store with a history delivers every acknowledged write to the witness, in order.
        expect(seen.values.slice(1).map(showOf)).toEqual(byBase.map((w) => dtabN(w.n).show()))
      }
    })

    it('watchers resume after the server restarts and receive every later update; writes meanwhile fail with 503', async () => {
      const prefix = freshPrefix()
      const stats = inMemoryStats()
      const a = replica(prefix, { stats })
      const b = replica(prefix)
      await a.put('default', dtabN(0))
      await eventually(b.observe('default'), hasDtab(dtabN(0)))
      const watched = record(b.observe('default'))
      await healthIs(a, 'connected')
      expect(stats.gaugeValue('connected')).toBe(1)

      await setup.server().stop()
      await Promise.all([healthIs(a, 'reconnecting'), healthIs(b, 'reconnecting')])
      expect(stats.gaugeValue('connected')).toBe(0)
      // Reads serve the last known dtab; writes fail fast with a clear message.
      expect((await eventually(b.observe('default'), () => true))!.dtab.equals(dtabN(0))).toBe(true)
      const failed = await a.put('default', dtabN(99)).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(failed).toBeInstanceOf(DtabStoreUnavailable)
      expect((failed as Error).message).toMatch(/^dtab store is unavailable: /)

      await setup.server().start()
      await Promise.all([healthIs(a, 'connected'), healthIs(b, 'connected')])
      expect(stats.counterValue('reconnects')).toBeGreaterThanOrEqual(1)
      // One update at a time, each awaited on the other replica: ZooKeeper's watches report the
      // latest state, so updates faster than a round trip would legitimately coalesce.
      for (let i = 1; i <= 5; i++) {
        await a.put('default', dtabN(i))
        await eventually(b.observe('default'), hasDtab(dtabN(i)))
      }
      await until('the watcher to catch up', () => showOf(watched.values.at(-1)) === dtabN(5).show())
      watched.stop()
      expect(watched.values.map(showOf)).toEqual([0, 1, 2, 3, 4, 5].map((i) => dtabN(i).show()))
    })

    it('a replica cut off from the server catches up on every update it missed, once each', async () => {
      const prefix = freshPrefix()
      const proxy = await tcpProxy(setup.server().port)
      proxies.push(proxy)
      const stats = inMemoryStats()
      const a = replica(prefix, { address: proxy.address, stats })
      const b = replica(prefix)
      await b.put('default', dtabN(0))
      await eventually(a.observe('default'), hasDtab(dtabN(0)))
      const watched = record(a.observe('default'))
      const names: (readonly string[])[] = []
      const stopNames = a.list().observe((s) => {
        if (s.kind === 'ok') names.push(s.value)
      })

      await proxy.cut()
      await healthIs(a, 'reconnecting')
      for (let i = 1; i <= 5; i++) await b.put('default', dtabN(i))
      await b.put('other', dtabN(0))
      await proxy.restore()
      await healthIs(a, 'connected')
      await eventually(a.observe('default'), hasDtab(dtabN(5)))
      await eventually(a.list(), (ns) => ns.includes('other'))
      watched.stop()
      stopNames()
      // The replica ends where the store is, saw each value once and never went back.
      const shown = watched.values.map(showOf)
      expect(shown[0]).toBe(dtabN(0).show())
      expect(shown.at(-1)).toBe(dtabN(5).show())
      expect(new Set(shown).size).toBe(shown.length)
      const indices = shown.map((s) => [0, 1, 2, 3, 4, 5].findIndex((i) => dtabN(i).show() === s))
      expect(indices).toEqual([...indices].sort((x, y) => x - y))
      expect(names.at(-1)).toEqual(['default', 'other'])
      if (setup.replaysMissedUpdates) {
        // Resumed from the revision after the last event seen: every missed update, no full re-read.
        expect(shown).toEqual([0, 1, 2, 3, 4, 5].map((i) => dtabN(i).show()))
        expect(stats.counterValue('resyncs')).toBe(1)
      }
      // And it writes again.
      await a.put('default', dtabN(6))
      await eventually(b.observe('default'), hasDtab(dtabN(6)))
    })

    it('close releases the connection and later calls reject', async () => {
      const a = replica(freshPrefix())
      await healthIs(a, 'connected')
      await a.close()
      expect(a.health.sample().status).toBe('closed')
      await expect(a.put('default', dtabN(0))).rejects.toMatchObject({ code: 'DtabStoreClosed' })
    })
  })
}

export { dtabN, hasDtab, sleep, until }
