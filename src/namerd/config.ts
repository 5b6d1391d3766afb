import { statSync } from 'node:fs'
import { isLeft, left, right } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  byKind,
  type ConfigKind,
  nonEmptyString,
  parsed,
  portCodec,
  showFound,
  struct,
} from '../config/decode.js'
import { transformersCodec } from '../config/router.js'
import { fsNamer } from '../namers/fs.js'
import { rewriteNamer } from '../namers/rewrite.js'
import { Dtab } from '../naming/dtab.js'
import type { Namer } from '../naming/namer.js'
import { Path } from '../naming/path.js'
import { transformNamer } from '../transformers/transformer.js'
import { consulNamerKind, consulStoreKind, dnsSrvNamerKind, serversetsNamerKind } from './discovery-kinds.js'
import { DEFAULT_MAX_BODY_BYTES } from './http/body.js'
import {
  DEFAULT_SERVER_LIMITS,
  type ServerLimits,
  type ServerTlsSpec,
  type SocketOptionsSpec,
} from './http/listen.js'
import { DEFAULT_MAX_DTAB_PARAM_BYTES } from './http/url.js'
import { k8sExternalNamerKind, k8sNamerKind, k8sStoreKind } from './k8s-kinds.js'
import { type PluginContext, type StorageSpec, type StoreKind, storeKind } from './plugin.js'
import { fileDtabStore } from './store/file.js'
import { inMemoryDtabStore } from './store/memory.js'
import { namespaceProblem } from './store/namespace.js'
import { etcdStoreKind, zkStoreKind } from './store/remote-kinds.js'

export { type PluginContext, type StorageSpec, type StoreKind, storeKind } from './plugin.js'

/** A decoded `namers:` entry, ready to start. */
export interface NamerSpec {
  readonly kind: string
  /** The mount point, `/#/<prefix>`. */
  readonly prefix: Path
  make(context: PluginContext): Namer & { names?(): unknown; close?(): void }
}

/** A decoded `interfaces:` entry. */
export interface HttpControllerSpec {
  readonly kind: 'io.l5d.httpController'
  readonly ip: string
  readonly port: number
  readonly authToken: string | undefined
  readonly maxBodyBytes: number
  /** The longest `dtab` query parameter in bytes (414 beyond; default 8 KiB). */
  readonly maxDtabParamBytes?: number | undefined
  /** Header and request timeouts, keep-alive and the connection cap (defaults: `DEFAULT_SERVER_LIMITS`). */
  readonly limits?: ServerLimits | undefined
  /** linkerd's server `tls` block: the interface then speaks HTTPS. */
  readonly tls?: ServerTlsSpec | undefined
  /** linkerd's `socketOptions` block. */
  readonly socketOptions?: SocketOptionsSpec | undefined
}

/** A decoded `io.l5d.mesh` interface: namerd's gRPC API (default port 4321). */
export interface MeshInterfaceSpec {
  readonly kind: 'io.l5d.mesh'
  readonly ip: string
  readonly port: number
  /** linkerd's server `tls` block: the interface then speaks gRPC over TLS. */
  readonly tls?: ServerTlsSpec | undefined
}

/** A decoded `interfaces:` entry of any kind namerd serves. */
export type InterfaceSpec = HttpControllerSpec | MeshInterfaceSpec

/** A decoded `admin:` block. */
export interface AdminSpec {
  readonly ip: string
  readonly port: number
  readonly shutdownGraceMs: number
  /** linkerd's server `tls` block: the admin server then speaks HTTPS. */
  readonly tls?: ServerTlsSpec | undefined
}

/** A whole decoded namerd configuration. */
export interface NamerdSpec {
  readonly admin: AdminSpec
  readonly storage: StorageSpec
  readonly namers: readonly NamerSpec[]
  readonly interfaces: readonly InterfaceSpec[]
  /** Parts of the config accepted and not acted on, one line each (printed at startup). */
  readonly warnings?: readonly string[] | undefined
}

