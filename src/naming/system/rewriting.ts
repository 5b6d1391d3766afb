import { Name } from '../name.js'
import { Namer } from '../namer.js'
import { NameTree } from '../nametree.js'
import { Path } from '../path.js'

/**
 * A namer that rewrites a path into another path, to be bound again through the dtab (linkerd's
 * `RewritingNamer`): `rewrite` returns the new path, or `undefined` for "not mine" (`Neg`). An
 * empty path is always `Neg`.
 *
 * @example
 * ```ts
 * // /#/lower/<Name>/rest → /<name>/rest
 * const lower = rewritingNamer((p) => Path.of(p.segments[0]!.toLowerCase()).concat(p.drop(1)))
 * ```
 */
export function rewritingNamer(rewrite: (path: Path) => Path | undefined): Namer {
  return Namer.of((path) => {
    if (path.isEmpty) return NameTree.Neg
    const out = rewrite(path)
    return out === undefined ? NameTree.Neg : NameTree.leaf(Name.path(out))
  })
}

// linkerd matches hosts coarsely so that DNS names, IPv4 and IPv6 all pass; methods are upper case.
const HOST = /^[A-Za-z0-9.:_-]+$/
const METHOD = /^[A-Z]+$/
// A DNS label (RFC 1035/1123, as Kubernetes' DNS_LABEL), lower case: the port part of host:port.
const DNS_LABEL = /^[a-z0-9][-a-z0-9]*[a-z0-9]?$/

/** Java's `String.split`: trailing empty strings are removed. */
function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep)
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}

/**
 * Builds a path from labels, or `undefined` when one is empty. linkerd throws
 * ("requirement failed") on hosts such as `.io` or `a..b`; a name from a request header must not
 * fail the request, so these are simply not matched.
 */
function labels(...parts: string[]): Path | undefined {
  return parts.some((p) => p.length === 0) ? undefined : Path.from(parts)
}

function dropPort(host: string): string {
  const i = host.indexOf(':')
  return i > 0 ? host.slice(0, i) : host
}

function subdomain(domain: string, host: string): string | undefined {
  const suffix = `.${domain}`
  const h = dropPort(host)
  return h.endsWith(suffix) ? h.slice(0, h.length - suffix.length) : undefined
}

function hostColonPort(s: string): [string, string] | undefined {
  const parts = javaSplit(s, ':')
  if (parts.length !== 2) return undefined
  const [host, port] = parts as [string, string]
  return DNS_LABEL.test(port) && port.length <= 63 ? [host, port] : undefined
}

const seg = (p: Path, i: number): string => p.segments[i]!

/**
 * `/$/io.buoyant.http.anyMethod/<METHOD>/rest` → `/rest` (METHOD is `[A-Z]+`).
 *
 * @example
 * ```ts
 * anyMethod.lookup(Path.read('/GET/svc')) // Leaf(/svc)
 * ```
 */
export const anyMethod: Namer = rewritingNamer((p) => (METHOD.test(seg(p, 0)) ? p.drop(1) : undefined))

/**
 * `/$/io.buoyant.http.anyMethodPfx/<pfx>/<METHOD>/rest` → `/<pfx>/rest`.
 *
 * @example
 * ```ts
 * anyMethodPfx.lookup(Path.read('/svc/GET/users')) // Leaf(/svc/users)
 * ```
 */
export const anyMethodPfx: Namer = rewritingNamer((p) =>
  p.size >= 2 && METHOD.test(seg(p, 1)) ? p.take(1).concat(p.drop(2)) : undefined,
)

/**
 * `/$/io.buoyant.http.anyHost/<host>/rest` → `/rest`.
 *
 * @example
 * ```ts
 * anyHost.lookup(Path.read('/foo.io/svc')) // Leaf(/svc)
 * ```
 */
export const anyHost: Namer = rewritingNamer((p) => (HOST.test(seg(p, 0)) ? p.drop(1) : undefined))

/**
 * `/$/io.buoyant.http.anyHostPfx/<pfx>/<host>/rest` → `/<pfx>/rest`.
 *
 * @example
 * ```ts
 * anyHostPfx.lookup(Path.read('/svc/foo.io/users')) // Leaf(/svc/users)
 * ```
 */
export const anyHostPfx: Namer = rewritingNamer((p) =>
  p.size >= 2 && HOST.test(seg(p, 1)) ? p.take(1).concat(p.drop(2)) : undefined,
)

