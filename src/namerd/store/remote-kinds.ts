// The `io.l5d.etcd` and `io.l5d.zk` storage kinds of namerd's configuration. The store modules (and
// their clients, gRPC and ZooKeeper) are loaded only when a configuration uses them.
import { readFile } from 'node:fs/promises'
import { left, right } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { nonEmptyString, parsed, portCodec, showFound, struct } from '../../config/decode.js'
import { type StoreKind, storeKind } from '../plugin.js'

/** A key prefix or znode path: absolute, no empty segment, no trailing `/`. */
const pathPrefixCodec = parsed<string>('a path prefix', (u) => {
  if (typeof u !== 'string' || !u.startsWith('/'))
    return left(`expected an absolute path such as "/namerd/dtabs", found ${showFound(u)}`)
  if (u !== '/' && (u.endsWith('/') || u.includes('//')))
    return left(`expected a path without empty segments or a trailing "/", found ${showFound(u)}`)
  return right(u)
})

const positiveMs = parsed<number>('a duration in milliseconds', (u) =>
  typeof u === 'number' && Number.isInteger(u) && u > 0
    ? right(u)
    : left(`expected a positive whole number of milliseconds, found ${showFound(u)}`),
)

const urlCodec = parsed<string>('an etcd URL', (u) => {
  if (typeof u !== 'string')
    return left(`expected a URL such as "http://10.0.0.1:2379", found ${showFound(u)}`)
  let url: URL
  try {
    url = new URL(u)
  } catch {
    return left(`expected a URL such as "http://10.0.0.1:2379", found ${showFound(u)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return left(`expected an http:// or https:// URL, found ${showFound(u)}`)
  return right(u)
})

const nonEmptyList = <A>(name: string, item: t.Type<A, unknown, unknown>) =>
  new t.Type<readonly A[], unknown, unknown>(
    name,
    (u): u is readonly A[] => Array.isArray(u),
    (u, c) => {
      if (!Array.isArray(u) || u.length === 0)
        return t.failure(u, c, `expected ${name}, found ${showFound(u)}`)
      return t.array(item).validate(u, c)
    },
    (a) => a,
  )

const tlsCodec = struct(
  'a tls object',
  {},
  {
    enabled: t.boolean,
    disableValidation: parsed<boolean>('false', (u) =>
      u === false
        ? right(false)
        : left(
            `disableValidation is not supported by the etcd store: give the server's CA in trustCerts (or trustCertsBundle), found ${showFound(u)}`,
          ),
    ),
    commonName: nonEmptyString,
    trustCerts: t.array(nonEmptyString),
    trustCertsBundle: nonEmptyString,
    clientAuth: struct('a clientAuth object', { certPath: nonEmptyString, keyPath: nonEmptyString }, {}),
  },
)

async function readPem(what: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new Error(`io.l5d.etcd tls: cannot read ${what} ${path}: ${(error as Error).message}`)
  }
}

/**
 * `io.l5d.etcd` (linkerd requires `experimental: true`): `host` (localhost), `port` (2379),
 * `pathPrefix` (/namerd/dtabs), `tls` (linkerd's client TLS: `trustCerts`, `trustCertsBundle`,
 * `commonName`, `clientAuth`); beyond linkerd: `endpoints` (several etcd members, replacing
 * host/port), `auth` (`username`, `password`), `requestTimeoutMs` (5000).
 *
 * @example
 * ```yaml
 * storage:
 *   kind: io.l5d.etcd
 *   experimental: true
 *   endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379, http://10.0.0.3:2379]
 * ```
 */
export const etcdStoreKind: StoreKind = storeKind(
  'io.l5d.etcd',
  {},
  {
    host: nonEmptyString,
    port: portCodec,
    endpoints: nonEmptyList('a non-empty list of etcd URLs', urlCodec),
    pathPrefix: pathPrefixCodec,
    tls: tlsCodec,
    auth: struct('an auth object', { username: nonEmptyString, password: t.string }, {}),
    requestTimeoutMs: positiveMs,
  },
  (c) => async (ctx) => {
    const tls = c.tls !== undefined && c.tls.enabled !== false ? c.tls : undefined
    const scheme = tls ? 'https' : 'http'
    const endpoints = c.endpoints ?? [`${scheme}://${c.host ?? 'localhost'}:${c.port ?? 2379}`]
    const trust = [
      ...(tls?.trustCertsBundle ? [await readPem('trustCertsBundle', tls.trustCertsBundle)] : []),
      ...(await Promise.all((tls?.trustCerts ?? []).map((p) => readPem('trustCerts', p)))),
    ]
    const { etcdDtabStore } = await import('./etcd.js')
    return etcdDtabStore({
      endpoints,
      pathPrefix: c.pathPrefix,
      requestTimeoutMs: c.requestTimeoutMs,
      auth: c.auth,
      scheduler: ctx.scheduler,
      stats: ctx.stats,
      tls: tls && {
        rootCertificate: trust.length > 0 ? Buffer.concat(trust) : undefined,
        certChain: tls.clientAuth && (await readPem('clientAuth.certPath', tls.clientAuth.certPath)),
        privateKey: tls.clientAuth && (await readPem('clientAuth.keyPath', tls.clientAuth.keyPath)),
        serverName: tls.commonName,
      },
      onProblem: ctx.log,
    })
  },
  { experimental: true },
)

const permsCodec = parsed<string>('ZooKeeper permissions', (u) => {
  if (typeof u !== 'string' || u.length === 0 || !/^[crwda]+$/.test(u) || new Set(u).size !== u.length)
    return left(
      `expected letters of "crwda" (create, read, write, delete, admin), each at most once, found ${showFound(u)}`,
    )
  return right(u)
})

/**
 * `io.l5d.zk`: `zkAddrs` (required: `{host, port}` list, port default 2181), `pathPrefix` (/dtabs),
 * `sessionTimeoutMs` (10000), `authInfo` (`scheme`, `auth`), `acls` (`scheme`, `id`, `perms`;
 * default `world:anyone:crwda`); beyond linkerd: `requestTimeoutMs` (5000).
 *
 * @example
 * ```yaml
 * storage:
 *   kind: io.l5d.zk
 *   zkAddrs: [{ host: 10.0.0.1, port: 2181 }, { host: 10.0.0.2 }]
 * ```
 */
export const zkStoreKind: StoreKind = storeKind(
  'io.l5d.zk',
  {
    zkAddrs: nonEmptyList(
      'a non-empty list of ZooKeeper addresses',
      struct('a ZooKeeper address', { host: nonEmptyString }, { port: portCodec }),
    ),
  },
  {
    pathPrefix: pathPrefixCodec,
    sessionTimeoutMs: positiveMs,
    authInfo: struct('an authInfo object', { scheme: nonEmptyString, auth: t.string }, {}),
    acls: t.array(struct('an ACL', { scheme: nonEmptyString, id: t.string, perms: permsCodec }, {})),
    requestTimeoutMs: positiveMs,
  },
  (c) => async (ctx) => {
    const { zkDtabStore } = await import('./zk.js')
    return zkDtabStore({
      zkAddrs: c.zkAddrs.map((a) => ({ host: a.host, port: a.port ?? 2181 })),
      pathPrefix: c.pathPrefix,
      sessionTimeoutMs: c.sessionTimeoutMs,
      authInfo: c.authInfo,
      acls: c.acls,
      requestTimeoutMs: c.requestTimeoutMs,
      scheduler: ctx.scheduler,
      stats: ctx.stats,
      onProblem: ctx.log,
    })
  },
)