/**
 * Interface kinds of linkerd's namerd that this namerd does not serve yet: a config listing one
 * still starts, with one warning line per entry (the other interfaces are served).
 */
export const IGNORED_INTERFACE_KINDS: readonly string[] = ['io.l5d.thriftNameInterpreter']

/** A namer kind. */
export interface NamerKind extends ConfigKind<NamerSpec> {}

/** A map of namespace → dtab text, each dtab parsed (and each name checked) at load time. */
export const namespacesCodec = parsed<ReadonlyMap<string, Dtab>>('a map of namespace to dtab', (u) => {
  if (typeof u !== 'object' || u === null || Array.isArray(u))
    return left(`expected a map of namespace to dtab text, found ${showFound(u)}`)
  const out = new Map<string, Dtab>()
  for (const [ns, text] of Object.entries(u)) {
    const problem = namespaceProblem(ns)
    if (problem !== undefined) return left(`invalid namespace ${JSON.stringify(ns)}: ${problem}`)
    if (typeof text !== 'string') return left(`${ns}: expected dtab text, found ${showFound(text)}`)
    const d = Dtab.parse(text)
    if (isLeft(d)) return left(`${ns}: ${d.left.message}`)
    out.set(ns, d.right)
  }
  return right(out)
})

/** `io.l5d.inMemory`: `namespaces` seeds the store. */
export const inMemoryStoreKind: StoreKind = storeKind(
  'io.l5d.inMemory',
  {},
  { namespaces: namespacesCodec },
  (c) => async () => inMemoryDtabStore({ namespaces: c.namespaces ?? new Map() }),
)

/**
 * `switchboard.file`: the embedded file store (`dir`, required). `namespaces` are created when
 * missing (an existing namespace is never overwritten), so a first start has something to serve.
 */
export const fileStoreKind: StoreKind = storeKind(
  'switchboard.file',
  { dir: nonEmptyString },
  { namespaces: namespacesCodec, pollIntervalMs: t.number },
  (c) => async (ctx) => {
    const store = await fileDtabStore({
      dir: c.dir,
      scheduler: ctx.scheduler,
      stats: ctx.stats,
      pollIntervalMs: c.pollIntervalMs,
      onError: (e) => ctx.log(e.message),
    })
    for (const [ns, dtab] of c.namespaces ?? []) {
      await store.create(ns, dtab).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'DtabNamespaceExists') throw error
      })
    }
    return store
  },
)

/** The storage kinds namerd knows out of the box. */
export const defaultStoreKinds: readonly StoreKind[] = [
  inMemoryStoreKind,
  fileStoreKind,
  etcdStoreKind,
  zkStoreKind,
  k8sStoreKind,
  consulStoreKind,
]

const prefixCodec = parsed<string>('a namer prefix', (u) => {
  if (typeof u !== 'string') return left(`expected a namer prefix such as "io.l5d.fs", found ${showFound(u)}`)
  if (u === '' || u === '/') return left('Namers must not have an empty prefix')
  const text = u.startsWith('/') ? u : `/${u}`
  const p = Path.parse(text)
  return isLeft(p) ? left(`invalid prefix ${JSON.stringify(u)}: ${p.left.message}`) : right(u)
})

const mountOf = (prefix: string) =>
  Path.of('#', ...Path.read(prefix.startsWith('/') ? prefix : `/${prefix}`).segments)

