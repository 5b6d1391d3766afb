import type { Either } from 'fp-ts/lib/Either.js'
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import {
  byKind,
  type ConfigError,
  decodeConfig,
  nonEmptyString,
  parseConfigText,
  portCodec,
  showFound,
  struct,
} from '../config/decode.js'
import {
  namersCodecOf,
  type RouterKinds,
  type RouterNamerSpec,
  type RouterSpec,
  routerConfigCodec,
} from '../config/router.js'
import {
  defaultTelemeterKinds,
  type TelemeterKind,
  type TelemetrySpec,
  telemetryCodec,
  usageCodec,
} from '../config/telemetry.js'
import { serverTlsCodec, socketOptionsCodec } from '../namerd/config.js'
import type { ServerTlsSpec, SocketOptionsSpec } from '../namerd/http/listen.js'
import type { CreateRouterOptions, ForwardedLabeler, RouterServerOptions } from './server.js'

/** Every plugin kind a linkerd config may use: the router's, plus telemeters. */
export interface LinkerKinds extends RouterKinds {
  /** Default: `io.l5d.prometheus`. */
  readonly telemeters?: readonly TelemeterKind[] | undefined
}

/** A decoded server of a router. */
export interface ServerSpec extends RouterServerOptions {
  readonly ip: string
  readonly port: number
  readonly tls?: ServerTlsSpec | undefined
  readonly socketOptions?: SocketOptionsSpec | undefined
  /** Close a connection idle this long (`serverSession.idleTimeMs`). */
  readonly idleTimeMs?: number | undefined
  /** Close a connection this old (`serverSession.lifeTimeMs`). */
  readonly lifeTimeMs?: number | undefined
  /** Per-request timeout of the server (`timeoutMs`). */
  readonly timeoutMs?: number | undefined
  /** Largest request head (`maxHeadersKB` of the router), enforced by the listener. */
  readonly maxHeaderBytes: number
}

/** A decoded router of a linkerd config. */
export interface LinkerRouterSpec {
  readonly label: string
  readonly protocol: 'http'
  readonly servers: readonly ServerSpec[]
  /** The client side: namers, interpreter, dtab, identifiers, client and service blocks. */
  readonly spec: RouterSpec
  /** The HTTP router keys (sizes, streaming, access log) for `createRouter`. */
  readonly http: Pick<
    CreateRouterOptions,
    | 'streamAfterContentLengthKB'
    | 'maxRequestKB'
    | 'maxResponseKB'
    | 'maxInitialLineKB'
    | 'maxHeadersKB'
    | 'maxErrResponseKB'
  >
  /** `httpAccessLog`: a file path. */
  readonly accessLog?: string | undefined
  readonly accessLogAppend: boolean
  readonly originator: boolean
}

/** A decoded `admin:` block of linkerd. */
export interface LinkerAdminSpec {
  readonly ip: string
  readonly port: number
  readonly shutdownGraceMs: number
  readonly tls?: ServerTlsSpec | undefined
  readonly socketOptions?: SocketOptionsSpec | undefined
  readonly security: {
    readonly uiEnabled: boolean
    readonly controlEnabled: boolean
    readonly diagnosticsEnabled: boolean
    readonly pathWhitelist: readonly RegExp[]
    readonly pathBlacklist: readonly RegExp[]
  }
}

/** A whole decoded linkerd config. */
export interface LinkerSpec {
  readonly admin: LinkerAdminSpec
  readonly namers: readonly RouterNamerSpec[]
  readonly routers: readonly LinkerRouterSpec[]
  readonly telemetry: TelemetrySpec
  /** Things accepted and not acted on, one line each (printed at startup). */
  readonly warnings: readonly string[]
}

