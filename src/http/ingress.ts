import type { Activity } from '../core/activity.js'
import type { Scheduler } from '../core/clock.js'
import { InvalidOptionError } from '../core/errors.js'
import {
  type K8sApi,
  type K8sApiOptions,
  type K8sObject,
  type K8sSnapshot,
  k8sApi,
  k8sWatchedResource,
} from '../namers/k8s-api.js'
import { Path } from '../naming/path.js'
import { DEFAULT_PREFIX, type Identifier, type PrefixOption, Unidentified } from './identifiers.js'
import { headerValue } from './request.js'

/** The annotation that says which controller an Ingress is for. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class'

/** One routing rule of an Ingress: host and path (either may be absent) to a service and port. */
export interface IngressPath {
  readonly host?: string | undefined
  /** linkerd: a regular expression the whole request path must match; absent or empty: any path. */
  readonly path?: string | undefined
  /** networking.k8s.io/v1 `pathType`: `Exact`, `Prefix` or `ImplementationSpecific` (linkerd's regex). */
  readonly pathType?: string | undefined
  readonly namespace: string
  readonly svc: string
  readonly port: string
}

/** One Ingress: its rules in order and its default backend. */
export interface IngressSpec {
  readonly name?: string | undefined
  readonly namespace?: string | undefined
  readonly fallback?: IngressPath | undefined
  readonly rules: readonly IngressPath[]
}

const regexCache = new Map<string, RegExp | null>()
function fullRegex(p: string): RegExp | null {
  let r = regexCache.get(p)
  if (r !== undefined) return r
  try {
    r = new RegExp(`^(?:${p})$`, 'u')
  } catch {
    r = null // a rule whose path is not a regular expression matches nothing
  }
  if (regexCache.size >= 1000) regexCache.delete(regexCache.keys().next().value as string)
  regexCache.set(p, r)
  return r
}

function hostMatches(ruleHost: string | undefined, host: string | undefined): boolean {
  if (ruleHost === undefined || ruleHost === '') return true
  if (host === undefined) return false
  const h = host.toLowerCase()
  const r = ruleHost.toLowerCase()
  if (r.startsWith('*.')) {
    const dot = h.indexOf('.')
    return dot > 0 && h.slice(dot) === r.slice(1)
  }
  return h === r
}

function pathMatches(rule: IngressPath, requestPath: string): boolean {
  const p = rule.path
  if (p === undefined || p === '') return true
  if (rule.pathType === 'Exact') return requestPath === p
  if (rule.pathType === 'Prefix') {
    const want = p.split('/').filter((s) => s !== '')
    const got = requestPath.split('/').filter((s) => s !== '')
    return want.length <= got.length && want.every((s, i) => got[i] === s)
  }
  return fullRegex(p)?.test(requestPath) ?? false
}

/**
 * Whether a rule matches a request host (without port) and path, as linkerd's `IngressPath.matches`:
 * an absent host matches any host, an absent or empty path any path, else the path is a regular
 * expression the whole request path must match (with `pathType` Exact or Prefix, those rules).
 *
 * @example
 * ```ts
 * ingressPathMatches({ host: 'myhost', path: '/prefix/.*', namespace: 'ns', svc: 's', port: '80' }, 'myhost', '/prefix/x') // true
 * ```
 */
export function ingressPathMatches(
  rule: IngressPath,
  host: string | undefined,
  requestPath: string,
): boolean {
  return hostMatches(rule.host, host) && pathMatches(rule, requestPath)
}

/**
 * The rule a request goes to, as linkerd's `IngressCache.getMatchingPath`: the first matching rule
 * of the first Ingress that has one, else the first default backend, else none.
 *
 * @example
 * ```ts
 * matchIngress(specs, 'foo.bar.com', '/fooPath/x')?.svc // 'fooPathService'
 * ```
 */
export function matchIngress(
  ingresses: readonly IngressSpec[],
  host: string | undefined,
  requestPath: string,
): IngressPath | undefined {
  for (const i of ingresses) {
    const r = i.rules.find((rule) => ingressPathMatches(rule, host, requestPath))
    if (r) return r
  }
  for (const i of ingresses) if (i.fallback) return i.fallback
  return undefined
}