/** `io.l5d.fs`: `rootDir` (required), `prefix` (default `io.l5d.fs`). */
export const fsNamerKind: NamerKind = {
  kind: 'io.l5d.fs',
  codec: new t.Type<NamerSpec, unknown, unknown>(
    'io.l5d.fs',
    (u): u is NamerSpec => typeof u === 'object' && u !== null && 'make' in u,
    (u, c) => {
      const r = struct(
        'an io.l5d.fs namer object',
        { kind: t.literal('io.l5d.fs'), rootDir: nonEmptyString },
        { prefix: prefixCodec, experimental: t.boolean },
      ).validate(u, c)
      if (isLeft(r)) return r
      const { rootDir, prefix = 'io.l5d.fs' } = r.right
      return t.success<NamerSpec>({
        kind: 'io.l5d.fs',
        prefix: mountOf(prefix),
        make: (ctx) => {
          // linkerd refuses to start with a rootDir that is not a directory; so do we.
          let isDir = false
          try {
            isDir = statSync(rootDir).isDirectory()
          } catch {
            isDir = false
          }
          if (!isDir) throw new Error(`io.l5d.fs: rootDir ${JSON.stringify(rootDir)} is not a directory`)
          return fsNamer({
            rootDir,
            prefix,
            scheduler: ctx.scheduler,
            stats: ctx.stats,
            onError: (e) => ctx.log(e.message),
          })
        },
      })
    },
    (a) => a,
  ),
}

/**
 * `io.l5d.rewrite`: `prefix`, `pattern` and `name`, all required (linkerd gives the prefix no
 * default). See `rewriteNamer` in `switchboard/namers`.
 */
export const rewriteNamerKind: NamerKind = {
  kind: 'io.l5d.rewrite',
  codec: new t.Type<NamerSpec, unknown, unknown>(
    'io.l5d.rewrite',
    (u): u is NamerSpec => typeof u === 'object' && u !== null && 'make' in u,
    (u, c) => {
      const r = struct(
        'an io.l5d.rewrite namer object',
        {
          kind: t.literal('io.l5d.rewrite'),
          prefix: prefixCodec,
          pattern: nonEmptyString,
          name: nonEmptyString,
        },
        { experimental: t.boolean },
      ).validate(u, c)
      if (isLeft(r)) return r
      const { prefix, pattern, name } = r.right
      let namer: Namer
      try {
        namer = rewriteNamer({ pattern, name })
      } catch (error) {
        return t.failure(u, c, error instanceof Error ? error.message : String(error))
      }
      return t.success<NamerSpec>({ kind: 'io.l5d.rewrite', prefix: mountOf(prefix), make: () => namer })
    },
    (a) => a,
  ),
}

/** The namer kinds namerd knows out of the box. */
export const defaultNamerKinds: readonly NamerKind[] = [
  fsNamerKind,
  rewriteNamerKind,
  k8sNamerKind,
  k8sExternalNamerKind,
  serversetsNamerKind,
  dnsSrvNamerKind,
  consulNamerKind,
]

const ipCodec = nonEmptyString

const positiveInt = parsed<number>('a positive integer', (u) =>
  typeof u === 'number' && Number.isInteger(u) && u > 0
    ? right(u)
    : left(`expected a positive integer, found ${showFound(u)}`),
)

/** linkerd's server `tls` block (`certPath` and `keyPath` required). */
export const serverTlsCodec = struct(
  'a server tls object',
  { certPath: nonEmptyString, keyPath: nonEmptyString },
  {
    caCertPath: nonEmptyString,
    intermediateCertsPath: nonEmptyString,
    ciphers: t.array(nonEmptyString),
    protocols: t.array(nonEmptyString),
    requireClientAuth: t.boolean,
  },
)

/** linkerd's `socketOptions` block (Finagle's listener socket options). */
export const socketOptionsCodec = struct(
  'a socketOptions object',
  {},
  {
    noDelay: t.boolean,
    reuseAddr: t.boolean,
    reusePort: t.boolean,
    readTimeoutMs: positiveInt,
    writeTimeoutMs: positiveInt,
    keepAlive: t.boolean,
    backlog: positiveInt,
  },
)