const nonNegative = new t.Type<number, unknown, unknown>(
  'a number >= 0',
  (u): u is number => typeof u === 'number',
  (u, c) =>
    typeof u === 'number' && Number.isFinite(u) && u >= 0
      ? t.success(u)
      : t.failure(u, c, `expected a number >= 0, found ${showFound(u)}`),
  (a) => a,
)
const positiveInt = new t.Type<number, unknown, unknown>(
  'an integer >= 1',
  (u): u is number => typeof u === 'number',
  (u, c) =>
    typeof u === 'number' && Number.isInteger(u) && u >= 1
      ? t.success(u)
      : t.failure(u, c, `expected an integer >= 1, found ${showFound(u)}`),
  (a) => a,
)

const regexCodec = new t.Type<RegExp, unknown, unknown>(
  'a regular expression',
  (u): u is RegExp => u instanceof RegExp,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, `expected a regular expression, found ${showFound(u)}`)
    try {
      return t.success(new RegExp(`^(?:${u})$`))
    } catch (error) {
      return t.failure(u, c, `invalid regular expression: ${(error as Error).message}`)
    }
  },
  (a) => a,
)

const labelerKinds = ['requestRandom', 'connectionRandom', 'ip', 'ip:port', 'router', 'static'] as const
const labelerCodec = byKind<ForwardedLabeler>(
  'a Forwarded labeler object',
  labelerKinds.map((k) => ({
    kind: k,
    codec: struct(
      `a ${k} labeler object`,
      k === 'static' ? { kind: t.literal(k), label: nonEmptyString } : { kind: t.literal(k) },
      {},
    ) as unknown as t.Decoder<unknown, ForwardedLabeler>,
  })),
)

const serverFields = {
  port: portCodec,
  ip: nonEmptyString,
  tls: serverTlsCodec,
  maxConcurrentRequests: positiveInt,
  clearContext: t.boolean,
  announce: t.array(t.string),
  socketOptions: socketOptionsCodec,
  serverSession: struct('a serverSession object', {}, { idleTimeMs: nonNegative, lifeTimeMs: nonNegative }),
  timeoutMs: nonNegative,
  label: nonEmptyString,
  addForwardedHeader: struct('an addForwardedHeader object', {}, { by: labelerCodec, for: labelerCodec }),
  timestampHeader: nonEmptyString,
  maxCallDepth: positiveInt,
}
const serverCodec = struct('a server object', {}, serverFields)

/** The keys of a router object that the server side reads; the rest go to the client's codec. */
const routerOnlyFields = {
  label: nonEmptyString,
  servers: t.array(t.unknown),
  announcers: t.array(t.unknown),
  originator: t.boolean,
  bindingCache: struct(
    'a bindingCache object',
    {},
    {
      paths: positiveInt,
      trees: positiveInt,
      bounds: positiveInt,
      clients: positiveInt,
      idleTtlSecs: nonNegative,
    },
  ),
  experimental: t.boolean,
  httpAccessLog: nonEmptyString,
  httpAccessLogRollPolicy: t.string,
  httpAccessLogAppend: t.boolean,
  httpAccessLogRotateCount: t.number,
  streamingEnabled: t.boolean,
  streamAfterContentLengthKB: nonNegative,
  maxHeadersKB: positiveInt,
  maxInitialLineKB: positiveInt,
  maxErrResponseKB: positiveInt,
  maxRequestKB: positiveInt,
  maxResponseKB: positiveInt,
  maxChunkKB: positiveInt,
  compressionLevel: t.number,
  tracePropagator: struct('a tracePropagator object', { kind: t.literal('io.l5d.default') }, {}),
}
const CLIENT_KEYS = new Set([
  'namers',
  'dtab',
  'baseDtab',
  'interpreter',
  'identifier',
  'dstPrefix',
  'bindingTimeoutMs',
  'client',
  'service',
])

const ROUTER_KEYS = ['protocol', ...Object.keys(routerOnlyFields), ...CLIENT_KEYS]

const PROTOCOL_PORTS: Record<string, number> = {
  http: 4140,
  h2: 4142,
  thrift: 4114,
  mux: 4141,
  thriftmux: 4144,
}