type Backend = {
  serviceName?: unknown
  servicePort?: unknown
  service?: { name?: unknown; port?: { number?: unknown; name?: unknown } }
}

function backendOf(b: Backend | undefined): { svc: string; port: string } | undefined {
  if (!b) return undefined
  // extensions/v1beta1 (linkerd's): serviceName/servicePort; networking.k8s.io/v1: service.{name,port}.
  const svc = typeof b.serviceName === 'string' ? b.serviceName : b.service?.name
  const portRaw = b.servicePort ?? b.service?.port?.number ?? b.service?.port?.name
  if (typeof svc !== 'string' || svc === '') return undefined
  if (typeof portRaw !== 'string' && typeof portRaw !== 'number') return undefined
  return { svc, port: String(portRaw) }
}

/**
 * An Ingress object as linkerd reads it (`IngressCache.mkIngress`): `undefined` when it is for
 * another ingress class (its `kubernetes.io/ingress.class` annotation, or `spec.ingressClassName`,
 * names another one); rules flattened in order; the default backend kept unless
 * `ignoreDefaultBackends`. Both the `extensions/v1beta1` and the `networking.k8s.io/v1` shapes.
 *
 * @example
 * ```ts
 * ingressSpecOf(obj, 'linkerd')?.rules[0]?.svc
 * ```
 */
export function ingressSpecOf(
  ingress: K8sObject,
  ingressClass: string,
  ignoreDefaultBackends = false,
): IngressSpec | undefined {
  const annotated = ingress.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION]
  if (annotated !== undefined && annotated !== null && annotated !== ingressClass) return undefined
  const spec = ingress['spec'] as
    | {
        ingressClassName?: unknown
        backend?: Backend
        defaultBackend?: Backend
        rules?: readonly {
          host?: unknown
          http?: { paths?: readonly { path?: unknown; pathType?: unknown; backend?: Backend }[] }
        }[]
      }
    | undefined
  if (!spec || typeof spec !== 'object') return undefined
  if (typeof spec.ingressClassName === 'string' && spec.ingressClassName !== ingressClass) return undefined
  const namespace = ingress.metadata?.namespace ?? 'default'
  const rules: IngressPath[] = []
  for (const rule of Array.isArray(spec.rules) ? spec.rules : []) {
    for (const p of Array.isArray(rule?.http?.paths) ? rule.http.paths : []) {
      const b = backendOf(p?.backend)
      if (!b) continue
      rules.push({
        host: typeof rule.host === 'string' ? rule.host : undefined,
        path: typeof p.path === 'string' ? p.path : undefined,
        pathType: typeof p.pathType === 'string' ? p.pathType : undefined,
        namespace,
        ...b,
      })
    }
  }
  const fb = ignoreDefaultBackends ? undefined : backendOf(spec.backend ?? spec.defaultBackend)
  return {
    name: ingress.metadata?.name,
    namespace: ingress.metadata?.namespace,
    fallback: fb ? { namespace, ...fb } : undefined,
    rules,
  }
}

/** Options of `ingressIdentifier` (linkerd's `io.l5d.ingress`). */
export interface IngressIdentifierOptions extends PrefixOption, K8sApiOptions {
  /** Only this Kubernetes namespace's Ingresses (default: all namespaces). */
  readonly namespace?: string | undefined
  /** The ingress class served (default `linkerd`). */
  readonly ingressClassAnnotation?: string | undefined
  /** Ignore every Ingress's default backend (default false). */
  readonly ignoreDefaultBackends?: boolean | undefined
  /**
   * The Ingress API: `networking.k8s.io/v1` (default; Kubernetes ≥ 1.19) or `extensions/v1beta1`
   * (what linkerd 1.x read; removed in Kubernetes 1.22).
   */
  readonly apiVersion?: 'networking.k8s.io/v1' | 'extensions/v1beta1' | undefined
  /** An API connection to share (the identifier then does not close it). */
  readonly api?: K8sApi | undefined
  readonly scheduler?: Scheduler | undefined
  readonly onError?: ((error: unknown) => void) | undefined
}

