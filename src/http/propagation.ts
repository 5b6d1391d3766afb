import { AsyncLocalStorage } from 'node:async_hooks'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { type Either, left, right } from 'fp-ts/lib/Either.js'
import { SwitchboardError } from '../core/errors.js'
import { isRequeueable } from '../core/failure.js'
import { Deadline } from '../limits/deadline.js'
import { Dtab } from '../naming/dtab.js'
import { ParseError } from '../naming/parse-error.js'
import { UnidentifiedError } from './identifiers.js'
import { type HttpHeaders, headerValues } from './request.js'

/**
 * linkerd's header names (`LinkerdHeaders`): context headers read from incoming requests and written
 * on outgoing ones (`l5d-ctx-*`), the user's per-request dtab (`l5d-dtab`), the names a request was
 * routed by (`l5d-dst-*`), and the error and retry markers on responses.
 *
 * @example
 * ```ts
 * L5dHeaders.dtab // 'l5d-dtab'
 * ```
 */
export const L5dHeaders = {
  /** Written by the client: the local dtab of the request, `/a=>/b;/c=>/d`. */
  ctxDtab: 'l5d-ctx-dtab',
  /** Written by the client: `<timestamp ns> <deadline ns>` since the epoch. */
  ctxDeadline: 'l5d-ctx-deadline',
  /** Set by a user: dtab rules for this request only, appended after `l5d-ctx-dtab` (so they win). */
  dtab: 'l5d-dtab',
  /** The logical name the request was identified as (`/svc/users`). */
  dstService: 'l5d-dst-service',
  /** The bound name it was sent to (`/#/io.l5d.fs/users`). */
  dstClient: 'l5d-dst-client',
  /** The part of the name the namer did not consume, when there is one. */
  dstResidual: 'l5d-dst-residual',
  /** On a response the router generated: the error message, form-URL-encoded. */
  err: 'l5d-err',
  /** On a response: `true` when the request is safe to retry. */
  retryable: 'l5d-retryable',
} as const

/**
 * The deadline carried by `l5d-ctx-deadline` headers: the strictest of every value that parses
 * (values that do not parse are ignored, as linkerd does), or `undefined`.
 *
 * @example
 * ```ts
 * readDeadlineHeaders({ 'l5d-ctx-deadline': '1000000 5000000' }) // Deadline(1, 5)
 * ```
 */
export function readDeadlineHeaders(headers: Readonly<HttpHeaders>): Deadline | undefined {
  let out: Deadline | undefined
  for (const v of headerValues(headers, L5dHeaders.ctxDeadline)) {
    const d = Deadline.parse(v)
    if (d._tag === 'Right') out = out ? Deadline.combined(out, d.right) : d.right
  }
  return out
}

/** Default longest dtab header text a request may carry (all `l5d-dtab` and `l5d-ctx-dtab` values). */
export const DEFAULT_MAX_DTAB_HEADER_LENGTH = 8192

/**
 * A request's `l5d-dtab` / `l5d-ctx-dtab` values are longer (together) than the limit
 * (`maxDtabHeaderLength`, default 8192 UTF-16 code units). Refused before any parsing; answered 400
 * like a dtab that does not parse.
 *
 * @example
 * ```ts
 * readDtabHeaders({ 'l5d-dtab': '/a=>/b;'.repeat(5000) }) // throws DtabHeaderTooLargeError
 * ```
 */
export class DtabHeaderTooLargeError extends SwitchboardError {
  /** The length found. */
  readonly length: number
  /** The limit. */
  readonly maxLength: number
  constructor(length: number, maxLength: number) {
    super(
      'DtabHeaderTooLarge',
      `l5d-dtab and l5d-ctx-dtab headers must be at most ${maxLength} characters together, got ${length}`,
    )
    this.length = length
    this.maxLength = maxLength
  }
}

function readDtabs(values: readonly string[]): Dtab {
  let out = Dtab.empty
  for (const v of values) out = out.concat(Dtab.read(v))
  return out
}

function totalLength(a: readonly string[], b: readonly string[]): number {
  let n = 0
  for (const v of a) n += v.length
  for (const v of b) n += v.length
  return n
}

/**
 * Parsed dtab headers by their text, so that a header repeated on many requests is parsed once (and,
 * being the same `Dtab` object each time, its `show()` and the path stack it selects are found at
 * once). Bounded: at most `maxEntries` texts and `maxChars` characters of text; the oldest entries go
 * first. Texts that do not parse are not kept.
 *
 * @example
 * ```ts
 * const cache = new DtabHeaderCache()
 * cache.read({ 'l5d-dtab': '/svc/users=>/svc/users-v2' }) === cache.read({ 'l5d-dtab': '/svc/users=>/svc/users-v2' }) // true
 * ```
 */
