/**
 * namerd: the routing control plane. Dtab stores (memory, file; etcd and ZooKeeper elsewhere),
 * linkerd's namerd HTTP API and `io.l5d.mesh` gRPC API (with their client interpreters), the admin
 * server, configuration and the process.
 *
 * @example
 * ```ts
 * import { httpController, inMemoryDtabStore, listen, nameEndpoints } from 'switchboard/namerd'
 * const store = inMemoryDtabStore()
 * const api = httpController({ store, names: nameEndpoints({ store }) })
 * const server = await listen(api.handler, '127.0.0.1', 4180)
 * ```
 */
export { type AdminOptions, adminHandler } from './admin.js'
export {
  type NamerdInterpreter,
  type NamerdInterpreterOptions,
  NamerdStreamError,
  namerdInterpreter,
} from './client/interpreter.js'
export {
  type MeshClientTls,
  type MeshInterpreter,
  type MeshInterpreterOptions,
  MeshStreamError,
  meshInterpreter,
} from './client/mesh.js'
export { addrFromJson, boundTreeFromJson, delegateTreeFromJson, type WireBound } from './client/wire.js'
export {
  type AdminSpec,
  defaultNamerKinds,
  defaultStoreKinds,
  fileStoreKind,
  fsNamerKind,
  type HttpControllerSpec,
  type InterfaceSpec,
  inMemoryStoreKind,
  type MeshInterfaceSpec,
  type NamerdKinds,
  type NamerdSpec,
  type NamerKind,
  type NamerSpec,
  namerdConfigCodec,
  namespacesCodec,
  type PluginContext,
  rewriteNamerKind,
  type StorageSpec,
  type StoreKind,
  storeKind,
} from './config.js'
export { consulNamerKind, consulStoreKind, dnsSrvNamerKind, serversetsNamerKind } from './discovery-kinds.js'
export { DEFAULT_MAX_BODY_BYTES, RequestBodyTooLarge, readBody } from './http/body.js'
export {
  bareMediaType,
  type DtabBodyError,
  type DtabMediaType,
  dtabContentType,
  dtabFromJson,
  dtabToJson,
  negotiateDtabType,
  readDtabBody,
  renderDtab,
} from './http/codec.js'
export {
  type ApiRequest,
  type DtabAuditEvent,
  type HttpController,
  type HttpControllerOptions,
  httpController,
  isWatch,
  type NameEndpoints,
} from './http/controller.js'
export {
  DEFAULT_SERVER_LIMITS,
  type Listening,
  type ListenOptions,
  listen,
  type ServerLimits,
  type ServerTlsSpec,
  type SocketOptionsSpec,
} from './http/listen.js'
export {
  type ConfiguredNamer,
  isCallerError,
  type NameEndpointsOptions,
  nameEndpoints,
  stripTransformerPrefix,
} from './http/names.js'
export { DEFAULT_MAX_DTAB_PARAM_BYTES, DtabParamTooLong, namespaceFromPath } from './http/url.js'
export { streamActivity, type WatchRegistry, type WatchRendering, watchRegistry } from './http/watch.js'
export { MeshDecodeError } from './mesh/convert.js'
export { meshProtoPath } from './mesh/proto-path.js'
export { type MeshInterfaceOptions, type MeshListening, meshInterface } from './mesh/server.js'
export { type Namerd, type StartNamerdOptions, startNamerd } from './server.js'
export * from './store/index.js'
export { etcdStoreKind, zkStoreKind } from './store/remote-kinds.js'
export { MAX_VALIDATE_BYTES, type NamerdUiOptions, namerdUi } from './ui.js'
