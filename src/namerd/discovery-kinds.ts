// The discovery backends as configuration kinds, for namerd YAML and (through `defaultNamerKinds`)
// the router's: the `io.l5d.serversets`, `io.l5d.dnssrv` and `io.l5d.consul` namers and the
// `io.l5d.consul` storage. Their clients (node-zookeeper-client, consul) are optional peer
// dependencies loaded when a name is first looked up or the store starts.
import { isLeft, left, right } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { nonEmptyString, parsed, portCodec, showFound, struct } from '../config/decode.js'
import { consulNamer } from '../namers/consul.js'
import { dnsSrvNamer } from '../namers/dnssrv.js'
import { serversetsNamer } from '../namers/serversets.js'
import { Path } from '../naming/path.js'
import type { NamerKind, NamerSpec } from './config.js'
import { type StoreKind, storeKind } from './plugin.js'

const prefixCodec = parsed<string>('a namer prefix', (u) => {
  if (typeof u !== 'string')
    return left(`expected a namer prefix such as "io.l5d.consul", found ${showFound(u)}`)
  if (u === '' || u === '/') return left('Namers must not have an empty prefix')
  const p = Path.parse(u.startsWith('/') ? u : `/${u}`)
  return isLeft(p) ? left(`invalid prefix ${JSON.stringify(u)}: ${p.left.message}`) : right(u)
})

const mountOf = (prefix: string) =>
  Path.of('#', ...Path.read(prefix.startsWith('/') ? prefix : `/${prefix}`).segments)

const positiveNumber = (what: string) =>
  parsed<number>(what, (u) =>
    typeof u === 'number' && Number.isFinite(u) && u > 0
      ? right(u)
      : left(`expected ${what}, found ${showFound(u)}`),
  )

const oneOf = <A extends string>(values: readonly A[]) =>
  parsed<A>(`one of ${values.join(', ')}`, (u) =>
    typeof u === 'string' && (values as readonly string[]).includes(u)
      ? right(u as A)
      : left(`expected one of ${values.join(', ')}, found ${showFound(u)}`),
  )

const unsupported = (what: string) =>
  parsed<undefined>(what, (u) => left(`${what} is not supported yet, found ${showFound(u)}`))

const zkAddrsCodec = new t.Type<{ host: string; port: number }[], unknown, unknown>(
  'a non-empty list of ZooKeeper addresses',
  Array.isArray,
  (u, c) => {
    if (!Array.isArray(u) || u.length === 0)
      return t.failure(u, c, `expected a non-empty list of ZooKeeper addresses, found ${showFound(u)}`)
    const r = t
      .array(struct('a ZooKeeper address', { host: nonEmptyString }, { port: portCodec }))
      .validate(u, c)
    return isLeft(r) ? r : t.success(r.right.map((a) => ({ host: a.host, port: a.port ?? 2181 })))
  },
  (a) => a,
)

type Props = Record<string, t.Mixed>
type Fields<R extends Props, O extends Props> = { [K in keyof R]: t.TypeOf<R[K]> } & {
  [K in keyof O]?: t.TypeOf<O[K]>
}

/** A namer kind from its fields; `prefix` and `experimental` are always accepted. */
function namerKind<R extends Props, O extends Props>(
  kind: string,
  required: R,
  optional: O,
  make: (config: Fields<R, O>, prefix: string) => NamerSpec['make'],
  options: { experimental?: boolean } = {},
): NamerKind {
  const fields = struct(
    `an ${kind} namer object`,
    { kind: t.literal(kind), ...required },
    { prefix: prefixCodec, experimental: t.boolean, ...optional },
  )
  return {
    kind,
    codec: new t.Type<NamerSpec, unknown, unknown>(
      kind,
      (u): u is NamerSpec => typeof u === 'object' && u !== null && 'make' in u,
      (u, c) => {
        const r = fields.validate(u, c)
        if (isLeft(r)) return r
        const config = r.right as Fields<R, O> & { prefix?: string; experimental?: boolean }
        if (options.experimental && config.experimental !== true)
          return t.failure(
            config.experimental,
            t.appendContext(c, 'experimental', t.boolean, config.experimental),
            `${kind} is experimental and must be configured with "experimental: true", found ${showFound(config.experimental)}`,
          )
        const prefix = config.prefix ?? kind
        return t.success<NamerSpec>({ kind, prefix: mountOf(prefix), make: make(config, prefix) })
      },
      (a) => a,
    ),
  }
}

