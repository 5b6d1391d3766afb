import type { HttpHeaders } from '../http/request.js'

/** Headers that only concern one connection (RFC 7230 §6.1), removed by every proxy hop. */
const HOP_BY_HOP = [
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]

/**
 * Removes linkerd's hop-by-hop headers in place (its `StripHopByHopHeadersFilter`): `Connection`,
 * `Proxy-Authenticate`, `Proxy-Authorization`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`, and
 * every header named in `Connection`. `Keep-Alive` goes only when `Connection` names it.
 *
 * @example
 * ```ts
 * const h = { connection: 'close, x-debug', 'x-debug': '1', host: 'web' }
 * stripHopByHop(h) // h is now { host: 'web' }
 * ```
 */
export function stripHopByHop(headers: HttpHeaders): void {
  const connection = headers['connection']
  if (connection !== undefined) {
    for (const v of typeof connection === 'string' ? [connection] : connection)
      for (const name of v.split(',')) {
        const n = name.trim().toLowerCase()
        if (n !== '') delete headers[n]
      }
    delete headers['connection']
  }
  for (const h of HOP_BY_HOP) if (headers[h] !== undefined) delete headers[h]
}

/**
 * Removes, in place, every header whose name starts with `l5d-` (what `clearContext: true` does to
 * requests arriving from an untrusted edge, and to responses leaving through it).
 *
 * @example
 * ```ts
 * const h = { 'l5d-dtab': '/a=>/b', host: 'web' }
 * stripL5dHeaders(h) // h is now { host: 'web' }
 * ```
 */
export function stripL5dHeaders(headers: HttpHeaders): void {
  for (const k of Object.keys(headers)) if (k.startsWith('l5d-')) delete headers[k]
}

/**
 * Appends `<version> linkerd` to a header's `Via` value (`, `-joined), as linkerd does on each request
 * and response it forwards.
 *
 * @example
 * ```ts
 * const h: HttpHeaders = { via: '1.1 edge' }
 * appendVia(h, '1.1') // h.via === '1.1 edge, 1.1 linkerd'
 * ```
 */
export function appendVia(headers: HttpHeaders, version: string): void {
  const mine = `${version} linkerd`
  const prev = headers['via']
  if (prev === undefined) headers['via'] = mine
  else headers['via'] = `${typeof prev === 'string' ? prev : prev.join(', ')}, ${mine}`
}

/**
 * The number of hops a `Via` value lists (comma-separated entries), as linkerd's loop check counts.
 *
 * @example
 * ```ts
 * viaDepth('hop1, hop2, hop3') // 3
 * ```
 */
export function viaDepth(via: string | string[] | undefined): number {
  if (via === undefined) return 0
  const text = typeof via === 'string' ? via : via.join(',')
  return text === '' ? 0 : text.split(',').length
}
