/**
 * Service-discovery namers, one file per backend, mountable in a `NamerRegistry`.
 *
 * @example
 * ```ts
 * import { fsNamer } from 'switchboard/namers'
 * const fs = fsNamer({ rootDir: 'disco' })
 * const namers = NamerRegistry.create().mount(fs.prefix, fs)
 * ```
 */

export {
  type ConsulHealthStatus,
  type ConsulInstance,
  type ConsulNamer,
  type ConsulNamerOptions,
  consulNamer,
  parseConsulInstances,
} from './consul.js'
export {
  blockingLoop,
  type ConsulAnswer,
  ConsulApiError,
  type ConsulBackoff,
  type ConsulClient,
  type ConsulConnectionOptions,
  type ConsulConsistency,
  type ConsulQuery,
  consulClient,
  MAX_CONSUL_WAIT_MS,
  nextIndex,
} from './consul-api.js'
export {
  DnsSrvLookupError,
  type DnsSrvNamer,
  type DnsSrvNamerOptions,
  dnsServers,
  dnsSrvNamer,
  isSrvName,
  type SrvRecord,
  srvAddresses,
} from './dnssrv.js'
export {
  type FsNamer,
  FsNamerFileError,
  type FsNamerOptions,
  fsNamer,
  MAX_SERVICE_FILE_BYTES,
  parseServiceFile,
} from './fs.js'
export {
  type K8sNamer,
  type K8sNamerOptions,
  k8sExternalNamer,
  k8sNamer,
  NODE_NAME_KEY,
} from './k8s.js'
export {
  type K8sApi,
  K8sApiError,
  type K8sApiOptions,
  type K8sObject,
  type K8sResponse,
  type K8sSnapshot,
  type K8sWatchEvent,
  type K8sWatchOptions,
  k8sApi,
  k8sWatchedResource,
  lineSplitter,
} from './k8s-api.js'
export { changesOnly, liveLookup } from './live.js'
export { type RewriteNamerOptions, rewriteNamer } from './rewrite.js'
export {
  parseServersetMember,
  type ServersetEndpoint,
  ServersetError,
  type ServersetsNamer,
  type ServersetsNamerOptions,
  serversetsNamer,
} from './serversets.js'