/**
 * `io.l5d.serversets`: `zkAddrs` (required: `{host, port}` list, port default 2181), `prefix`
 * (io.l5d.serversets); beyond linkerd: `sessionTimeoutMs` (10000).
 *
 * @example
 * ```yaml
 * namers:
 * - kind: io.l5d.serversets
 *   zkAddrs: [{ host: 127.0.0.1, port: 2181 }]
 * ```
 */
export const serversetsNamerKind: NamerKind = namerKind(
  'io.l5d.serversets',
  { zkAddrs: zkAddrsCodec },
  { sessionTimeoutMs: positiveNumber('a positive number of milliseconds') },
  (c, prefix) => (ctx) =>
    serversetsNamer({
      zkAddrs: c.zkAddrs,
      prefix,
      sessionTimeoutMs: c.sessionTimeoutMs,
      scheduler: ctx.scheduler,
      stats: ctx.stats,
      onError: (e) => ctx.log(e.message),
    }),
)

/**
 * `io.l5d.dnssrv` (linkerd requires `experimental: true`): `refreshIntervalSeconds` (5),
 * `dnsHosts` (the system's resolvers; `host` or, beyond linkerd, `host:port`), `domain` (appended
 * to names without a trailing dot), `prefix` (io.l5d.dnssrv).
 *
 * @example
 * ```yaml
 * namers:
 * - kind: io.l5d.dnssrv
 *   experimental: true
 *   refreshIntervalSeconds: 5
 *   dnsHosts: [10.0.0.2]
 * ```
 */
export const dnsSrvNamerKind: NamerKind = namerKind(
  'io.l5d.dnssrv',
  {},
  {
    refreshIntervalSeconds: positiveNumber('a positive number of seconds'),
    dnsHosts: t.array(nonEmptyString),
    domain: nonEmptyString,
  },
  (c, prefix) => (ctx) =>
    dnsSrvNamer({
      prefix,
      refreshIntervalMs: c.refreshIntervalSeconds === undefined ? undefined : c.refreshIntervalSeconds * 1000,
      dnsHosts: c.dnsHosts,
      domain: c.domain,
      scheduler: ctx.scheduler,
      stats: ctx.stats,
      onError: (e) => ctx.log(e.message),
    }),
  { experimental: true },
)

const consistencyCodec = oneOf(['default', 'stale', 'consistent'] as const)

/**
 * `io.l5d.consul`: `host` (localhost), `port` (8500), `includeTag` (false), `useHealthCheck`
 * (false), `healthStatuses` ([passing]), `token`, `setHost` (false), `consistencyMode` (default),
 * `failFast` (accepted), `preferServiceAddress` (true), `weights` ([{tag, weight}]),
 * `transferMetadata` (false), `fixedLengthStreamedAfterKB` (accepted), `prefix` (io.l5d.consul).
 * `tls` is refused (not supported yet).
 *
 * @example
 * ```yaml
 * namers:
 * - kind: io.l5d.consul
 *   host: 127.0.0.1
 *   useHealthCheck: true
 * ```
 */