/**
 * `/$/io.buoyant.http.subdomainOf/<domain>/<host>/rest` → `/<sub>/rest` when `host` (any `:port`
 * dropped) ends with `.<domain>` and `sub`, the part before it, is not empty.
 *
 * @example
 * ```ts
 * subdomainOf.lookup(Path.read('/buoyant.io/foo.buoyant.io/x')) // Leaf(/foo/x)
 * ```
 */
export const subdomainOf: Namer = rewritingNamer((p) => {
  if (p.size < 2 || !HOST.test(seg(p, 0)) || !HOST.test(seg(p, 1))) return undefined
  const sub = subdomain(seg(p, 0), seg(p, 1))
  return sub ? labels(sub)?.concat(p.drop(2)) : undefined
})

/**
 * `/$/io.buoyant.http.subdomainOfPfx/<domain>/<pfx>/<host>/rest` → `/<pfx>/<sub>/rest` when `host`
 * (any `:port` dropped) ends with `.<domain>` and `sub`, the part before it, is not empty.
 *
 * @example
 * ```ts
 * subdomainOfPfx.lookup(Path.read('/buoyant.io/svc/foo.buoyant.io:8080/x')) // Leaf(/svc/foo/x)
 * ```
 */
export const subdomainOfPfx: Namer = rewritingNamer((p) => {
  if (p.size < 3 || !HOST.test(seg(p, 0)) || !HOST.test(seg(p, 2))) return undefined
  const sub = subdomain(seg(p, 0), seg(p, 2))
  return sub ? labels(seg(p, 1), sub)?.concat(p.drop(3)) : undefined
})

/**
 * `/$/io.buoyant.http.domainToPath/<host>/rest` → `/<labels of host, reversed>/rest`
 * (`foo.buoyant.io` → `/io/buoyant/foo`; a `:port` stays on the last label).
 *
 * @example
 * ```ts
 * domainToPath.lookup(Path.read('/foo.buoyant.io/x')) // Leaf(/io/buoyant/foo/x)
 * ```
 */
export const domainToPath: Namer = rewritingNamer((p) =>
  HOST.test(seg(p, 0)) ? labels(...javaSplit(seg(p, 0), '.').reverse())?.concat(p.drop(1)) : undefined,
)

/**
 * `/$/io.buoyant.http.domainToPathPfx/<pfx>/<host>/rest` → `/<pfx>/<labels of host, reversed>/rest`
 * (`foo.io:80` → `io:80/foo`: a port stays attached to the label it follows).
 *
 * @example
 * ```ts
 * domainToPathPfx.lookup(Path.read('/svc/foo.buoyant.io/x')) // Leaf(/svc/io/buoyant/foo/x)
 * ```
 */
export const domainToPathPfx: Namer = rewritingNamer((p) =>
  p.size >= 2 && HOST.test(seg(p, 1))
    ? labels(seg(p, 0), ...javaSplit(seg(p, 1), '.').reverse())?.concat(p.drop(2))
    : undefined,
)

/**
 * `/$/io.buoyant.hostportPfx/<pfx>/<host>:<port>/rest` → `/<pfx>/<host>/<port>/rest`. The label must
 * split on `:` into exactly two parts and the port must be a lower-case DNS label of at most 63
 * characters (so named ports like `http` work); IPv6 hosts are not supported.
 *
 * @example
 * ```ts
 * hostportPfx.lookup(Path.read('/inet/users:8080/x')) // Leaf(/inet/users/8080/x)
 * ```
 */
export const hostportPfx: Namer = rewritingNamer((p) => {
  const hp = p.size >= 2 ? hostColonPort(seg(p, 1)) : undefined
  return hp ? labels(seg(p, 0), hp[0], hp[1])?.concat(p.drop(2)) : undefined
})

/**
 * `/$/io.buoyant.porthostPfx/<pfx>/<host>:<port>/rest` → `/<pfx>/<port>/<host>/rest`, with the same
 * `host:port` rules as `hostportPfx`. With `/$/io.buoyant.rinet` it turns a Host header into a
 * DNS lookup.
 *
 * @example
 * ```ts
 * porthostPfx.lookup(Path.read('/rinet/users:8080/x')) // Leaf(/rinet/8080/users/x)
 * ```
 */
export const porthostPfx: Namer = rewritingNamer((p) => {
  const hp = p.size >= 2 ? hostColonPort(seg(p, 1)) : undefined
  return hp ? labels(seg(p, 0), hp[1], hp[0])?.concat(p.drop(2)) : undefined
})
