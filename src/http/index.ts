/**
 * The HTTP client: `createClient` routes a Node service's outbound requests by name through
 * identifiers, dtabs, namers, balancers and the resilience filters. Also the pieces it is made of:
 * identifiers (request → logical name), HTTP response classifiers, linkerd's `l5d-*` header
 * propagation, per-name client and service settings, and the undici endpoint (one connection pool
 * per endpoint address).
 *
 * @example
 * ```ts
 * import { createClient, retryableRead5xx } from 'switchboard/http'
 * const client = createClient({ dtab: '/svc => /#/io.l5d.fs', namers: [fsNamer({ rootDir: 'disco' })] })
 * const rep = await client.fetch('http://users/api/42')
 * ```
 */
export { type BodySink, type BodySource, ResponseBody } from './body.js'
export {
  ALL_METHODS,
  allSuccessful,
  asResponseClassifier,
  baseHttpRule,
  type ClassifiedRequest,
  type ClassifiedResponse,
  type HttpClassifier,
  httpClassifiers,
  IDEMPOTENT_METHODS,
  isRetryableHttpError,
  isServerError,
  nonRetryable5xx,
  READ_METHODS,
  retryableAll5xx,
  retryableIdempotent5xx,
  retryableRead5xx,
  withL5dRules,
} from './classifiers.js'
export {
  type BindingCacheOptions,
  type Client,
  type ClientOptions,
  createClient,
  type NamerMount,
  type RouteInfo,
} from './client.js'
export {
  type ConnectionPoolOptions,
  type HttpEndpoint,
  type HttpEndpointOptions,
  type HttpResponse,
  httpEndpoint,
} from './endpoint.js'
export {
  ChannelClosedError,
  ConnectionFailedError,
  classifyTransportError,
  errorCode,
  TooManyWaitersError,
} from './errors.js'
export {
  DEFAULT_PREFIX,
  type HeaderOptions,
  type HeaderTokenOptions,
  header,
  headerToken,
  type Identification,
  Identified,
  type IdentifiedRequest,
  type Identifier,
  identifiers,
  identify,
  type MethodAndHostOptions,
  methodAndHost,
  type PathOptions,
  type PrefixOption,
  path,
  type StaticOptions,
  staticIdentifier,
  Unidentified,
  UnidentifiedError,
} from './identifiers.js'
export {
  INGRESS_CLASS_ANNOTATION,
  type IngressIdentifier,
  type IngressIdentifierOptions,
  type IngressPath,
  type IngressSpec,
  ingressIdentifier,
  ingressPathMatches,
  ingressSpecOf,
  matchIngress,
} from './ingress.js'
export { UnsupportedRequestError } from './interceptor.js'
export type {
  ClientParams,
  ClientTlsParams,
  PerName,
  PrefixConfigs,
  RetriesParams,
  ServiceParams,
} from './params.js'
export {
  currentContext,
  DEFAULT_MAX_DTAB_HEADER_LENGTH,
  DtabHeaderCache,
  DtabHeaderTooLargeError,
  encodeL5dErr,
  L5dHeaders,
  l5dErrorResponse,
  type RequestContext,
  readDeadlineHeaders,
  readDtabHeaders,
  readRequestContext,
  runWithContext,
  withL5dContext,
} from './propagation.js'
export {
  type HttpHeaders,
  type HttpRequest,
  headerValue,
  headerValues,
  isReplayableBody,
  normalizeHeaders,
  type RequestBody,
} from './request.js'
export { BodyUnusableError, ResponseStream } from './response-stream.js'
export {
  BindingTimeoutError,
  DEFAULT_BINDING_CACHE,
  pickName,
  type RoutedRequest,
  Router,
  type RouterEnv,
} from './router.js'
export { failureClass, httpStats, SYNTHETIC_FAILURE, type Usage } from './stats-filter.js'
