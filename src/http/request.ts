import type { Readable } from 'node:stream'

/**
 * Header fields with lower-case names; a repeated field keeps every value in an array. This is the
 * shape undici hands to response handlers and the one every layer of the HTTP stack reads.
 *
 * @example
 * ```ts
 * const headers: HttpHeaders = { host: 'users', accept: 'application/json', 'set-cookie': ['a=1', 'b=2'] }
 * ```
 */
export type HttpHeaders = Record<string, string | string[]>

/**
 * A request body as the stack sees it. `null` for none; a string, `Buffer` or `Uint8Array` can be
 * sent again (retries and requeues); anything else (a `Readable`, an async iterable, a web
 * `ReadableStream`) is read once, so a request carrying one is never re-sent.
 *
 * @example
 * ```ts
 * const replayable: RequestBody = JSON.stringify({ id: 42 })
 * const oneShot: RequestBody = fs.createReadStream('upload.bin')
 * ```
 */
export type RequestBody =
  | null
  | string
  | Uint8Array
  | Readable
  | AsyncIterable<Uint8Array | string>
  | ReadableStream<Uint8Array>

/**
 * What the stack routes: an HTTP/1.x request head plus its body. `path` is the request target (path
 * and query, `/users/42?full=1`). `headers` always carries `host`: the `Host` the caller set, or
 * the authority of the URL it used (`users`, `users:8080`). The stack treats a request as immutable
 * and copies it to change it.
 *
 * @example
 * ```ts
 * const req: HttpRequest = {
 *   method: 'GET', path: '/api/42', version: '1.1', headers: { host: 'users' }, body: null,
 * }
 * ```
 */
export interface HttpRequest {
  readonly method: string
  readonly path: string
  /** `1.1` or `1.0`; identifiers read it (`io.l5d.methodAndHost`). */
  readonly version: string
  readonly headers: Readonly<HttpHeaders>
  readonly body: RequestBody
  /** Per-request undici timeouts, passed on to the endpoint unchanged. */
  readonly headersTimeout?: number | undefined
  readonly bodyTimeout?: number | undefined
}

/**
 * Whether a body can be sent again: absent, a string, a `Buffer` or a `Uint8Array`.
 *
 * @example
 * ```ts
 * isReplayableBody('{"a":1}')                    // true
 * isReplayableBody(Readable.from(['a']))         // false
 * ```
 */
export function isReplayableBody(body: RequestBody | undefined): boolean {
  return body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array
}

/**
 * The first value of a header (names are matched lower-case), or `undefined`.
 *
 * @example
 * ```ts
 * headerValue({ host: 'users' }, 'Host') // 'users'
 * ```
 */
export function headerValue(headers: Readonly<HttpHeaders>, name: string): string | undefined {
  const v = headers[name.toLowerCase()]
  if (v === undefined) return undefined
  return typeof v === 'string' ? v : v[0]
}

/**
 * Every value of a header, in order.
 *
 * @example
 * ```ts
 * headerValues({ 'l5d-dtab': ['/a=>/b', '/c=>/d'] }, 'l5d-dtab') // ['/a=>/b', '/c=>/d']
 * ```
 */
export function headerValues(headers: Readonly<HttpHeaders>, name: string): readonly string[] {
  const v = headers[name.toLowerCase()]
  if (v === undefined) return []
  return typeof v === 'string' ? [v] : v
}

function add(out: HttpHeaders, name: string, value: unknown): void {
  if (value === undefined || value === null) return
  const key = name.toLowerCase()
  const prev = out[key]
  if (!Array.isArray(value)) {
    // one value (nearly always): no arrays made
    const v = typeof value === 'string' ? value : String(value)
    if (prev === undefined) out[key] = v
    else if (typeof prev === 'string') out[key] = [prev, v]
    else prev.push(v)
    return
  }
  const values = value.map(String)
  if (prev === undefined) out[key] = values.length === 1 ? values[0]! : values
  else out[key] = [...(typeof prev === 'string' ? [prev] : prev), ...values]
}

/**
 * Copies headers in any of the shapes undici accepts (a plain object, a flat `[name, value, ...]`
 * array, an iterable of pairs, or `Headers`) into `HttpHeaders` with lower-case names.
 *
 * @example
 * ```ts
 * normalizeHeaders(['Host', 'users', 'Accept', 'text/plain']) // { host: 'users', accept: 'text/plain' }
 * ```
 */
export function normalizeHeaders(headers: unknown): HttpHeaders {
  const out: HttpHeaders = {}
  if (headers === undefined || headers === null) return out
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as unknown[][]) add(out, String(pair[0]), pair[1])
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) add(out, String(headers[i]), headers[i + 1])
    }
    return out
  }
  if (typeof headers === 'object' && Symbol.iterator in headers) {
    for (const pair of headers as Iterable<[string, unknown]>) add(out, pair[0], pair[1])
    return out
  }
  const record = headers as Record<string, unknown>
  for (const k in record) {
    if (!Object.hasOwn(record, k)) continue
    add(out, k, record[k])
  }
  return out
}
