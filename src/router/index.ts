/**
 * The linkerd router process as a library: `createRouter` (a routing proxy as a Node `http` request
 * handler) and `createLinker` (a whole linkerd.yaml: several routers, their servers, the admin server).
 *
 * @example
 * ```ts
 * import { createRouter } from 'switchboard/router'
 * http.createServer(createRouter('dtab: /svc/web => /$/inet/127.1/8080')).listen(4140)
 * ```
 */
export { type AccessLogEntry, accessLogLine } from './access-log.js'
export {
  type LinkerAdminSpec,
  type LinkerKinds,
  type LinkerRouterSpec,
  type LinkerSpec,
  linkerConfigCodec,
  readLinkerConfig,
  type ServerSpec,
} from './config.js'
export {
  errorResponseOf,
  type FailureContext,
  type RouterErrorResponse,
  RouterRejection,
  routerError,
  showDuration,
} from './errors.js'
export { appendVia, stripHopByHop, stripL5dHeaders, viaDepth } from './headers.js'
export { type CreateLinkerOptions, createLinker, type Linker, type LinkerServer } from './linker.js'
export { kindRegistry, loadPlugins, PluginError, type PluginRegistry } from './plugins.js'
export {
  type CreateRouterOptions,
  createRouter,
  type ForwardedLabeler,
  type Router,
  type RouterServerOptions,
} from './server.js'
