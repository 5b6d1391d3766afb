/**
 * namerd: the routing control plane. Dtab stores (memory, file; etcd and ZooKeeper elsewhere),
 * linkerd's namerd HTTP API, the admin server and the client-side `namerdInterpreter`.
 *
 * @example
 * ```ts
 * import { inMemoryDtabStore } from 'switchboard/namerd'
 * const store = inMemoryDtabStore()
 * ```
 */
export * from './store/index.js'