const httpControllerCodec = new t.Type<HttpControllerSpec, unknown, unknown>(
  'io.l5d.httpController',
  (u): u is HttpControllerSpec => typeof u === 'object' && u !== null,
  (u, c) => {
    const r = struct(
      'an io.l5d.httpController interface object',
      { kind: t.literal('io.l5d.httpController') },
      {
        ip: ipCodec,
        port: portCodec,
        authToken: nonEmptyString,
        maxBodyBytes: positiveInt,
        maxDtabParamBytes: positiveInt,
        headersTimeoutMs: positiveInt,
        requestTimeoutMs: positiveInt,
        keepAliveTimeoutMs: positiveInt,
        maxConnections: positiveInt,
        tls: serverTlsCodec,
        socketOptions: socketOptionsCodec,
      },
    ).validate(u, c)
    if (isLeft(r)) return r
    return t.success({
      kind: 'io.l5d.httpController' as const,
      ip: r.right.ip ?? '127.0.0.1',
      port: r.right.port ?? 4180,
      authToken: r.right.authToken,
      maxBodyBytes: r.right.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      maxDtabParamBytes: r.right.maxDtabParamBytes ?? DEFAULT_MAX_DTAB_PARAM_BYTES,
      limits: {
        headersTimeoutMs: r.right.headersTimeoutMs ?? DEFAULT_SERVER_LIMITS.headersTimeoutMs,
        requestTimeoutMs: r.right.requestTimeoutMs ?? DEFAULT_SERVER_LIMITS.requestTimeoutMs,
        keepAliveTimeoutMs: r.right.keepAliveTimeoutMs ?? DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs,
        maxConnections: r.right.maxConnections ?? DEFAULT_SERVER_LIMITS.maxConnections,
      },
      tls: r.right.tls,
      socketOptions: r.right.socketOptions,
    })
  },
  (a) => a,
)

const meshInterfaceCodec = new t.Type<MeshInterfaceSpec, unknown, unknown>(
  'io.l5d.mesh',
  (u): u is MeshInterfaceSpec => typeof u === 'object' && u !== null,
  (u, c) => {
    const r = struct(
      'an io.l5d.mesh interface object',
      { kind: t.literal('io.l5d.mesh') },
      { ip: ipCodec, port: portCodec, tls: serverTlsCodec },
    ).validate(u, c)
    if (isLeft(r)) return r
    return t.success({
      kind: 'io.l5d.mesh' as const,
      ip: r.right.ip ?? '127.0.0.1',
      port: r.right.port ?? 4321,
      tls: r.right.tls,
    })
  },
  (a) => a,
)

const adminCodec = struct(
  'an admin object',
  {},
  { ip: ipCodec, port: portCodec, shutdownGraceMs: t.number, tls: serverTlsCodec },
)

/**
 * A namer entry's `transformers` (linkerd's namer-level transformers, e.g. a second k8s namer whose
 * answers go through `io.l5d.k8s.daemonset`): decoded with the router's transformer kinds and
 * applied to what the namer answers.
 */
function withTransformers(inner: t.Type<NamerSpec, unknown, unknown>): t.Type<NamerSpec, unknown, unknown> {
  return new t.Type<NamerSpec, unknown, unknown>(
    inner.name,
    inner.is,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u) || !('transformers' in u))
        return inner.validate(u, c)
      const { transformers, ...rest } = u as Record<string, unknown>
      const n = inner.validate(rest, c)
      const tr = transformersCodec.validate(
        transformers,
        t.appendContext(c, 'transformers', transformersCodec, transformers),
      )
      if (isLeft(n) || isLeft(tr))
        return t.failures([...(isLeft(n) ? n.left : []), ...(isLeft(tr) ? tr.left : [])])
      const spec = n.right
      const list = tr.right
      return t.success<NamerSpec>({
        ...spec,
        make: (ctx) => {
          const namer = spec.make(ctx)
          const transformed = transformNamer(namer, list)
          return {
            ...transformed,
            ...(namer.close ? { close: () => namer.close?.() } : {}),
          }
        },
      })
    },
    (a) => a,
  )
}

/** Which plugin kinds a config may use. */
export interface NamerdKinds {
  readonly stores?: readonly StoreKind[] | undefined
  readonly namers?: readonly NamerKind[] | undefined
}

/**
 * The codec of linkerd's namerd YAML: `admin`, `storage` (required), `namers`, `interfaces`
 * (required, non-empty; `io.l5d.httpController` and `io.l5d.mesh` are served), plus `telemetry` (accepted and
 * ignored: metrics are always served on the admin port). Unknown fields are errors; namer prefixes
 * must be distinct and not nested (linkerd's messages).
 *
 * @example
 * ```ts
 * decodeConfig(namerdConfigCodec(), YAML.parse(text)) // Either<ConfigError, NamerdSpec>
 * ```
 */