export class DtabHeaderCache {
  private readonly entries = new Map<string, Dtab>()
  private chars = 0
  readonly maxEntries: number
  readonly maxChars: number
  readonly maxLength: number

  constructor(
    options: {
      /** Most header texts kept. Default 256. */
      maxEntries?: number | undefined
      /** Most characters of header text kept (the parsed dtabs are proportional). Default 1 MiB. */
      maxChars?: number | undefined
      /** Longest header text accepted (`DtabHeaderTooLargeError` beyond). Default 8192. */
      maxLength?: number | undefined
    } = {},
  ) {
    this.maxEntries = options.maxEntries ?? 256
    this.maxChars = options.maxChars ?? 1 << 20
    this.maxLength = options.maxLength ?? DEFAULT_MAX_DTAB_HEADER_LENGTH
  }

  /** Header texts held. */
  get size(): number {
    return this.entries.size
  }

  /**
   * The local dtab of a request's headers (`l5d-ctx-dtab` values, then `l5d-dtab` values), from the
   * cache when the same text was read before. Throws `DtabHeaderTooLargeError` or `ParseError`.
   */
  read(headers: Readonly<HttpHeaders>): Dtab {
    const ctx = headerValues(headers, L5dHeaders.ctxDtab)
    const own = headerValues(headers, L5dHeaders.dtab)
    const length = totalLength(ctx, own)
    if (length > this.maxLength) throw new DtabHeaderTooLargeError(length, this.maxLength)
    if (ctx.length + own.length === 0) return Dtab.empty
    // One value (the common case) is its own key; several are joined with separators no header
    // value can contain, ctx values first.
    const key =
      ctx.length + own.length === 1
        ? (ctx.length === 1 ? '\u0001' : '') + (ctx[0] ?? own[0])!
        : `\u0001${ctx.join('\n')}\u0000${own.join('\n')}`
    const known = this.entries.get(key)
    if (known !== undefined) return known
    const dtab = readDtabs(ctx).concat(readDtabs(own))
    this.put(key, dtab)
    return dtab
  }

  private put(key: string, dtab: Dtab): void {
    if (key.length > this.maxChars) return
    this.entries.set(key, dtab)
    this.chars += key.length
    while (this.entries.size > this.maxEntries || this.chars > this.maxChars) {
      const first = this.entries.keys().next()
      if (first.done) break
      this.entries.delete(first.value)
      this.chars -= first.value.length
    }
  }
}

/**
 * The local dtab a request carries: its `l5d-ctx-dtab` values followed by its `l5d-dtab` values (so
 * the user's rules win). Throws `ParseError` when one does not parse, and `DtabHeaderTooLargeError`
 * when they are longer than `maxLength` (default 8192) together.
 *
 * @example
 * ```ts
 * readDtabHeaders({ 'l5d-dtab': '/svc/users=>/svc/users-v2' }).show() // '/svc/users=>/svc/users-v2'
 * ```
 */
export function readDtabHeaders(
  headers: Readonly<HttpHeaders>,
  maxLength: number = DEFAULT_MAX_DTAB_HEADER_LENGTH,
): Dtab {
  const ctx = headerValues(headers, L5dHeaders.ctxDtab)
  const own = headerValues(headers, L5dHeaders.dtab)
  const length = totalLength(ctx, own)
  if (length > maxLength) throw new DtabHeaderTooLargeError(length, maxLength)
  return readDtabs(ctx).concat(readDtabs(own))
}

/**
 * What a request carries from hop to hop: the local dtab (rules for this request only, applied
 * after the client's dtab) and the deadline, if any.
 *
 * @example
 * ```ts
 * const ctx: RequestContext = { dtab: Dtab.read('/svc/users => /svc/users-canary') }
 * ```
 */
export interface RequestContext {
  readonly dtab: Dtab
  readonly deadline?: Deadline | undefined
}

const EMPTY: RequestContext = { dtab: Dtab.empty }

/**
 * Reads the context of an incoming request: `l5d-ctx-dtab` then `l5d-dtab` as the local dtab, and
 * the strictest `l5d-ctx-deadline`. A dtab that does not parse is a `ParseError`, one too long a
 * `DtabHeaderTooLargeError` (both answered 400). With a `DtabHeaderCache`, a repeated header is
 * parsed once.
 *
 * @example
 * ```ts
 * const ctx = readRequestContext(req.headers) // Right({ dtab, deadline })
 * ```
 */
