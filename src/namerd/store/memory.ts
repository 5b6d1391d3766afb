import { Activity } from '../../core/activity.js'
import { reportObserverError, Var } from '../../core/var.js'
import type { Dtab } from '../../naming/dtab.js'
import { checkNamespace } from './namespace.js'
import {
  DtabNamespaceDoesNotExist,
  DtabNamespaceExists,
  type DtabStore,
  DtabStoreClosed,
  DtabVersionMismatch,
  type VersionedDtab,
} from './store.js'
import { Version } from './version.js'

/** Options of `inMemoryDtabStore`. */
export interface InMemoryDtabStoreOptions {
  /** Namespaces to start with (namerd's `io.l5d.inMemory` `namespaces:`), each at version 1. */
  namespaces?: Iterable<readonly [string, Dtab]> | Readonly<Record<string, Dtab>> | undefined
}

/** A set of callbacks keyed by namespace, holding only namespaces someone watches. */
class Watchers<T> {
  private readonly byKey = new Map<string, Set<(value: T) => void>>()
  add(key: string, f: (value: T) => void): () => void {
    let fs = this.byKey.get(key)
    if (!fs) {
      fs = new Set()
      this.byKey.set(key, fs)
    }
    const set = fs
    set.add(f)
    return () => {
      set.delete(f)
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key)
    }
  }
  notify(key: string, value: T): void {
    const fs = this.byKey.get(key)
    if (!fs) return
    // One observer's exception must neither skip the others nor fail the write that notified.
    for (const f of [...fs]) {
      if (!fs.has(f)) continue
      try {
        f(value)
      } catch (error) {
        reportObserverError(error)
      }
    }
  }
  get size(): number {
    return this.byKey.size
  }
}

/**
 * namerd's `io.l5d.inMemory` storage: dtabs in a map, lost on exit. Versions are 8-byte big-endian
 * counters exactly as in namerd: 1 on create (and for seeded namespaces), +1 on every update or put,
 * back to 1 after a delete and re-create (`AAAAAAAAAAE=`, `AAAAAAAAAAI=`, ...). Watches are pushed
 * on every write, without namerd's one-second polling of the namespace list. Memory is only held
 * for namespaces that exist and for namespaces someone is watching.
 *
 * @example
 * ```ts
 * const store = inMemoryDtabStore({ namespaces: { default: Dtab.read('/svc=>/#/io.l5d.fs') } })
 * store.list().sample() // ['default']
 * ```
 */
export function inMemoryDtabStore(options: InMemoryDtabStoreOptions = {}): DtabStore {
  const data = new Map<string, { dtab: Dtab; counter: bigint; value: VersionedDtab }>()
  const watchers = new Watchers<VersionedDtab | undefined>()
  let closed = false

  const entries: Iterable<readonly [string, Dtab]> =
    options.namespaces === undefined
      ? []
      : Symbol.iterator in options.namespaces
        ? (options.namespaces as Iterable<readonly [string, Dtab]>)
        : Object.entries(options.namespaces as Readonly<Record<string, Dtab>>)
  const set = (ns: string, dtab: Dtab, counter: bigint) => {
    const value: VersionedDtab = { dtab, version: Version.counter(counter) }
    data.set(ns, { dtab, counter, value })
    return value
  }
  for (const [ns, dtab] of entries) set(checkNamespace(ns), dtab, 1n)

  const sorted = () => [...data.keys()].sort()
  const names = Var.value<readonly string[]>(sorted())
  const publish = (ns: string, value: VersionedDtab | undefined, listChanged: boolean) => {
    watchers.notify(ns, value)
    if (listChanged) names.update(sorted())
  }

  // Writes are synchronous inside the promise executor, so concurrent writers are serialised by
  // the event loop and a conditional update is an atomic compare-and-set.
  const write = (ns: string, f: () => void): Promise<void> =>
    new Promise((resolve) => {
      if (closed) throw new DtabStoreClosed()
      checkNamespace(ns)
      f()
      resolve()
    })

  return {
    list: () => Activity.of(names.map((value) => ({ kind: 'ok' as const, value }))),
    observe(ns) {
      try {
        checkNamespace(ns)
      } catch (error) {
        return Activity.exception(error)
      }
      return Activity.of(
        Var.async({ kind: 'ok', value: data.get(ns)?.value }, (update) => {
          update({ kind: 'ok', value: data.get(ns)?.value })
          return watchers.add(ns, (value) => update({ kind: 'ok', value }))
        }),
      )
    },
    create: (ns, dtab) =>
      write(ns, () => {
        if (data.has(ns)) throw new DtabNamespaceExists(ns)
        publish(ns, set(ns, dtab, 1n), true)
      }),
    update: (ns, dtab, version) =>
      write(ns, () => {
        const current = data.get(ns)
        if (!current) throw new DtabNamespaceDoesNotExist(ns)
        if (!Version.equals(current.value.version, version)) throw new DtabVersionMismatch(ns)
        publish(ns, set(ns, dtab, current.counter + 1n), false)
      }),
    put: (ns, dtab) =>
      write(ns, () => {
        const current = data.get(ns)
        publish(ns, set(ns, dtab, (current?.counter ?? 0n) + 1n), current === undefined)
      }),
    delete: (ns) =>
      write(ns, () => {
        if (!data.delete(ns)) throw new DtabNamespaceDoesNotExist(ns)
        publish(ns, undefined, true)
      }),
    close: async () => {
      closed = true
    },
  }
}
