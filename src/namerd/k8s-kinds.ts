// The Kubernetes kinds of namerd's (and the router's) configuration: the `io.l5d.k8s` and
// `io.l5d.k8s.external` namers and the `io.l5d.k8s` storage. Nothing talks to the API server until
// a namer is looked up or the store is made; the client library is loaded then.
import { isLeft, left, right } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { nonEmptyString, parsed, portCodec, showFound, struct } from '../config/decode.js'
import { k8sExternalNamer, k8sNamer } from '../namers/k8s.js'
import { Path } from '../naming/path.js'
import type { NamerKind, NamerSpec } from './config.js'
import { type StoreKind, storeKind } from './plugin.js'

const prefixCodec = parsed<string>('a namer prefix', (u) => {
  if (typeof u !== 'string')
    return left(`expected a namer prefix such as "io.l5d.k8s", found ${showFound(u)}`)
  if (u === '' || u === '/') return left('Namers must not have an empty prefix')
  const p = Path.parse(u.startsWith('/') ? u : `/${u}`)
  return isLeft(p) ? left(`invalid prefix ${JSON.stringify(u)}: ${p.left.message}`) : right(u)
})

const positiveMs = parsed<number>('a duration in milliseconds', (u) =>
  typeof u === 'number' && Number.isInteger(u) && u > 0
    ? right(u)
    : left(`expected a positive whole number of milliseconds, found ${showFound(u)}`),
)

const mountOf = (prefix: string) =>
  Path.of('#', ...Path.read(prefix.startsWith('/') ? prefix : `/${prefix}`).segments)

/** The API connection keys every Kubernetes kind takes (linkerd's `host`/`port`, plus ours). */
const apiFields = {
  host: nonEmptyString,
  port: portCodec,
  inCluster: t.boolean,
  kubeConfigPath: nonEmptyString,
  requestTimeoutMs: positiveMs,
  watchIdleTimeoutMs: positiveMs,
}

function namerKind(
  kind: 'io.l5d.k8s' | 'io.l5d.k8s.external',
  extra: Record<string, t.Mixed>,
  make: typeof k8sNamer,
): NamerKind {
  const fields = struct(
    `an ${kind} namer object`,
    { kind: t.literal(kind) },
    { prefix: prefixCodec, experimental: t.boolean, ...apiFields, ...extra },
  )
  return {
    kind,
    codec: new t.Type<NamerSpec, unknown, unknown>(
      kind,
      (u): u is NamerSpec => typeof u === 'object' && u !== null && 'make' in u,
      (u, c) => {
        const r = fields.validate(u, c)
        if (isLeft(r)) return r
        const {
          kind: _k,
          experimental: _e,
          prefix = kind,
          ...options
        } = r.right as Record<string, unknown> & {
          prefix?: string
        }
        return t.success<NamerSpec>({
          kind,
          prefix: mountOf(prefix),
          make: (ctx) =>
            make({
              ...(options as Parameters<typeof k8sNamer>[0]),
              prefix,
              scheduler: ctx.scheduler,
              stats: ctx.stats,
              onError: (e) => ctx.log(`${kind}: ${e instanceof Error ? e.message : String(e)}`),
            }),
        })
      },
      (a) => a,
    ),
  }
}

/**
 * `io.l5d.k8s`: `host` (localhost), `port` (8001), `labelSelector`, `prefix` (io.l5d.k8s);
 * beyond linkerd: `inCluster` (service-account credentials), `kubeConfigPath`, `requestTimeoutMs`,
 * `watchIdleTimeoutMs`. `experimental` is accepted (older linkerd required it).
 *
 * @example
 * ```yaml
 * namers:
 * - kind: io.l5d.k8s
 *   host: localhost
 *   port: 8001
 * ```
 */
export const k8sNamerKind: NamerKind = namerKind('io.l5d.k8s', { labelSelector: nonEmptyString }, k8sNamer)

/**
 * `io.l5d.k8s.external`: the same connection keys; paths `/<namespace>/<port>/<service>` bind to a
 * LoadBalancer Service's ingress addresses.
 *
 * @example
 * ```yaml
 * namers:
 * - kind: io.l5d.k8s.external
 * ```
 */
export const k8sExternalNamerKind: NamerKind = namerKind('io.l5d.k8s.external', {}, k8sExternalNamer)

/**
 * `io.l5d.k8s` storage: `host` (localhost), `port` (8001), `namespace` (default: the Kubernetes
 * namespace of the DTab objects); beyond linkerd: the connection keys of the namer.
 *
 * @example
 * ```yaml
 * storage:
 *   kind: io.l5d.k8s
 *   host: localhost
 *   port: 8001
 *   namespace: linkerd
 * ```
 */
export const k8sStoreKind: StoreKind = storeKind(
  'io.l5d.k8s',
  {},
  { ...apiFields, namespace: nonEmptyString },
  (c) => async (ctx) => {
    const { k8sDtabStore } = await import('./store/k8s.js')
    return k8sDtabStore({
      ...c,
      scheduler: ctx.scheduler,
      stats: ctx.stats,
      onProblem: ctx.log,
    })
  },
)