export const consulNamerKind: NamerKind = namerKind(
  'io.l5d.consul',
  {},
  {
    host: nonEmptyString,
    port: portCodec,
    includeTag: t.boolean,
    useHealthCheck: t.boolean,
    healthStatuses: t.array(oneOf(['passing', 'warning', 'critical', 'maintenance'] as const)),
    token: t.string,
    setHost: t.boolean,
    consistencyMode: consistencyCodec,
    failFast: t.boolean,
    preferServiceAddress: t.boolean,
    weights: t.array(
      struct(
        'a weight object',
        {
          tag: nonEmptyString,
          weight: parsed<number>('a weight', (u) =>
            typeof u === 'number' && Number.isFinite(u) && u >= 0
              ? right(u)
              : left(`expected a weight >= 0, found ${showFound(u)}`),
          ),
        },
        {},
      ),
    ),
    transferMetadata: t.boolean,
    fixedLengthStreamedAfterKB: t.number,
    tls: unsupported('tls'),
  },
  (c, prefix) => (ctx) =>
    consulNamer({
      prefix,
      host: c.host,
      port: c.port,
      includeTag: c.includeTag,
      useHealthCheck: c.useHealthCheck,
      healthStatuses: c.healthStatuses,
      token: c.token === '' ? undefined : c.token,
      setHost: c.setHost,
      consistencyMode: c.consistencyMode,
      preferServiceAddress: c.preferServiceAddress,
      weights: c.weights,
      transferMetadata: c.transferMetadata,
      scheduler: ctx.scheduler,
      stats: ctx.stats,
      onError: (e) => ctx.log(e.message),
    }),
)

const pathPrefixCodec = parsed<string>('a path prefix', (u) => {
  if (typeof u !== 'string' || !u.startsWith('/'))
    return left(`expected an absolute path such as "/namerd/dtabs", found ${showFound(u)}`)
  if (u !== '/' && (u.endsWith('/') || u.includes('//')))
    return left(`expected a path without empty segments or a trailing "/", found ${showFound(u)}`)
  return right(u)
})

const backoffCodec = new t.Type<{ minMs: number; maxMs: number }, unknown, unknown>(
  'a backoff object',
  (u): u is { minMs: number; maxMs: number } => typeof u === 'object' && u !== null,
  (u, c) => {
    const kind = typeof u === 'object' && u !== null ? (u as Record<string, unknown>)['kind'] : undefined
    const ms = positiveNumber('a positive number of milliseconds')
    if (kind === 'constant') {
      const r = struct('a constant backoff', { kind: t.literal('constant') }, { ms }).validate(u, c)
      return isLeft(r) ? r : t.success({ minMs: r.right.ms ?? 0, maxMs: r.right.ms ?? 0 })
    }
    const r = struct(
      'a jittered backoff',
      { kind: t.literal('jittered'), minMs: ms, maxMs: ms },
      {},
    ).validate(u, c)
    if (isLeft(r)) return r
    if (r.right.minMs > r.right.maxMs)
      return t.failure(u, c, `minMs (${r.right.minMs}) must not be greater than maxMs (${r.right.maxMs})`)
    return t.success({ minMs: r.right.minMs, maxMs: r.right.maxMs })
  },
  (a) => a,
)

/**
 * `io.l5d.consul` storage: `host` (localhost), `port` (8500), `pathPrefix` (/namerd/dtabs), `token`,
 * `datacenter`, `readConsistencyMode` / `writeConsistencyMode` (default), `failFast` (accepted),
 * `backoff` (`{kind: jittered, minMs, maxMs}` or `{kind: constant, ms}`; default jittered 1 ms →
 * 1 minute). `tls` is refused (not supported yet).
 *
 * @example
 * ```yaml
 * storage:
 *   kind: io.l5d.consul
 *   host: 127.0.0.1
 *   pathPrefix: /namerd/dtabs
 * ```
 */
export const consulStoreKind: StoreKind = storeKind(
  'io.l5d.consul',
  {},
  {
    host: nonEmptyString,
    port: portCodec,
    pathPrefix: pathPrefixCodec,
    token: t.string,
    datacenter: nonEmptyString,
    readConsistencyMode: consistencyCodec,
    writeConsistencyMode: consistencyCodec,
    failFast: t.boolean,
    backoff: backoffCodec,
    tls: unsupported('tls'),
  },
  (c) => async (ctx) => {
    const { consulDtabStore } = await import('./store/consul.js')
    return consulDtabStore({
      host: c.host,
      port: c.port,
      pathPrefix: c.pathPrefix,
      token: c.token === '' ? undefined : c.token,
      datacenter: c.datacenter,
      readConsistencyMode: c.readConsistencyMode,
      backoff: c.backoff,
      scheduler: ctx.scheduler,
      stats: ctx.stats,
      onProblem: ctx.log,
    })
  },
)