function routerCodec(kinds: LinkerKinds, namers: readonly RouterNamerSpec[]) {
  const clientCodec = routerConfigCodec(kinds)
  const own = struct('a router object', { protocol: t.string }, routerOnlyFields)
  return new t.Type<LinkerRouterSpec, unknown, unknown>(
    'a router object',
    (u): u is LinkerRouterSpec => typeof u === 'object' && u !== null,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u))
        return t.failure(u, c, `expected a router object, found ${showFound(u)}`)
      const input = u as Record<string, unknown>
      const protocol = input['protocol']
      if (typeof protocol === 'string' && protocol !== 'http') {
        // Another protocol's router: its own keys are not checked, the protocol is the problem.
        const why =
          protocol in PROTOCOL_PORTS
            ? `protocol ${protocol} is not supported (switchboard routes HTTP/1.1: protocol http)`
            : `unknown protocol ${JSON.stringify(protocol)} (known: http; linkerd's h2, thrift, mux, thriftmux are not supported)`
        return t.failure(protocol, t.appendContext(c, 'protocol', t.string, protocol), why)
      }
      const mine: Record<string, unknown> = {}
      const theirs: Record<string, unknown> = {}
      const errors: t.Errors = []
      for (const [k, v] of Object.entries(input)) {
        if (CLIENT_KEYS.has(k)) theirs[k] = v
        else if (k === 'protocol' || Object.hasOwn(routerOnlyFields, k)) mine[k] = v
        else
          errors.push({
            value: v,
            context: t.appendContext(c, k, t.never, v),
            message: `unknown field (known fields: ${ROUTER_KEYS.join(', ')})`,
          })
      }
      const r = own.validate(mine, c)
      if (isLeft(r)) errors.push(...r.left)
      // The client side is decoded as an http router, whatever the protocol (so its kinds are checked too).
      if (theirs['namers'] !== undefined)
        errors.push({
          value: theirs['namers'],
          context: t.appendContext(c, 'namers', t.unknown, theirs['namers']),
          message: 'namers belong at the top level of a linkerd config, not in a router',
        })
      const { namers: _n, ...clientInput } = theirs
      const cr = clientCodec.validate(clientInput, c)
      if (isLeft(cr)) errors.push(...cr.left)
      const servers: ServerSpec[] = []
      const rawServers = input['servers']
      if (Array.isArray(rawServers)) {
        rawServers.forEach((s, i) => {
          const ctx = t.appendContext(
            t.appendContext(c, 'servers', t.unknown, rawServers),
            String(i),
            serverCodec,
            s,
          )
          const sr = serverCodec.validate(s, ctx)
          if (isLeft(sr)) errors.push(...sr.left)
          else {
            const f = sr.right
            const mh = isLeft(r) ? undefined : r.right.maxHeadersKB
            servers.push({
              ip: f.ip ?? '127.0.0.1',
              port: f.port ?? PROTOCOL_PORTS[String(protocol)] ?? 4140,
              tls: f.tls,
              socketOptions: f.socketOptions,
              idleTimeMs: f.serverSession?.idleTimeMs,
              lifeTimeMs: f.serverSession?.lifeTimeMs,
              timeoutMs: f.timeoutMs,
              clearContext: f.clearContext,
              maxConcurrentRequests: f.maxConcurrentRequests,
              maxCallDepth: f.maxCallDepth,
              addForwardedHeader: f.addForwardedHeader,
              timestampHeader: f.timestampHeader,
              maxHeaderBytes: (mh ?? 8) * 1024,
              label: f.label,
            })
          }
        })
      }
      if (isLeft(r) || isLeft(cr) || errors.length > 0) return t.failures(errors)
      const f = r.right
      const label = f.label ?? String(protocol)
      const problems: string[] = []
      if (f.streamingEnabled === false && f.streamAfterContentLengthKB !== undefined)
        problems.push(
          `Conflicting streaming options set. Can't disable streaming and set streamAfterContentLengthKB in ${label}`,
        )
      if (Array.isArray(f.announcers) && f.announcers.length > 0) {
        const kinds = f.announcers.map((a) =>
          typeof a === 'object' && a !== null ? String((a as Record<string, unknown>)['kind']) : showFound(a),
        )
        problems.push(`announcers are not supported (found kinds: ${kinds.join(', ')})`)
      }
      if (servers.length === 0) problems.push(`router '${label}' has no servers`)
      if (problems.length > 0) return t.failures(problems.map((m) => ({ value: u, context: c, message: m })))
      const interpreter = cr.right.interpreter
      if (interpreter.make === undefined && namers.length > 0) {
        // namers are shared by every router with the default interpreter
      }
      return t.success({
        label,
        protocol: 'http' as const,
        servers,
        spec: { ...cr.right, namers: interpreter.make === undefined ? namers : [] },
        http: {
          streamAfterContentLengthKB:
            f.streamingEnabled === false ? Number.POSITIVE_INFINITY : f.streamAfterContentLengthKB,
          maxRequestKB: f.maxRequestKB,
          maxResponseKB: f.maxResponseKB,
          maxInitialLineKB: f.maxInitialLineKB,
          maxHeadersKB: f.maxHeadersKB,
          maxErrResponseKB: f.maxErrResponseKB,
        },
        accessLog: f.httpAccessLog,
        accessLogAppend: f.httpAccessLogAppend ?? true,
        originator: f.originator ?? false,
      })
    },
    (a) => a,
  )
}

