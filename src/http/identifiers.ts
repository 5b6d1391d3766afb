import { InvalidOptionError, SwitchboardError } from '../core/errors.js'
import { Path } from '../naming/path.js'
import { type HttpRequest, headerValue } from './request.js'

/**
 * An identifier named the request: `dst` is the logical name to bind (`/svc/users`), and `request`,
 * when present, replaces the request sent on (`io.l5d.path` with `consume` strips the segments it
 * used from the URI).
 *
 * @example
 * ```ts
 * const id: Identified = Identified.of(Path.read('/svc/users'))
 * ```
 */
export interface Identified {
  readonly kind: 'identified'
  readonly dst: Path
  readonly request?: HttpRequest | undefined
}

/**
 * An identifier could not name the request, and says why (`Host header is absent`). In a list of
 * identifiers the next one is tried.
 *
 * @example
 * ```ts
 * const u: Unidentified = Unidentified.of('no canary header')
 * ```
 */
export interface Unidentified {
  readonly kind: 'unidentified'
  readonly reason: string
}

export const Identified = {
  /**
   * The request is named `dst`; `request` replaces the request sent on when given.
   *
   * @example
   * ```ts
   * Identified.of(Path.read('/svc/users')).dst.show() // '/svc/users'
   * ```
   */
  of(dst: Path, request?: HttpRequest): Identified {
    return request === undefined ? { kind: 'identified', dst } : { kind: 'identified', dst, request }
  },
} as const

export const Unidentified = {
  /**
   * The request could not be named, for `reason`.
   *
   * @example
   * ```ts
   * Unidentified.of('Host header is absent').reason // 'Host header is absent'
   * ```
   */
  of(reason: string): Unidentified {
    return { kind: 'unidentified', reason }
  },
} as const

/** What an identifier answers: a logical name (a `Path` alone, or `Identified`), or `Unidentified`. */
export type Identification = Path | Identified | Unidentified

/**
 * Names a request (linkerd's identifier): `(request) → Path | Identified | Unidentified`. A function
 * that throws fails the request (no later identifier is tried). The built-in identifiers prepend
 * their `prefix` (default `/svc`, linkerd's `dstPrefix`); a function of your own returns the whole
 * name.
 *
 * @example
 * ```ts
 * // Route by a tenant header, falling through to the next identifier without one.
 * const byTenant: Identifier = (req) => {
 *   const tenant = headerValue(req.headers, 'x-tenant')
 *   return tenant ? Path.of('svc', tenant, headerValue(req.headers, 'host') ?? '') : Unidentified.of('no tenant')
 * }
 * ```
 */
export type Identifier = (request: HttpRequest) => Identification

/**
 * No identifier could name the request (linkerd's `UnknownDst`; linkerd answers 400 with this
 * message in `l5d-err`). The message is `Unknown destination: Request("<METHOD> <uri>") / <reason>`;
 * `reason` is the last identifier's reason, or the message of the error an identifier threw.
 *
 * @example
 * ```ts
 * try { await client.fetch('http://x/', { headers: { host: '' } }) }
 * catch (e) { if (e instanceof UnidentifiedError) console.log(e.reason) } // 'Host header is absent'
 * ```
 */
export class UnidentifiedError extends SwitchboardError {
  /** Why the request could not be named. */
  readonly reason: string
  /** The HTTP status linkerd answers with: 400. */
  readonly status = 400
  constructor(request: Pick<HttpRequest, 'method' | 'path'>, reason: string, cause?: unknown) {
    super('Unidentified', `Unknown destination: Request("${request.method} ${request.path}") / ${reason}`, {
      cause,
    })
    this.reason = reason
  }
}

/** The logical name an identification resolved to, with the request to send; see `identify`. */
export interface IdentifiedRequest {
  readonly dst: Path
  readonly request: HttpRequest
}

/**
 * Runs identifiers in order until one names the request: the first `Path`/`Identified` wins, an
 * `Unidentified` moves on to the next, a throw stops the chain. Throws `UnidentifiedError` when no
 * identifier named it (with the last reason) or one threw (with its message).
 *
 * @example
 * ```ts
 * identify([headerToken()], req).dst.show() // '/svc/users'
 * ```
 */
