import { Activity, type ActivityState } from '../../core/activity.js'
import type { Timer } from '../../core/clock.js'
import { type UpdatableVar, Var } from '../../core/var.js'
import { VersionedDtab } from './store.js'

/**
 * What a remote store holds for one namespace as last seen: a dtab with its version, a value that
 * could not be read as a dtab (the namespace's observation fails with `error`), or nothing (deleted).
 *
 * @example
 * ```ts
 * const deleted: MirroredValue = undefined
 * const unreadable: MirroredValue = { error: new Error('not a dtab') }
 * ```
 */
export type MirroredValue = VersionedDtab | { readonly error: unknown } | undefined

interface Entry {
  /** Where this value sits in the store's history; a change with a lower or equal order is stale. */
  readonly order: bigint
  readonly state: ActivityState<VersionedDtab | undefined>
  readonly present: boolean
}

type MirrorStatus =
  | { readonly kind: 'pending' }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'ready'; readonly generation: number }

const PENDING: ActivityState<never> = { kind: 'pending' }

function toState(value: MirroredValue): ActivityState<VersionedDtab | undefined> {
  if (value !== undefined && 'error' in value) return { kind: 'failed', error: value.error }
  return { kind: 'ok', value }
}

function sameState<T>(a: ActivityState<T>, b: ActivityState<T>): boolean {
  if (a.kind === 'ok' && b.kind === 'ok') return a.value === b.value
  if (a.kind === 'failed' && b.kind === 'failed') return a.error === b.error
  return a.kind === b.kind
}

function sameNames(a: ActivityState<readonly string[]>, b: ActivityState<readonly string[]>): boolean {
  if (a.kind === 'ok' && b.kind === 'ok') {
    return a.value.length === b.value.length && a.value.every((n, i) => n === b.value[i])
  }
  return sameState(a, b)
}

/**
 * A local copy of every namespace of a remote, replicated store (etcd, ZooKeeper), kept current by
 * the store's watches and by the results of this replica's own writes.
 *
 * Every change carries an `order` from the store's history (etcd's revision; for ZooKeeper, the
 * arrival order on its one ordered session). A change is applied only when it is newer than what
 * the mirror holds for that namespace, so a watch that replays events after a reconnect produces no
 * duplicate, and a write result that arrives after the watch already reported a later write cannot
 * roll a namespace back. Deleted namespaces are remembered (as tombstones with their order) for the
 * same reason.
 *
 * Until the first full `resync` the mirror is pending; `fail` before that makes reads fail. After
 * it, the mirror keeps serving what it last saw whatever happens to the connection: readers get the
 * last known dtabs while the store is unreachable.
 *
 * @example
 * ```ts
 * const mirror = new NamespaceMirror()
 * mirror.resync(10n, new Map([['default', { dtab, version }]]))
 * mirror.list().sample() // ['default']
 * ```
 */
export class NamespaceMirror {
  private readonly entries = new Map<string, Entry>()
  private readonly status: UpdatableVar<MirrorStatus> = Var.value<MirrorStatus>({ kind: 'pending' })
  private generation = 0
  private sortedNames: readonly string[] = []

  /** Whether a full resync has happened. */
  get ready(): boolean {
    return this.status.sample().kind === 'ready'
  }

  /** Sorted names of the namespaces that exist as far as the mirror knows. */
  names(): readonly string[] {
    return this.sortedNames
  }

  /** Whether the mirror holds a value for `namespace` (a dtab or an unreadable value, not a deletion). */
  holds(namespace: string): boolean {
    return this.entries.get(namespace)?.present ?? false
  }

  /**
   * Applies one namespace's change at `order`; returns whether it was newer than what the mirror
   * held (an older or equal one is dropped).
   */
  apply(namespace: string, order: bigint, value: MirroredValue): boolean {
    if (!this.put(namespace, order, value)) return false
    if (this.ready) this.publish()
    return true
  }

  /**
   * Replaces the whole picture with a full read of the store taken at `order`: namespaces missing
   * from `all` are deleted (unless a newer change for them is already known).
   */
  resync(
    order: bigint,
    all: ReadonlyMap<string, { readonly order: bigint; readonly value: MirroredValue }>,
  ): void {
    for (const [ns, { order: o, value }] of all) this.put(ns, o, value)
    for (const ns of [...this.entries.keys()]) if (!all.has(ns)) this.put(ns, order, undefined)
    this.publish()
  }

  /**
   * Resolves once the mirror has been synced; rejects with its failure, or with `timedOut()` after
   * `timeoutMs`. Stores make writes wait for this, so a write never overtakes the first full read
   * (an observer would otherwise miss the namespace's state before the write).
   */
  whenReady(timer: Timer, timeoutMs: number, timedOut: () => Error): Promise<void> {
    if (this.ready) return Promise.resolve()
    const controller = new AbortController()
    const cancel = timer.setTimeout(() => controller.abort(timedOut()), timeoutMs)
    return this.list()
      .toPromise(controller.signal)
      .then(
        () => cancel(),
        (error: unknown) => {
          cancel()
          throw error
        },
      )
  }

  /** Fails every read while the mirror has never been synced; does nothing afterwards. */
  fail(error: unknown): void {
    if (!this.ready) this.status.update({ kind: 'failed', error })
  }

  /** Sorted names of the namespaces that exist. */
  list(): Activity<readonly string[]> {
    return Activity.of(
      this.status
        .map((s): ActivityState<readonly string[]> => {
          if (s.kind === 'pending') return PENDING
          if (s.kind === 'failed') return s
          return { kind: 'ok', value: this.sortedNames }
        })
        .dedup(sameNames),
    )
  }

  /** One namespace's versioned dtab (`undefined` while it does not exist). */
  observe(namespace: string): Activity<VersionedDtab | undefined> {
    return Activity.of(
      this.status
        .map((s): ActivityState<VersionedDtab | undefined> => {
          if (s.kind === 'pending') return PENDING
          if (s.kind === 'failed') return s
          return this.entries.get(namespace)?.state ?? ABSENT
        })
        .dedup(sameState),
    )
  }

  private put(namespace: string, order: bigint, value: MirroredValue): boolean {
    const old = this.entries.get(namespace)
    if (old && order <= old.order) return false
    const state = toState(value)
    const present = value !== undefined
    // An unchanged value at a newer order (a resync re-reading the same data) keeps the old state
    // object, so observers see no change.
    const keep = old && old.present === present && sameContent(old.state, state)
    this.entries.set(namespace, { order, state: keep ? old.state : state, present })
    return true
  }

  private publish(): void {
    this.sortedNames = [...this.entries]
      .filter(([, e]) => e.present)
      .map(([ns]) => ns)
      .sort()
    this.status.update({ kind: 'ready', generation: ++this.generation })
  }
}

const ABSENT: ActivityState<VersionedDtab | undefined> = { kind: 'ok', value: undefined }

function sameContent(
  a: ActivityState<VersionedDtab | undefined>,
  b: ActivityState<VersionedDtab | undefined>,
): boolean {
  return a.kind === 'ok' && b.kind === 'ok' && VersionedDtab.equals(a.value, b.value)
}