export function readRequestContext(
  headers: Readonly<HttpHeaders> | IncomingHttpHeaders,
  cache?: DtabHeaderCache,
): Either<ParseError | DtabHeaderTooLargeError, RequestContext> {
  const h = headers as Readonly<HttpHeaders>
  try {
    const dtab = cache ? cache.read(h) : readDtabHeaders(h)
    const deadline = readDeadlineHeaders(h)
    return right(deadline === undefined ? { dtab } : { dtab, deadline })
  } catch (error) {
    if (error instanceof ParseError || error instanceof DtabHeaderTooLargeError) return left(error)
    throw error
  }
}

const storage = new AsyncLocalStorage<RequestContext>()

/**
 * The context the current async call chain runs in (see `runWithContext`); an empty dtab and no
 * deadline outside of one.
 *
 * @example
 * ```ts
 * currentContext().dtab.show() // '' outside any request
 * ```
 */
export function currentContext(): RequestContext {
  return storage.getStore() ?? EMPTY
}

/**
 * Runs `fn` with `ctx` added to the current context (the dtab appended, the stricter deadline kept),
 * so every outbound request `fn` makes through a switchboard client binds with that dtab and carries
 * `l5d-ctx-dtab` and `l5d-ctx-deadline` to the next hop.
 *
 * @example
 * ```ts
 * await runWithContext({ dtab: Dtab.read('/svc/users => /svc/users-v2') }, () => client.fetch('http://users/'))
 * ```
 */
export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  const outer = storage.getStore()
  if (!outer) return storage.run(ctx, fn)
  const deadline =
    outer.deadline && ctx.deadline
      ? Deadline.combined(outer.deadline, ctx.deadline)
      : (outer.deadline ?? ctx.deadline)
  const dtab = outer.dtab.concat(ctx.dtab)
  return storage.run(deadline === undefined ? { dtab } : { dtab, deadline }, fn)
}

/**
 * linkerd's form-URL encoding of an `l5d-err` value (Java's `URLEncoder` with ISO-8859-1): letters,
 * digits and `.-*_` stay, a space becomes `+`, every other character `%XX` of its Latin-1 byte
 * (`?` for characters outside Latin-1).
 *
 * @example
 * ```ts
 * encodeL5dErr('Unknown destination: x') // 'Unknown+destination%3A+x'
 * ```
 */
export function encodeL5dErr(message: string): string {
  let out = ''
  for (const ch of message) {
    if (/^[A-Za-z0-9.\-*_]$/.test(ch)) out += ch
    else if (ch === ' ') out += '+'
    else {
      const code = ch.codePointAt(0)!
      const byte = code <= 0xff ? code : 0x3f
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    }
  }
  return out
}

/**
 * The error response linkerd sends for a failure of its own (its `ErrorResponder`): 400 for a
 * request it could not identify or whose `l5d-dtab` does not parse or is too large, 502 for anything else; the
 * message in `l5d-err`, `l5d-retryable: true` when the request was never sent (requeue-safe), and
 * the message as a plain-text body.
 *
 * @example
 * ```ts
 * const rep = l5dErrorResponse(new UnidentifiedError(req, 'Host header is absent'))
 * rep.status // 400
 * ```
 */
export function l5dErrorResponse(error: unknown): {
  status: number
  headers: Record<string, string>
  body: string
} {
  const message = error instanceof Error && error.message !== '' ? error.message : String(error)
  const status =
    error instanceof UnidentifiedError ||
    error instanceof ParseError ||
    error instanceof DtabHeaderTooLargeError
      ? 400
      : 502
  const headers: Record<string, string> = {
    [L5dHeaders.err]: encodeL5dErr(message),
    'content-type': 'text/plain',
    'content-length': String(Buffer.byteLength(message)),
  }
  if (isRequeueable(error)) headers[L5dHeaders.retryable] = 'true'
  return { status, headers, body: message }
}

/**
 * Wraps a Node HTTP request handler so that the `l5d-ctx-dtab`, `l5d-dtab` and `l5d-ctx-deadline`
 * of each incoming request apply to every call the handler makes through a switchboard client
 * (linkerd's server context filter). A malformed dtab header is answered 400 with `l5d-err`, and
 * the handler is not called.
 *
 * @example
 * ```ts
 * http.createServer(withL5dContext(async (req, res) => {
 *   const users = await client.fetch('http://users/api') // carries the caller's dtab and deadline
 *   res.end(await users.text())
 * }))
 * ```
 */
export function withL5dContext<Req extends IncomingMessage, Res extends ServerResponse>(
  handler: (req: Req, res: Res) => unknown,
): (req: Req, res: Res) => void {
  const cache = new DtabHeaderCache()
  return (req, res) => {
    const ctx = readRequestContext(req.headers, cache)
    if (ctx._tag === 'Left') {
      const rep = l5dErrorResponse(ctx.left)
      res.writeHead(rep.status, rep.headers)
      res.end(rep.body)
      return
    }
    runWithContext(ctx.right, () => handler(req, res))
  }
}