/** An `io.l5d.ingress` identifier: an `Identifier` holding a watch of Ingresses. */
export interface IngressIdentifier extends Identifier {
  /** Resolves once the Ingresses have been listed (requests before that are unidentified). */
  ready(): Promise<void>
  /** Stops the watch. */
  close(): Promise<void>
}

/**
 * linkerd's `io.l5d.ingress`: names a request after the Kubernetes Ingress rule its host (port
 * removed) and path match: `<prefix>/<namespace>/<servicePort>/<serviceName>` (a request
 * `/testpath` matching a rule → `/svc/default/80/test`). Ingresses are listed and watched; only
 * those for `ingressClassAnnotation` (or for no class) count; the first matching rule of the first
 * Ingress wins, else the first default backend. No match → unidentified `no ingress rule matches`.
 * The watch starts with the first request or `ready()`; until the first list arrives requests are
 * unidentified (`ingress rules are not loaded yet`).
 *
 * @example
 * ```ts
 * const ingress = ingressIdentifier({ host: 'localhost', port: 8001 })
 * await ingress.ready()
 * createClient({ identifier: ingress, ... })
 * ```
 */
export function ingressIdentifier(options: IngressIdentifierOptions = {}): IngressIdentifier {
  const prefix =
    options.prefix === undefined
      ? DEFAULT_PREFIX
      : options.prefix instanceof Path
        ? options.prefix
        : Path.read(options.prefix)
  const ingressClass = options.ingressClassAnnotation ?? 'linkerd'
  if (typeof ingressClass !== 'string' || ingressClass === '')
    throw new InvalidOptionError(
      'io.l5d.ingress',
      'ingressClassAnnotation',
      'a non-empty string',
      ingressClass,
    )
  const group = options.apiVersion ?? 'networking.k8s.io/v1'
  const own = options.api === undefined
  const api = options.api ?? k8sApi(options)
  const path =
    options.namespace === undefined
      ? `/apis/${group}/ingresses`
      : `/apis/${group}/namespaces/${encodeURIComponent(options.namespace)}/ingresses`
  const watched: Activity<K8sSnapshot> = k8sWatchedResource(api, {
    path,
    single: false,
    scheduler: options.scheduler,
    onError: options.onError,
  })
  let specs: readonly IngressSpec[] | undefined
  let lastError: unknown
  const waiters: (() => void)[] = []
  // The watch starts with the first request (or `ready()`), so that building one connects nothing.
  let stop: (() => void) | undefined
  let closed = false
  const start = () => {
    if (stop || closed) return
    stop = watched.observe((s) => {
      if (s.kind === 'ok') {
        specs = [...s.value.objects.values()].flatMap((o) => {
          const spec = ingressSpecOf(o, ingressClass, options.ignoreDefaultBackends ?? false)
          return spec ? [spec] : []
        })
        for (const w of waiters.splice(0)) w()
      } else if (s.kind === 'failed') lastError = s.error
    })
  }
  const notLoaded = Unidentified.of('ingress rules are not loaded yet')
  const noMatch = Unidentified.of('no ingress rule matches')
  const identifier = ((req) => {
    start()
    if (specs === undefined)
      return lastError === undefined
        ? notLoaded
        : Unidentified.of(
            `ingress rules could not be loaded: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
          )
    const hostHeader = headerValue(req.headers, 'host')
    let host: string | undefined
    if (hostHeader !== undefined) {
      const parts = hostHeader.split(':')
      if (parts.length > 2) throw new Error('unable to parse host for request')
      host = parts[0]
    }
    const q = req.path.indexOf('?')
    const requestPath = q < 0 ? req.path : req.path.slice(0, q)
    const rule = matchIngress(specs, host, requestPath)
    if (!rule) return noMatch
    return prefix.concat(Path.of(rule.namespace, rule.port, rule.svc))
  }) as IngressIdentifier
  identifier.ready = () => {
    start()
    return specs !== undefined ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))
  }
  identifier.close = async () => {
    closed = true
    stop?.()
    if (own) await api.close()
  }
  return identifier
}