export function identify(identifiers: readonly Identifier[], request: HttpRequest): IdentifiedRequest {
  let reason = 'no identifier configured'
  for (const identifier of identifiers) {
    let out: Identification
    try {
      out = identifier(request)
    } catch (error) {
      throw new UnidentifiedError(request, error instanceof Error ? error.message : String(error), error)
    }
    if (out instanceof Path) return { dst: out, request }
    if (out.kind === 'identified') return { dst: out.dst, request: out.request ?? request }
    reason = out.reason
  }
  throw new UnidentifiedError(request, reason)
}

/** The `dstPrefix` a built-in identifier prepends. */
export interface PrefixOption {
  /** Prepended to every name (linkerd's router `dstPrefix`). Default `/svc`. */
  readonly prefix?: Path | string | undefined
}

function prefixOf(component: string, options: PrefixOption | undefined): Path {
  const p = options?.prefix
  if (p === undefined) return DEFAULT_PREFIX
  if (p instanceof Path) return p
  const parsed = Path.parse(p)
  if (parsed._tag === 'Left') throw new InvalidOptionError(component, 'prefix', 'a path', p)
  return parsed.right
}

/** How many names an identifier keeps for reuse before it starts over. */
const NAME_CACHE_SIZE = 1000

/** linkerd's default `dstPrefix` for HTTP. */
export const DEFAULT_PREFIX: Path = Path.of('svc')

/** Options of `headerToken`. */
export interface HeaderTokenOptions extends PrefixOption {
  /** The header whose value is the name. Default `Host`. */
  readonly header?: string | undefined
}

/**
 * `io.l5d.header.token`, the default identifier: the raw value of a header (default `Host`) as ONE
 * segment after the prefix, not lower-cased, port kept (`Host: Users:8080` → `/svc/Users:8080`).
 * Missing or empty → unidentified `<header> header is absent`.
 *
 * @example
 * ```ts
 * headerToken()(req)                      // Path /svc/users for Host: users
 * headerToken({ header: 'x-service' })    // names by another header
 * ```
 */
export function headerToken(options: HeaderTokenOptions = {}): Identifier {
  const header = options.header ?? 'Host'
  const prefix = prefixOf('headerToken', options)
  const absent = Unidentified.of(`${header} header is absent`)
  // Most clients talk to a handful of hosts: keep their names instead of building them per request.
  const cache = new Map<string, Path>()
  return (req) => {
    const value = headerValue(req.headers, header)
    if (value === undefined || value === '') return absent
    let name = cache.get(value)
    if (name === undefined) {
      name = prefix.concat(Path.of(value))
      if (cache.size >= NAME_CACHE_SIZE) cache.clear()
      cache.set(value, name)
    }
    return name
  }
}

/** Options of `header`. */
export interface HeaderOptions extends PrefixOption {
  /** The header whose value is a path. Default `l5d-name`. */
  readonly header?: string | undefined
}

/**
 * `io.l5d.header`: the header's value (default `l5d-name`) read as a path and appended to the
 * prefix (`l5d-name: /users/v2` → `/svc/users/v2`). Missing or empty → unidentified
 * `<header> header is absent`; a value that is not a path fails the request with the parse error.
 *
 * @example
 * ```ts
 * header()(req) // Path /svc/users/v2 for l5d-name: /users/v2
 * ```
 */
export function header(options: HeaderOptions = {}): Identifier {
  const name = options.header ?? 'l5d-name'
  const prefix = prefixOf('header', options)
  const absent = Unidentified.of(`${name} header is absent`)
  return (req) => {
    const value = headerValue(req.headers, name)
    if (value === undefined || value === '') return absent
    return prefix.concat(Path.read(value))
  }
}

/** Options of `methodAndHost`. */
export interface MethodAndHostOptions extends PrefixOption {
  /** Append the request path's segments (query excluded). Default false. */
  readonly httpUriInDst?: boolean | undefined
}

function pathOnly(target: string): string {
  const q = target.indexOf('?')
  return q < 0 ? target : target.slice(0, q)
}

/**
 * `io.l5d.methodAndHost`: HTTP/1.1 → `<prefix>/1.1/<METHOD>/<host lower-cased, port kept>`;
 * HTTP/1.0 → `<prefix>/1.0/<METHOD>` (no host). With `httpUriInDst` the request path is read as a
 * path and appended (a trailing `/` or characters outside the path alphabet fail the request).
 * HTTP/1.1 without a Host → unidentified `HTTP/1.1 request missing hostname`; another version →
 * `Unknown HTTP version <v>`.
 *
 * @example
 * ```ts
 * methodAndHost()(req) // Path /svc/1.1/GET/users for GET with Host: Users
 * ```
 */