export function namerdConfigCodec(kinds: NamerdKinds = {}): t.Type<NamerdSpec, unknown, unknown> {
  const storage = byKind('a storage object', kinds.stores ?? defaultStoreKinds)
  const namer = withTransformers(byKind('a namer object', kinds.namers ?? defaultNamerKinds))
  const iface = byKind<InterfaceSpec>('an interface object', [
    { kind: 'io.l5d.httpController', codec: httpControllerCodec },
    { kind: 'io.l5d.mesh', codec: meshInterfaceCodec },
  ])
  const interfaces = new t.Type<
    { served: readonly InterfaceSpec[]; warnings: readonly string[] },
    unknown,
    unknown
  >(
    'interfaces',
    (u): u is { served: readonly InterfaceSpec[]; warnings: readonly string[] } =>
      typeof u === 'object' && u !== null,
    (u, c) => {
      if (u === undefined) return t.failure(u, c, "'interfaces' field is required")
      if (!Array.isArray(u)) return t.failure(u, c, `expected a list of interfaces, found ${showFound(u)}`)
      if (u.length === 0) return t.failure(u, c, 'One or more interfaces must be specified')
      const warnings: string[] = []
      const served: InterfaceSpec[] = []
      const errors: t.Errors = []
      u.forEach((x, i) => {
        const k = typeof x === 'object' && x !== null ? (x as Record<string, unknown>)['kind'] : undefined
        if (typeof k === 'string' && IGNORED_INTERFACE_KINDS.includes(k)) {
          warnings.push(`interfaces[${i}]: ${k} is not served by this namerd; ignored`)
          return
        }
        const r = iface.validate(x, t.appendContext(c, String(i), iface, x))
        if (isLeft(r)) errors.push(...r.left)
        else served.push(r.right)
      })
      if (errors.length > 0) return t.failures(errors)
      if (served.length === 0)
        return t.failure(
          u,
          c,
          'no interface left to serve: add an io.l5d.httpController or io.l5d.mesh interface',
        )
      return t.success({ served, warnings })
    },
    (a) => a,
  )
  const namers = new t.Type<readonly NamerSpec[], unknown, unknown>(
    'namers',
    Array.isArray,
    (u, c) => {
      const r = t.array(namer).validate(u, c)
      if (isLeft(r)) return r
      const shown = r.right.map((n) => n.prefix.show())
      for (let i = 0; i < shown.length; i++)
        for (let j = i + 1; j < shown.length; j++) {
          const a = r.right[i]!.prefix
          const b = r.right[j]!.prefix
          if (a.startsWith(b) || b.startsWith(a))
            return t.failure(u, c, `Namers must not have overlapping prefixes: ${shown[i]} & ${shown[j]}`)
        }
      return r
    },
    (a) => a,
  )
  const top = struct(
    'a namerd configuration object',
    { storage: storage, interfaces },
    { admin: adminCodec, namers, telemetry: t.unknown },
  )
  return new t.Type<NamerdSpec, unknown, unknown>(
    'a namerd configuration',
    (u): u is NamerdSpec => typeof u === 'object' && u !== null,
    (u, c) => {
      const r = top.validate(u, c)
      if (isLeft(r)) return r
      const admin = r.right.admin ?? {}
      return t.success({
        admin: {
          ip: admin.ip ?? '127.0.0.1',
          port: admin.port ?? 9991,
          shutdownGraceMs: admin.shutdownGraceMs ?? 10000,
          tls: admin.tls,
        },
        storage: r.right.storage,
        namers: r.right.namers ?? [],
        interfaces: r.right.interfaces.served,
        warnings: [...(r.right.storage.warnings ?? []), ...r.right.interfaces.warnings],
      })
    },
    (a) => a,
  )
}
