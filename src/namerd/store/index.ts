export { type BackoffBounds, type ReconnectBackoff, reconnectBackoff } from './backoff.js'
export {
  type ConsulDtabStoreOptions,
  consulDtabStore,
  consulVersion,
  consulVersionOf,
} from './consul.js'
export {
  DtabFileInvalid,
  type FileDtabStore,
  type FileDtabStoreOptions,
  fileDtabStore,
  namespaceFileName,
  namespaceOfFileName,
  renderDtabFile,
} from './file.js'
export {
  DtabStoreUnavailable,
  HealthTracker,
  hasStoreHealth,
  type StoreHealth,
  type StoreHealthReporting,
} from './health.js'
export { type InMemoryDtabStoreOptions, inMemoryDtabStore } from './memory.js'
export { type MirroredValue, NamespaceMirror } from './mirror.js'
export { KeyedMutex } from './mutex.js'
export { checkNamespace, InvalidDtabNamespace, MAX_NAMESPACE_LENGTH, namespaceProblem } from './namespace.js'
export {
  DtabNamespaceDoesNotExist,
  DtabNamespaceExists,
  type DtabStore,
  DtabStoreClosed,
  DtabStoreForbidden,
  DtabVersionMismatch,
  VersionedDtab,
} from './store.js'
export { Version } from './version.js'