export function methodAndHost(options: MethodAndHostOptions = {}): Identifier {
  const prefix = prefixOf('methodAndHost', options)
  const withUri = options.httpUriInDst ?? false
  const missingHost = Unidentified.of('HTTP/1.1 request missing hostname')
  const suffix = (req: HttpRequest): Path => {
    return withUri ? Path.read(pathOnly(req.path)) : Path.empty
  }
  return (req) => {
    if (req.version === '1.0') return prefix.concat(Path.of('1.0', req.method)).concat(suffix(req))
    if (req.version !== '1.1') return Unidentified.of(`Unknown HTTP version HTTP/${req.version}`)
    const host = headerValue(req.headers, 'host')
    if (host === undefined || host === '') return missingHost
    return prefix.concat(Path.of('1.1', req.method, host.toLowerCase())).concat(suffix(req))
  }
}

/** Options of `path`. */
export interface PathOptions extends PrefixOption {
  /** How many leading path segments make the name. Default 1. */
  readonly segments?: number | undefined
  /** Remove those segments from the URI sent on. Default false. */
  readonly consume?: boolean | undefined
}

/**
 * `io.l5d.path`: the first `segments` pieces of the request path (query excluded, trailing empty
 * pieces ignored) after the prefix (`/users/42` → `/svc/users`). Fewer pieces → unidentified
 * `not enough segments in path`. With `consume` the request goes on with those pieces removed
 * (`/users/42?x=1` → `/42?x=1`; a trailing `/` is kept when something remains; `/` when nothing does).
 *
 * @example
 * ```ts
 * path({ segments: 2, consume: true })(req) // Identified /svc/api/users, request path '/42'
 * ```
 */
export function path(options: PathOptions = {}): Identifier {
  const prefix = prefixOf('path', options)
  const segments = options.segments ?? 1
  if (!Number.isInteger(segments) || segments < 1)
    throw new InvalidOptionError('path', 'segments', 'an integer >= 1', segments)
  const consume = options.consume ?? false
  const tooShort = Unidentified.of('not enough segments in path')
  return (req) => {
    const q = req.path.indexOf('?')
    const rawPath = q < 0 ? req.path : req.path.slice(0, q)
    const query = q < 0 ? '' : req.path.slice(q)
    const pieces = rawPath.split('/').slice(1)
    while (pieces.length > 0 && pieces[pieces.length - 1] === '') pieces.pop()
    if (pieces.length < segments) return tooShort
    const dst = prefix.concat(Path.from(pieces.slice(0, segments)))
    if (!consume) return dst
    const rest = pieces.slice(segments)
    let uri = `/${rest.join('/')}`
    if (rest.length > 0 && rawPath.endsWith('/')) uri += '/'
    return Identified.of(dst, { ...req, path: uri + query })
  }
}

/** Options of `staticIdentifier`. */
export interface StaticOptions extends PrefixOption {
  /** The name every request gets (after the prefix). */
  readonly path: Path | string
}

/**
 * `io.l5d.static`: every request is `<prefix><path>`.
 *
 * @example
 * ```ts
 * staticIdentifier({ path: '/users' })(req) // Path /svc/users
 * ```
 */
export function staticIdentifier(options: StaticOptions): Identifier {
  const prefix = prefixOf('static', options)
  const p = options.path
  let rest: Path
  if (p instanceof Path) rest = p
  else {
    const parsed = Path.parse(p)
    if (parsed._tag === 'Left') throw new InvalidOptionError('static', 'path', 'a path', p)
    rest = parsed.right
  }
  const dst = prefix.concat(rest)
  return () => dst
}

/**
 * The built-in identifiers by their linkerd names, for `identifiers.static(...)` (`static` is a
 * reserved word, so the function itself is exported as `staticIdentifier`).
 *
 * @example
 * ```ts
 * const chain = [identifiers.header(), identifiers.headerToken()]
 * ```
 */
export const identifiers = {
  headerToken,
  header,
  methodAndHost,
  path,
  static: staticIdentifier,
} as const