const adminCodec = struct(
  'an admin object',
  {},
  {
    ip: nonEmptyString,
    port: portCodec,
    shutdownGraceMs: nonNegative,
    socketOptions: socketOptionsCodec,
    tls: serverTlsCodec,
    workerThreads: positiveInt,
    httpIdentifierPort: portCodec,
    security: struct(
      'a security object',
      {},
      {
        uiEnabled: t.boolean,
        controlEnabled: t.boolean,
        diagnosticsEnabled: t.boolean,
        pathWhitelist: t.array(regexCodec),
        pathBlacklist: t.array(regexCodec),
      },
    ),
  },
)

/**
 * The codec of a whole linkerd config (spec router §1.2): `routers` (required, non-empty), `admin`,
 * `namers`, `telemetry`, `usage` (accepted, never acted on). Every problem of every router is
 * reported at once; kinds that are not implemented are named in the problems (protocols other than
 * http, namers, announcers), observe-only telemeters without a registered kind become warnings.
 *
 * @example
 * ```ts
 * decodeConfig(linkerConfigCodec(), YAML.parse(text)) // Either<ConfigError, LinkerSpec>
 * ```
 */
export function linkerConfigCodec(kinds: LinkerKinds = {}): t.Type<LinkerSpec, unknown, unknown> {
  const namersCodec = namersCodecOf(kinds)
  const telemetry = telemetryCodec([...defaultTelemeterKinds, ...(kinds.telemeters ?? [])])
  const top = struct(
    'a linkerd config',
    { routers: t.unknown },
    { admin: adminCodec, namers: t.unknown, telemetry: t.unknown, usage: usageCodec },
  )
  return new t.Type<LinkerSpec, unknown, unknown>(
    'a linkerd config',
    (u): u is LinkerSpec => typeof u === 'object' && u !== null,
    (u, c) => {
      const r = top.validate(u, c)
      const errors: t.Errors = isLeft(r) ? [...r.left] : []
      const input = (typeof u === 'object' && u !== null ? u : {}) as Record<string, unknown>
      let namers: RouterNamerSpec[] = []
      if (input['namers'] !== undefined && input['namers'] !== null) {
        const n = namersCodec.validate(
          input['namers'],
          t.appendContext(c, 'namers', namersCodec, input['namers']),
        )
        if (isLeft(n)) errors.push(...n.left)
        else namers = n.right
      }
      let tele: TelemetrySpec = { telemeters: [], warnings: [] }
      if (input['telemetry'] !== undefined && input['telemetry'] !== null) {
        const tr = telemetry.validate(
          input['telemetry'],
          t.appendContext(c, 'telemetry', telemetry, input['telemetry']),
        )
        if (isLeft(tr)) errors.push(...tr.left)
        else tele = tr.right
      }
      const routersRaw = input['routers']
      const routers: LinkerRouterSpec[] = []
      if (routersRaw !== undefined) {
        const rctx = t.appendContext(c, 'routers', t.unknown, routersRaw)
        if (!Array.isArray(routersRaw) || routersRaw.length === 0)
          errors.push({
            value: routersRaw,
            context: rctx,
            message: 'At least one router must be specified in the configuration.',
          })
        else {
          const one = routerCodec(kinds, namers)
          routersRaw.forEach((x, i) => {
            const rr = one.validate(x, t.appendContext(rctx, String(i), one, x))
            if (isLeft(rr)) errors.push(...rr.left)
            else routers.push(rr.right)
          })
          const labels = new Set<string>()
          for (const rt of routers) {
            if (labels.has(rt.label))
              errors.push({
                value: rt.label,
                context: rctx,
                message: `Multiple routers with the label ${rt.label}`,
              })
            labels.add(rt.label)
          }
          const ports = new Map<string, string>()
          for (const rt of routers)
            for (const s of rt.servers) {
              const any = s.ip === '0.0.0.0' || s.ip === '::'
              for (const [key] of ports) {
                const [ip, port] = [
                  key.slice(0, key.lastIndexOf(':')),
                  Number(key.slice(key.lastIndexOf(':') + 1)),
                ]
                if (
                  port === s.port &&
                  s.port !== 0 &&
                  (ip === s.ip || any || ip === '0.0.0.0' || ip === '::')
                )
                  errors.push({ value: s.port, context: rctx, message: `Server conflict on port ${s.port}` })
              }
              ports.set(`${s.ip}:${s.port}`, rt.label)
            }
        }
      }
      if (errors.length > 0 || isLeft(r)) return t.failures(errors)
      const a = r.right.admin ?? {}
      const sec = a.security ?? {}
      const warnings = [...tele.warnings]
      if (a.httpIdentifierPort !== undefined) warnings.push('admin.httpIdentifierPort is not served; ignored')
      if (r.right.usage !== undefined)
        warnings.push('usage: accepted; switchboard never reports usage anywhere')
      return t.success({
        admin: {
          ip: a.ip ?? '127.0.0.1',
          port: a.port ?? 9990,
          shutdownGraceMs: a.shutdownGraceMs ?? 10_000,
          tls: a.tls,
          socketOptions: a.socketOptions,
          security: {
            uiEnabled: sec.uiEnabled ?? true,
            controlEnabled: sec.controlEnabled ?? true,
            diagnosticsEnabled: sec.diagnosticsEnabled ?? true,
            pathWhitelist: sec.pathWhitelist ?? [],
            pathBlacklist: sec.pathBlacklist ?? [],
          },
        },
        namers,
        routers,
        telemetry: tele,
        warnings,
      })
    },
    (a) => a,
  )
}

/**
 * Reads a linkerd config from YAML (or JSON) text: every problem at once in one `ConfigError`;
 * nothing is started.
 *
 * @example
 * ```ts
 * const spec = readLinkerConfig(await readFile('linkerd.yaml', 'utf8'), 'linkerd.yaml')
 * if (isLeft(spec)) { console.error(spec.left.message); process.exit(1) }
 * ```
 */
export function readLinkerConfig(
  text: string,
  source?: string,
  kinds: LinkerKinds = {},
): Either<ConfigError, { spec: LinkerSpec; raw: unknown }> {
  const doc = parseConfigText(text, source)
  if (isLeft(doc)) return doc
  const r = decodeConfig(linkerConfigCodec(kinds), doc.right, source)
  if (isLeft(r)) return r
  return { _tag: 'Right', right: { spec: r.right, raw: doc.right } }
}
