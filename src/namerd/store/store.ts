import type { Activity } from '../../core/activity.js'
import { SwitchboardError } from '../../core/errors.js'
import type { Dtab } from '../../naming/dtab.js'
import { Version } from './version.js'

/**
 * A dtab with the version the store gave it. The version is opaque: compare it with
 * `Version.equals`, send it as an ETag with `Version.toEtag`.
 *
 * @example
 * ```ts
 * const vd: VersionedDtab = { dtab: Dtab.read('/svc=>/#/io.l5d.fs'), version: Version.counter(1n) }
 * ```
 */
export interface VersionedDtab {
  readonly dtab: Dtab
  readonly version: Version
}

export const VersionedDtab = {
  /**
   * Equal when both the versions and the dtabs are; `undefined` (absent) equals only itself.
   *
   * @example
   * ```ts
   * VersionedDtab.equals(undefined, undefined) // true
   * ```
   */
  equals(a: VersionedDtab | undefined, b: VersionedDtab | undefined): boolean {
    if (a === b) return true
    if (a === undefined || b === undefined) return false
    return Version.equals(a.version, b.version) && a.dtab.equals(b.dtab)
  },
} as const

/**
 * Where namerd keeps the dtab of every namespace. Reads are live (`Activity`s that update when a
 * namespace changes, whoever changed it); writes are promises that settle once the write is
 * durable in the backend. Every method checks the namespace name first (`InvalidDtabNamespace`).
 *
 * Implementations: `inMemoryDtabStore`, `fileDtabStore` (the embedded default), and the etcd and
 * ZooKeeper stores. `describeDtabStore` (test/namerd/store-conformance.ts) checks any of them.
 *
 * @example
 * ```ts
 * const store = inMemoryDtabStore()
 * await store.create('default', Dtab.read('/svc=>/#/io.l5d.fs'))
 * const { version } = (await store.observe('default').toPromise())!
 * await store.update('default', Dtab.read('/svc=>/#/io.l5d.fs/v2'), version)
 * ```
 */
export interface DtabStore {
  /** The namespaces that exist, sorted ascending; updates on every create and delete. */
  list(): Activity<readonly string[]>
  /** The namespace's versioned dtab, `undefined` while it does not exist. */
  observe(namespace: string): Activity<VersionedDtab | undefined>
  /** Creates a namespace; rejects with `DtabNamespaceExists` when it exists. */
  create(namespace: string, dtab: Dtab): Promise<void>
  /**
   * Replaces a namespace's dtab if its current version is `version`; rejects with
   * `DtabVersionMismatch` when it is not and `DtabNamespaceDoesNotExist` when it is missing.
   */
  update(namespace: string, dtab: Dtab, version: Version): Promise<void>
  /** Creates or replaces a namespace's dtab, whatever its version. */
  put(namespace: string, dtab: Dtab): Promise<void>
  /** Deletes a namespace; rejects with `DtabNamespaceDoesNotExist` when it is missing. */
  delete(namespace: string): Promise<void>
  /** Releases watchers, timers and connections; later calls reject with `DtabStoreClosed`. */
  close(): Promise<void>
}

/**
 * `create` of a namespace that exists (HTTP 409).
 *
 * @example
 * ```ts
 * await store.create('a', dtab); await store.create('a', dtab) // rejects with DtabNamespaceExists
 * ```
 */
export class DtabNamespaceExists extends SwitchboardError {
  readonly namespace: string
  constructor(namespace: string) {
    super('DtabNamespaceExists', `dtab namespace ${JSON.stringify(namespace)} already exists`)
    this.namespace = namespace
  }
}

/**
 * `update` or `delete` of a namespace that does not exist (HTTP 404).
 *
 * @example
 * ```ts
 * await store.delete('nope') // rejects with DtabNamespaceDoesNotExist
 * ```
 */
export class DtabNamespaceDoesNotExist extends SwitchboardError {
  readonly namespace: string
  constructor(namespace: string) {
    super('DtabNamespaceDoesNotExist', `dtab namespace ${JSON.stringify(namespace)} does not exist`)
    this.namespace = namespace
  }
}

/**
 * `update` with a version that is not the namespace's current one (HTTP 412): someone else wrote
 * first; read again and retry.
 *
 * @example
 * ```ts
 * await store.update('a', dtab, Version.fromEtag('yolo')) // rejects with DtabVersionMismatch
 * ```
 */
export class DtabVersionMismatch extends SwitchboardError {
  readonly namespace: string
  constructor(namespace: string) {
    super('DtabVersionMismatch', `dtab namespace ${JSON.stringify(namespace)} has a different version`)
    this.namespace = namespace
  }
}

/**
 * The backend refused the operation for lack of rights, e.g. a ZooKeeper `NoAuth` (HTTP 403).
 *
 * @example
 * ```ts
 * throw new DtabStoreForbidden('default', 'ZooKeeper NoAuth on /dtabs/default')
 * ```
 */
export class DtabStoreForbidden extends SwitchboardError {
  readonly namespace: string
  constructor(namespace: string, detail: string) {
    super(
      'DtabStoreForbidden',
      `access to dtab namespace ${JSON.stringify(namespace)} is forbidden: ${detail}`,
    )
    this.namespace = namespace
  }
}

/**
 * A store was used after `close()`.
 *
 * @example
 * ```ts
 * await store.close(); await store.put('a', dtab) // rejects with DtabStoreClosed
 * ```
 */
export class DtabStoreClosed extends SwitchboardError {
  constructor() {
    super('DtabStoreClosed', 'dtab store is closed')
  }
}
