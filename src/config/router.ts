import { type Either, isLeft, left, right } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { aperture } from '../balancer/aperture.js'
import { heap } from '../balancer/heap.js'
import { p2c, p2cPeakEwma } from '../balancer/p2c.js'
import { roundRobin } from '../balancer/roundRobin.js'
import { type Scheduler, systemScheduler } from '../core/clock.js'
import { type Random, systemRandom } from '../core/random.js'
import {
  allSuccessful,
  type HttpClassifier,
  nonRetryable5xx,
  retryableAll5xx,
  retryableIdempotent5xx,
  retryableRead5xx,
} from '../http/classifiers.js'
import { type Client, type ClientOptions, createClient } from '../http/client.js'
import type { ConnectionPoolOptions } from '../http/endpoint.js'
import {
  header,
  headerToken,
  type Identifier,
  methodAndHost,
  path,
  staticIdentifier,
} from '../http/identifiers.js'
import { ingressIdentifier } from '../http/ingress.js'
import type { ClientParams, ClientTlsParams, PerName, RetriesParams, ServiceParams } from '../http/params.js'
import { consecutiveFailures, successRate, successRateWindowed } from '../liveness/policy.js'
import { namerdInterpreter } from '../namerd/client/interpreter.js'
import { meshInterpreter } from '../namerd/client/mesh.js'
import { defaultNamerKinds, type NamerKind } from '../namerd/config.js'
import type { PluginContext } from '../namerd/plugin.js'
import { k8sNamer } from '../namers/k8s.js'
import { Dtab } from '../naming/dtab.js'
import type { NameInterpreter } from '../naming/interpreter.js'
import type { NameBound } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import type { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { PathMatcher } from '../naming/path-matcher.js'
import { Backoff } from '../retry/backoff.js'
import type { RetryBudgetOptions } from '../retry/budget.js'
import { type InMemoryStats, inMemoryStats } from '../stats/stats.js'
import { daemonsetTransformer, localnodeTransformer } from '../transformers/k8s.js'
import { localhostTransformer, specificHostTransformer } from '../transformers/local.js'
import { portTransformer } from '../transformers/port.js'
import { constTransformer, replaceTransformer } from '../transformers/replace.js'
import type { Transformer } from '../transformers/transformer.js'
import {
  byKind,
  ConfigError,
  type ConfigKind,
  decodeConfig,
  nonEmptyString,
  parseConfigText,
  parsed,
  showFound,
  struct,
} from './decode.js'

type Props = Record<string, t.Mixed>
type Fields<R extends Props, O extends Props> = { [K in keyof R]: t.TypeOf<R[K]> } & {
  [K in keyof O]?: t.TypeOf<O[K]>
}

const PROBLEM: unique symbol = Symbol('problem')
/** What a kind's `build` answers for a combination of fields it refuses. */
interface Problem {
  readonly [PROBLEM]: string
}
const problem = (message: string): Problem => ({ [PROBLEM]: message })

/**
 * A plugin kind of the router config: `kind` plus its own fields (`experimental` is always
 * accepted), built into a value once decoded. `build` may refuse a combination by throwing; the
 * message becomes the problem reported at that field.
 *
 * @example
 * ```ts
 * const canary = configKind('io.buoyant.canary', { header: t.string }, {}, (c) => (prefix) => myIdentifier(c.header, prefix))
 * ```
 */
export function configKind<A, R extends Props, O extends Props>(
  name: string,
  required: R,
  optional: O,
  build: (fields: Fields<R, O>) => A,
): ConfigKind<A> {
  return kind(name, required, optional, build) as ConfigKind<A>
}

function kind<A, R extends Props, O extends Props>(
  name: string,
  required: R,
  optional: O,
  build: (fields: Fields<R, O>) => A,
): ConfigKind<Exclude<A, Problem>> {
  const fields = struct(
    `a ${name} object`,
    { kind: t.literal(name), ...required },
    { experimental: t.boolean, ...optional },
  )
  return {
    kind: name,
    codec: new t.Type<Exclude<A, Problem>, unknown, unknown>(
      name,
      (u): u is Exclude<A, Problem> => u !== undefined,
      (u, c) => {
        const r = fields.validate(u, c)
        if (isLeft(r)) return r
        let out: A | Problem
        try {
          out = build(r.right as Fields<R, O>)
        } catch (error) {
          out = problem(error instanceof Error ? error.message : String(error))
        }
        if (typeof out === 'object' && out !== null && PROBLEM in out)
          return t.failure(u, c, (out as Problem)[PROBLEM])
        return t.success(out as Exclude<A, Problem>)
      },
      (a) => a,
    ),
  }
}

function numberCodec(name: string, ok: (n: number) => boolean, expected: string) {
  return parsed<number>(name, (u) =>
    typeof u === 'number' && Number.isFinite(u) && ok(u)
      ? right(u)
      : left(`expected ${expected}, found ${showFound(u)}`),
  )
}
const nonNegative = numberCodec('a number >= 0', (n) => n >= 0, 'a number >= 0')
const positiveInt = numberCodec('an integer >= 1', (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1')
const nonNegativeInt = numberCodec('an integer >= 0', (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0')
const fraction = numberCodec('a number from 0 to 1', (n) => n >= 0 && n <= 1, 'a number from 0 to 1')

/** A path, read with naming's parser (its message names the position). */
export const pathCodec = parsed<Path>('a path', (u) => {
  if (typeof u !== 'string') return left(`expected a path such as "/svc", found ${showFound(u)}`)
  const p = Path.parse(u)
  return isLeft(p) ? left(p.left.message) : right(p.right)
})

/** A dtab, read with naming's parser. */
export const dtabCodec = parsed<Dtab>('a dtab', (u) => {
  if (typeof u !== 'string')
    return left(`expected dtab text such as "/svc => /#/io.l5d.fs", found ${showFound(u)}`)
  const d = Dtab.parse(u)
  return isLeft(d) ? left(d.left.message) : right(d.right)
})

/** A path prefix pattern (`/`, `*`, `{var}`), as `PathMatcher` reads it. */
const patternCodec = parsed<string>('a path pattern', (u) => {
  if (typeof u !== 'string') return left(`expected a path pattern such as "/svc/*", found ${showFound(u)}`)
  try {
    PathMatcher.read(u)
    return right(u)
  } catch (error) {
    return left((error as Error).message)
  }
})

// --- transformers ------------------------------------------------------------------------------

const transformerKinds: ConfigKind<Transformer>[] = [
  kind('io.l5d.port', { port: positiveInt }, { prefix: pathCodec }, (c) =>
    portTransformer({ port: c.port, prefix: c.prefix }),
  ),
  kind('io.l5d.localhost', {}, { prefix: pathCodec }, (c) => localhostTransformer({ prefix: c.prefix })),
  kind('io.l5d.specificHost', { host: nonEmptyString }, { prefix: pathCodec }, (c) =>
    specificHostTransformer({ host: c.host, prefix: c.prefix }),
  ),
  kind('io.l5d.replace', { path: pathCodec }, { prefix: pathCodec }, (c) =>
    replaceTransformer({ path: c.path, prefix: c.prefix }),
  ),
  kind('io.l5d.const', { path: pathCodec }, { prefix: pathCodec }, (c) =>
    constTransformer({ path: c.path, prefix: c.prefix }),
  ),
  kind(
    'io.l5d.k8s.daemonset',
    { namespace: nonEmptyString, service: nonEmptyString, port: nonEmptyString },
    { k8sHost: nonEmptyString, k8sPort: positiveInt, hostNetwork: t.boolean, prefix: pathCodec },
    (c) => {
      // The daemonset pods, as the io.l5d.k8s namer sees them (no connection until first used).
      const namer = k8sNamer({ host: c.k8sHost ?? 'localhost', port: c.k8sPort ?? 8001 })
      const daemonset = namer
        .lookup(Path.of(c.namespace, c.port, c.service))
        .map((tree) => tree as NameTree<NameBound>)
      return daemonsetTransformer({
        namespace: c.namespace,
        service: c.service,
        port: c.port,
        hostNetwork: c.hostNetwork,
        prefix: c.prefix,
        daemonset,
      })
    },
  ),
  kind('io.l5d.k8s.localnode', {}, { hostNetwork: t.boolean, prefix: pathCodec }, (c) =>
    localnodeTransformer({ hostNetwork: c.hostNetwork, prefix: c.prefix }),
  ),
]

/** A transformer kind: `kind` plus its fields, decoded into a `Transformer`. */
export type TransformerKind = ConfigKind<Transformer>

/** The transformer kinds known out of the box (port, localhost, specificHost, replace, const). */
export const defaultTransformerKinds: readonly TransformerKind[] = transformerKinds

/** `transformers:` with extra kinds (a plugin's) besides the built-in ones. */
export function transformersCodecOf(extra: readonly TransformerKind[] = []) {
  return t.array(byKind('a transformer object', [...transformerKinds, ...extra]))
}

/** `transformers:` — a list of transformer objects by `kind`. */
export const transformersCodec = transformersCodecOf()

// --- identifiers ---------------------------------------------------------------------------------

/** An identifier still waiting for the router's `dstPrefix`. */
export type IdentifierOf = (prefix: Path) => Identifier

/** An identifier kind: `kind` plus its fields, decoded into an identifier for a `dstPrefix`. */
export type IdentifierKind = ConfigKind<IdentifierOf>

const identifierKinds: ConfigKind<IdentifierOf>[] = [
  kind(
    'io.l5d.header.token',
    {},
    { header: nonEmptyString },
    (c) => (prefix) => headerToken({ header: c.header, prefix }),
  ),
  kind(
    'io.l5d.header',
    {},
    { header: nonEmptyString },
    (c) => (prefix) => header({ header: c.header, prefix }),
  ),
  kind(
    'io.l5d.methodAndHost',
    {},
    { httpUriInDst: t.boolean },
    (c) => (prefix) => methodAndHost({ httpUriInDst: c.httpUriInDst, prefix }),
  ),
  kind(
    'io.l5d.path',
    {},
    { segments: positiveInt, consume: t.boolean },
    (c) => (prefix) => path({ segments: c.segments, consume: c.consume, prefix }),
  ),
  kind(
    'io.l5d.static',
    { path: pathCodec },
    {},
    (c) => (prefix) => staticIdentifier({ path: c.path, prefix }),
  ),
  kind(
    'io.l5d.ingress',
    {},
    {
      namespace: nonEmptyString,
      host: nonEmptyString,
      port: positiveInt,
      ingressClassAnnotation: nonEmptyString,
      ignoreDefaultBackends: t.boolean,
      apiVersion: t.union([t.literal('networking.k8s.io/v1'), t.literal('extensions/v1beta1')]),
    },
    (c) => (prefix) =>
      ingressIdentifier({
        prefix,
        namespace: c.namespace,
        host: c.host,
        port: c.port,
        ingressClassAnnotation: c.ingressClassAnnotation,
        ignoreDefaultBackends: c.ignoreDefaultBackends,
        apiVersion: c.apiVersion,
      }),
  ),
]
const identifiersCodec = (extra: readonly IdentifierKind[]) => {
  const identifierCodec = byKind('an identifier object', [...identifierKinds, ...extra])
  return new t.Type<IdentifierOf[], unknown, unknown>(
    'identifiers',
    (u): u is IdentifierOf[] => Array.isArray(u),
    (u, c) =>
      Array.isArray(u) ? t.array(identifierCodec).validate(u, c) : t.array(identifierCodec).validate([u], c),
    (a) => a,
  )
}

// --- classifiers, balancers, failure accrual, backoff ---------------------------------------------

/** A response classifier kind. */
export type ClassifierKind = ConfigKind<HttpClassifier>

const classifierKinds: ConfigKind<HttpClassifier>[] = (
  [
    ['io.l5d.http.nonRetryable5XX', nonRetryable5xx],
    ['io.l5d.http.retryableRead5XX', retryableRead5xx],
    ['io.l5d.http.retryableIdempotent5XX', retryableIdempotent5xx],
    ['io.l5d.http.retryableAll5XX', retryableAll5xx],
    ['io.l5d.http.allSuccessful', allSuccessful],
  ] as const
).map(([name, classifier]) => kind(name, {}, {}, () => classifier))

const backoffKinds: ConfigKind<Backoff>[] = [
  kind('constant', {}, { ms: nonNegative }, (c) => Backoff.constant(c.ms ?? 0)),
  kind('jittered', { minMs: nonNegative, maxMs: nonNegative }, {}, (c) =>
    c.minMs > c.maxMs
      ? problem(`minMs (${c.minMs}) must not be greater than maxMs (${c.maxMs})`)
      : Backoff.decorrelatedJitter(c.minMs, c.maxMs),
  ),
]
const backoffCodec = byKind('a backoff object', backoffKinds)

// linkerd's load balancer options; `enableProbation` is accepted and has no effect (Finagle dropped it).
const lbCommon = { maxEffort: positiveInt, enableProbation: t.boolean }
const balancerKinds: ConfigKind<NonNullable<ClientParams['loadBalancer']>>[] = [
  kind('p2c', {}, lbCommon, (c) => p2c({ maxEffort: c.maxEffort ?? 5 })),
  kind('ewma', {}, { ...lbCommon, decayTimeMs: nonNegative }, (c) =>
    p2cPeakEwma({ maxEffort: c.maxEffort ?? 5, decayTimeMs: c.decayTimeMs }),
  ),
  kind(
    'aperture',
    {},
    {
      ...lbCommon,
      smoothWindowMs: nonNegative,
      lowLoad: nonNegative,
      highLoad: nonNegative,
      minAperture: positiveInt,
    },
    (c) =>
      aperture({
        maxEffort: c.maxEffort ?? 5,
        smoothWinMs: c.smoothWindowMs ?? 5000,
        lowLoad: c.lowLoad ?? 0.5,
        highLoad: c.highLoad ?? 2.0,
        minAperture: c.minAperture ?? 1,
      }),
  ),
  kind('heap', {}, { enableProbation: t.boolean }, () => heap()),
  kind('roundRobin', {}, lbCommon, (c) => roundRobin({ maxEffort: c.maxEffort ?? 5 })),
]

const accrualKinds: ConfigKind<ClientParams['failureAccrual']>[] = [
  kind('io.l5d.consecutiveFailures', { failures: positiveInt }, { backoff: backoffCodec }, (c) =>
    consecutiveFailures(c.failures, c.backoff),
  ),
  kind(
    'io.l5d.successRate',
    { successRate: fraction, requests: positiveInt },
    { backoff: backoffCodec },
    (c) => successRate(c.successRate, c.requests, c.backoff),
  ),
  kind(
    'io.l5d.successRateWindowed',
    { successRate: fraction, window: positiveInt },
    { backoff: backoffCodec },
    (c) => successRateWindowed(c.successRate, c.window * 1000, c.backoff),
  ),
  kind('none', {}, {}, () => null),
]

const budgetCodec = new t.Type<RetryBudgetOptions, unknown, unknown>(
  'a retry budget object',
  (u): u is RetryBudgetOptions => typeof u === 'object' && u !== null,
  (u, c) => {
    const r = struct(
      'a retry budget object',
      {},
      {
        ttlSecs: numberCodec('ttlSecs', (n) => n >= 1 && n <= 60, 'a number of seconds from 1 to 60'),
        minRetriesPerSec: nonNegative,
        percentCanRetry: numberCodec(
          'percentCanRetry',
          (n) => n >= 0 && n <= 1000,
          'a number from 0 to 1000',
        ),
      },
    ).validate(u, c)
    if (isLeft(r)) return r
    const b = r.right
    return t.success({
      ...(b.ttlSecs === undefined ? {} : { ttlMs: b.ttlSecs * 1000 }),
      ...(b.minRetriesPerSec === undefined ? {} : { minRetriesPerSec: b.minRetriesPerSec }),
      ...(b.percentCanRetry === undefined ? {} : { percentCanRetry: b.percentCanRetry }),
    })
  },
  (a) => a,
)

const poolCodec = new t.Type<ConnectionPoolOptions, unknown, unknown>(
  'a hostConnectionPool object',
  (u): u is ConnectionPoolOptions => typeof u === 'object' && u !== null,
  (u, c) => {
    const r = struct(
      'a hostConnectionPool object',
      {},
      { minSize: nonNegativeInt, maxSize: positiveInt, idleTimeMs: nonNegative, maxWaiters: nonNegativeInt },
    ).validate(u, c)
    if (isLeft(r)) return r
    const p = r.right
    if (p.minSize !== undefined && p.minSize > 0)
      return t.failure(
        p.minSize,
        t.appendContext(c, 'minSize', t.number, p.minSize),
        'minSize > 0 is not supported (connections are opened on demand)',
      )
    return t.success({ maxSize: p.maxSize, idleTimeMs: p.idleTimeMs, maxWaiters: p.maxWaiters })
  },
  (a) => a,
)

const clientTlsCodec = new t.Type<ClientTlsParams, unknown, unknown>(
  'a client tls object',
  (u): u is ClientTlsParams => typeof u === 'object' && u !== null,
  (u, c) => {
    const r = struct(
      'a client tls object',
      {},
      {
        enabled: t.boolean,
        commonName: nonEmptyString,
        disableValidation: t.boolean,
        trustCerts: t.array(nonEmptyString),
        trustCertsBundle: nonEmptyString,
        clientAuth: struct(
          'a clientAuth object',
          { certPath: nonEmptyString, keyPath: nonEmptyString },
          { intermediateCertsPath: nonEmptyString },
        ),
        protocols: t.array(nonEmptyString),
      },
    ).validate(u, c)
    if (isLeft(r)) return r
    const x = r.right
    if (x.trustCerts !== undefined && x.trustCertsBundle !== undefined)
      return t.failure(
        u,
        c,
        'Both trustCerts and trustCertsBundle have been set. Please use only trustCertsBundle.',
      )
    if (x.enabled !== false && !x.disableValidation && x.commonName === undefined)
      return t.failure(u, c, 'tls is configured with validation but `commonName` is not set')
    if (x.disableValidation && x.clientAuth !== undefined)
      return t.failure(u, c, 'disableValidation cannot be combined with clientAuth')
    return t.success(
      withoutUndefined({
        enabled: x.enabled,
        commonName: x.commonName,
        disableValidation: x.disableValidation,
        trustCerts: x.trustCerts,
        trustCertsBundle: x.trustCertsBundle,
        clientAuth: x.clientAuth
          ? { certPath: x.clientAuth.certPath, keyPath: x.clientAuth.keyPath }
          : undefined,
      }),
    )
  },
  (a) => a,
)

const clientFields = {
  tls: clientTlsCodec,
  loadBalancer: byKind('a loadBalancer object', balancerKinds),
  failureAccrual: byKind('a failureAccrual object', accrualKinds),
  failFast: t.boolean,
  requeueBudget: budgetCodec,
  requestAttemptTimeoutMs: nonNegative,
  hostConnectionPool: poolCodec,
}

const serviceFields = (extra: readonly ClassifierKind[]) => ({
  totalTimeoutMs: nonNegative,
  retries: new t.Type<RetriesParams, unknown, unknown>(
    'a retries object',
    (u): u is RetriesParams => typeof u === 'object' && u !== null,
    (u, c) => {
      const r = struct('a retries object', {}, { budget: budgetCodec, backoff: backoffCodec }).validate(u, c)
      return isLeft(r) ? r : t.success({ budget: r.right.budget, backoff: r.right.backoff })
    },
    (a) => a,
  ),
  responseClassifier: byKind('a responseClassifier object', [...classifierKinds, ...extra]),
})

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

/**
 * linkerd's `client:` / `service:` block: `kind: io.l5d.global` (the default) with the settings on
 * the object, or `kind: io.l5d.static` with `configs: [{ prefix, ...settings }]`.
 */
function perNameCodec<P extends object>(what: string, fields: Props): t.Type<PerName<P>, unknown, unknown> {
  const global = struct(`a ${what} object`, {}, { kind: t.literal('io.l5d.global'), ...fields })
  const entry = struct(`a ${what} config`, { prefix: patternCodec }, fields)
  const staticBlock = struct(
    `an io.l5d.static ${what} object`,
    { kind: t.literal('io.l5d.static'), configs: t.array(entry) },
    {},
  )
  return new t.Type<PerName<P>, unknown, unknown>(
    what,
    (u): u is PerName<P> => typeof u === 'object' && u !== null,
    (u, c) => {
      const k = typeof u === 'object' && u !== null ? (u as Record<string, unknown>)['kind'] : undefined
      if (k === 'io.l5d.static') {
        const r = staticBlock.validate(u, c)
        if (isLeft(r)) return r
        return t.success({
          configs: (r.right.configs as Record<string, unknown>[]).map((x) => withoutUndefined(x)),
        } as unknown as PerName<P>)
      }
      if (k !== undefined && k !== 'io.l5d.global')
        return t.failure(
          k,
          t.appendContext(c, 'kind', t.string, k),
          `unknown kind ${JSON.stringify(k)} (known kinds: io.l5d.global, io.l5d.static)`,
        )
      const r = global.validate(u, c)
      if (isLeft(r)) return r
      const { kind: _kind, ...params } = r.right as Record<string, unknown>
      return t.success(withoutUndefined(params) as PerName<P>)
    },
    (a) => a,
  )
}

// --- namers and interpreters -------------------------------------------------------------------

/** A decoded `namers:` entry: its mount point, how to start it, and its transformers. */
export interface RouterNamerSpec {
  readonly kind: string
  readonly prefix: Path
  readonly transformers: readonly Transformer[]
  make(context: PluginContext): Namer & { close?(): void | Promise<void> }
}

function namerCodec(
  kinds: readonly NamerKind[],
  transformers: readonly TransformerKind[] = [],
): t.Type<RouterNamerSpec, unknown, unknown> {
  const transformersCodec = transformersCodecOf(transformers)
  const inner = byKind('a namer object', kinds)
  return new t.Type<RouterNamerSpec, unknown, unknown>(
    'a namer object',
    (u): u is RouterNamerSpec => typeof u === 'object' && u !== null,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u))
        return inner.validate(u, c) as t.Validation<never>
      // `transformers` belongs to every namer in a router config; the namer kind sees the rest.
      const { transformers, ...rest } = u as Record<string, unknown>
      const n = inner.validate(rest, c)
      const tr =
        transformers === undefined
          ? t.success<Transformer[]>([])
          : transformersCodec.validate(
              transformers,
              t.appendContext(c, 'transformers', transformersCodec, transformers),
            )
      if (isLeft(n) || isLeft(tr))
        return t.failures([...(isLeft(n) ? n.left : []), ...(isLeft(tr) ? tr.left : [])])
      return t.success({ ...n.right, transformers: tr.right })
    },
    (a) => a,
  )
}

/** A decoded `interpreter:` block. */
export interface InterpreterSpec {
  readonly kind: string
  readonly transformers: readonly Transformer[]
  /** Starts it; `undefined` for the default interpreter (dtab + namers). */
  make?(context: PluginContext): NameInterpreter & { close?(): Promise<void> }
}

/** `dst: /$/inet/<host>/<port>` → `http://<host>:<port>`. */
function namerdUrl(dst: Path): string | Problem {
  const s = dst.segments
  if (s.length === 4 && s[0] === '$' && s[1] === 'inet' && /^\d+$/.test(s[3]!)) {
    const host = s[2]!.includes(':') ? `[${s[2]}]` : s[2]
    return `http://${host}:${s[3]}`
  }
  return problem(`dst must be /$/inet/<host>/<port>, found ${dst.show()}`)
}

/**
 * `dst: /$/inet/<host>/<port>` → the gRPC target `<host>:<port>`. A numeric host in the JVM's short
 * forms (`127.1`) is spelled out, as Java's `InetAddress` reads it.
 */
function meshTarget(dst: Path): string | Problem {
  const s = dst.segments
  if (!(s.length === 4 && s[0] === '$' && s[1] === 'inet' && /^\d+$/.test(s[3]!)))
    return problem(`dst must be /$/inet/<host>/<port>, found ${dst.show()}`)
  let host = s[2]!
  const parts = host.split('.')
  if (/^\d+(\.\d+){1,2}$/.test(host) && parts.every((p) => Number(p) <= 255)) {
    // inet_aton: the last part fills the remaining bytes (127.1 = 127.0.0.1).
    const head = parts.slice(0, -1).map(Number)
    const last = Number(parts[parts.length - 1])
    const rest: number[] = []
    for (let i = 4 - head.length - 1; i >= 0; i--) rest.push((last >> (8 * i)) & 255)
    host = [...head, ...rest].join('.')
  }
  return host.includes(':') ? `[${host}]:${s[3]}` : `${host}:${s[3]}`
}

const meshTlsCodec = struct(
  'a client tls object',
  {},
  {
    disableValidation: t.boolean,
    commonName: nonEmptyString,
    trustCerts: t.array(nonEmptyString),
    trustCertsBundle: nonEmptyString,
    clientAuth: struct('a clientAuth object', { certPath: nonEmptyString, keyPath: nonEmptyString }, {}),
  },
)

const meshInterpreterKind = kind(
  'io.l5d.mesh',
  { dst: pathCodec },
  {
    root: pathCodec,
    retry: struct('a retry object', {}, { baseSeconds: nonNegative, maxSeconds: nonNegative }),
    tls: meshTlsCodec,
    failureThreshold: struct(
      'a failureThreshold object',
      {},
      { minPeriodMs: nonNegative, closeTimeoutMs: nonNegative },
    ),
    initialStreamWindowSizeKB: nonNegative,
    transformers: transformersCodec,
  },
  (c) => {
    const target = meshTarget(c.dst)
    if (typeof target !== 'string') return target
    const root = c.root ?? Path.of('default')
    if (root.size !== 1)
      return problem(
        `root may only contain a single path element (the namerd namespace), found ${root.show()}`,
      )
    const base = (c.retry?.baseSeconds ?? 0.1) * 1000
    const max = (c.retry?.maxSeconds ?? 0.8) * 1000
    if (base > max) return problem('retry.baseSeconds must not be greater than retry.maxSeconds')
    const tls = c.tls
    const trustCerts = [...(tls?.trustCerts ?? []), ...(tls?.trustCertsBundle ? [tls.trustCertsBundle] : [])]
    const channelOptions: Record<string, number> = {}
    // linkerd's failure detector pings namerd every minPeriodMs and gives up after closeTimeoutMs.
    if (c.failureThreshold?.minPeriodMs !== undefined)
      channelOptions['grpc.keepalive_time_ms'] = Math.max(1000, c.failureThreshold.minPeriodMs)
    if (c.failureThreshold?.closeTimeoutMs !== undefined)
      channelOptions['grpc.keepalive_timeout_ms'] = Math.max(1000, c.failureThreshold.closeTimeoutMs)
    if (c.initialStreamWindowSizeKB !== undefined)
      channelOptions['grpc-node.flow_control_window'] = c.initialStreamWindowSizeKB * 1024
    const spec: InterpreterSpec = {
      kind: 'io.l5d.mesh',
      transformers: c.transformers ?? [],
      make: (ctx: PluginContext) =>
        meshInterpreter({
          target,
          root,
          backoff: Backoff.equalJitter(base, max),
          ...(tls
            ? {
                tls: {
                  trustCerts: trustCerts.length > 0 ? trustCerts : undefined,
                  commonName: tls.commonName,
                  disableValidation: tls.disableValidation,
                  clientAuth: tls.clientAuth,
                },
              }
            : {}),
          channelOptions,
          scheduler: ctx.scheduler,
          stats: ctx.stats,
          onError: (e) => ctx.log(e.message),
        }),
    }
    return spec
  },
)

/** An interpreter kind: `kind` plus its fields (a plugin's interpreter adds `transformers` itself). */
export type InterpreterKind = ConfigKind<InterpreterSpec>

const interpreterKinds = (transformersCodec: ReturnType<typeof transformersCodecOf>): InterpreterKind[] => [
  kind('default', {}, { transformers: transformersCodec }, (c) => ({
    kind: 'default',
    transformers: c.transformers ?? [],
  })),
  kind(
    'io.l5d.namerd.http',
    {},
    {
      dst: pathCodec,
      baseUrl: nonEmptyString,
      namespace: nonEmptyString,
      retry: struct('a retry object', {}, { baseSeconds: nonNegative, maxSeconds: nonNegative }),
      transformers: transformersCodec,
    },
    (c) => {
      if ((c.dst === undefined) === (c.baseUrl === undefined))
        return problem('exactly one of dst and baseUrl is required')
      const url = c.baseUrl ?? namerdUrl(c.dst!)
      if (typeof url !== 'string') return url
      const base = (c.retry?.baseSeconds ?? 0.1) * 1000
      const max = (c.retry?.maxSeconds ?? 0.8) * 1000
      if (base > max) return problem('retry.baseSeconds must not be greater than retry.maxSeconds')
      const spec: InterpreterSpec = {
        kind: 'io.l5d.namerd.http',
        transformers: c.transformers ?? [],
        make: (ctx: PluginContext) =>
          namerdInterpreter({
            baseUrl: url,
            namespace: c.namespace,
            backoff: Backoff.equalJitter(base, max),
            scheduler: ctx.scheduler,
            stats: ctx.stats,
            onError: (e) => ctx.log(e.message),
          }),
      }
      return spec
    },
  ),
  meshInterpreterKind,
]

// --- the router ----------------------------------------------------------------------------------

/**
 * A decoded router config: everything `createClient` takes, with the namers and the interpreter
 * still to be started (they hold files, watches and connections).
 */
export interface RouterSpec {
  readonly namers: readonly RouterNamerSpec[]
  readonly interpreter: InterpreterSpec
  readonly options: Omit<
    ClientOptions,
    'namers' | 'interpreter' | 'transformers' | 'stats' | 'scheduler' | 'random'
  >
}

/**
 * Which plugin kinds a router config may use: the namers replace the default list; identifiers,
 * transformers, classifiers and interpreters are added to the built-in ones.
 */
export interface RouterKinds {
  /** Default: namerd's (`io.l5d.fs`, `io.l5d.rewrite`). */
  readonly namers?: readonly NamerKind[] | undefined
  readonly identifiers?: readonly IdentifierKind[] | undefined
  readonly transformers?: readonly TransformerKind[] | undefined
  readonly classifiers?: readonly ClassifierKind[] | undefined
  readonly interpreters?: readonly InterpreterKind[] | undefined
}

/** The `namers:` list of a linkerd config, with the given kinds. */
export function namersCodecOf(kinds: RouterKinds = {}): t.Type<RouterNamerSpec[], unknown, unknown> {
  return t.array(namerCodec(kinds.namers ?? defaultNamerKinds, kinds.transformers))
}

const routerFields = (kinds: RouterKinds) => ({
  protocol: t.literal('http'),
  label: t.string,
  namers: namersCodecOf(kinds),
  dtab: dtabCodec,
  baseDtab: dtabCodec,
  interpreter: byKind('an interpreter object', [
    ...interpreterKinds(transformersCodecOf(kinds.transformers)),
    ...(kinds.interpreters ?? []),
  ]),
  identifier: identifiersCodec(kinds.identifiers ?? []),
  dstPrefix: pathCodec,
  bindingTimeoutMs: nonNegative,
  client: perNameCodec<ClientParams>('client', clientFields),
  service: perNameCodec<ServiceParams>('service', serviceFields(kinds.classifiers ?? [])),
})

/**
 * The codec of a linkerd-style router config: one router object (`namers`, `dtab`, `interpreter`,
 * `identifier`, `client`, `service`, `dstPrefix`, `bindingTimeoutMs`), or a whole linkerd config
 * with top-level `namers` and a `routers` list holding exactly one `protocol: http` router.
 * Unknown fields are errors, and every problem is reported with its field path.
 *
 * @example
 * ```ts
 * decodeConfig(routerConfigCodec(), YAML.parse(text)) // Either<ConfigError, RouterSpec>
 * ```
 */
export function routerConfigCodec(kinds: RouterKinds = {}): t.Type<RouterSpec, unknown, unknown> {
  const router = struct('a router config', {}, routerFields(kinds))
  const whole = struct(
    'a linkerd config',
    { routers: t.array(t.unknown) },
    { namers: t.unknown, admin: t.unknown },
  )
  return new t.Type<RouterSpec, unknown, unknown>(
    'a router config',
    (u): u is RouterSpec => typeof u === 'object' && u !== null,
    (u, c) => {
      let input = u
      let ctx = c
      if (typeof u === 'object' && u !== null && 'routers' in u) {
        const w = whole.validate(u, c)
        if (isLeft(w)) return w
        const routers = w.right.routers
        if (routers.length !== 1)
          return t.failure(
            routers,
            t.appendContext(c, 'routers', t.array(t.unknown), routers),
            `expected exactly one router, found ${routers.length}`,
          )
        const r0 = routers[0]
        if (typeof r0 !== 'object' || r0 === null)
          return t.failure(
            r0,
            t.appendContext(c, 'routers[0]', t.unknown, r0),
            `expected a router object, found ${showFound(r0)}`,
          )
        input = w.right.namers === undefined ? r0 : { ...r0, namers: w.right.namers }
        ctx = t.appendContext(c, 'routers', t.unknown, routers)
        ctx = t.appendContext(ctx, '0', t.unknown, r0)
      }
      const r = router.validate(input, ctx)
      if (isLeft(r)) return r
      const f = r.right
      if (f.dtab !== undefined && f.baseDtab !== undefined)
        return t.failure(
          f.baseDtab,
          t.appendContext(ctx, 'baseDtab', t.string, f.baseDtab),
          'give dtab or baseDtab, not both',
        )
      const interpreter = f.interpreter ?? { kind: 'default', transformers: [] }
      if (interpreter.make !== undefined && (f.namers?.length ?? 0) > 0)
        return t.failure(
          f.namers,
          t.appendContext(ctx, 'namers', t.unknown, f.namers),
          `namers are not used with interpreter ${interpreter.kind}`,
        )
      const prefix = f.dstPrefix ?? Path.of('svc')
      const identifier = (f.identifier ?? [(p: Path) => headerToken({ prefix: p })]).map((make) =>
        make(prefix),
      )
      const options = withoutUndefined({
        dtab: f.dtab ?? f.baseDtab,
        identifier,
        bindingTimeoutMs: f.bindingTimeoutMs,
        client: f.client,
        service: f.service,
      })
      return t.success({ namers: f.namers ?? [], interpreter, options })
    },
    (a) => a,
  )
}

/**
 * Reads a router config from YAML (or JSON) text. Every problem is reported at once, each with its
 * field path, what was expected and what was found; nothing is started.
 *
 * @example
 * ```ts
 * const spec = readRouterConfig(await readFile('router.yaml', 'utf8'), 'router.yaml')
 * if (isLeft(spec)) { console.error(spec.left.message); process.exit(1) }
 * ```
 */
export function readRouterConfig(
  text: string,
  source?: string,
  kinds: RouterKinds = {},
): Either<ConfigError, RouterSpec> {
  const doc = parseConfigText(text, source)
  if (isLeft(doc)) return doc
  return decodeConfig(routerConfigCodec(kinds), doc.right, source)
}

/** What `createClientFromConfig` takes besides the config. */
export interface ConfigClientOptions {
  readonly stats?: InMemoryStats | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  /** Told about problems that do not stop the client (a bad service file, a lost namerd stream). */
  readonly log?: ((message: string) => void) | undefined
  readonly kinds?: RouterKinds | undefined
  /** Settings that override (or add to) the config's, e.g. an `endpoint` for tests. */
  readonly overrides?: Partial<ClientOptions> | undefined
}

/**
 * A client from a router config (YAML/JSON text, or a decoded `RouterSpec`): starts the config's
 * namers (with their transformers) or its interpreter, and closes them with the client. A config
 * with problems throws `ConfigError` listing all of them, before anything starts.
 *
 * @example
 * ```ts
 * const client = createClientFromConfig(`
 * namers:
 * - kind: io.l5d.fs
 *   rootDir: disco
 * dtab: /svc => /#/io.l5d.fs
 * service:
 *   responseClassifier:
 *     kind: io.l5d.http.retryableRead5XX
 * `)
 * await client.fetch('http://users/')
 * ```
 */
export function createClientFromConfig(
  config: string | RouterSpec,
  options: ConfigClientOptions = {},
): Client {
  let spec: RouterSpec
  if (typeof config === 'string') {
    const r = readRouterConfig(config, undefined, options.kinds)
    if (isLeft(r)) throw r.left
    spec = r.right
  } else spec = config
  const stats = options.stats ?? inMemoryStats()
  const scheduler = options.scheduler ?? systemScheduler
  const context: PluginContext = {
    stats: stats.scope('namer'),
    scheduler,
    log: options.log ?? ((m) => console.error(m)),
  }
  const started: { close?(): void | Promise<void> }[] = []
  try {
    const namers = spec.namers.map((n) => {
      const namer = n.make(context)
      started.push(namer)
      return { prefix: n.prefix, namer, transformers: n.transformers }
    })
    let interpreter: (NameInterpreter & { close?(): Promise<void> }) | undefined
    if (spec.interpreter.make) {
      interpreter = spec.interpreter.make({ ...context, stats: stats.scope('interpreter') })
      started.push(interpreter)
    }
    const client = createClient({
      ...spec.options,
      ...(interpreter ? { interpreter } : { namers }),
      transformers: spec.interpreter.transformers,
      stats,
      scheduler,
      random: options.random ?? systemRandom,
      ...options.overrides,
    })
    return {
      ...client,
      async close() {
        await client.close()
        for (const s of started) await s.close?.()
        // Identifiers that hold a watch (io.l5d.ingress) stop with the client.
        const ids = spec.options.identifier
        for (const id of ids === undefined ? [] : Array.isArray(ids) ? ids : [ids])
          await (id as { close?: () => Promise<void> | void }).close?.()
      },
    }
  } catch (error) {
    for (const s of started) void s.close?.()
    throw error instanceof ConfigError ? error : error
  }
}
