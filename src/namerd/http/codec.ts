import { type Either, isLeft, left, right } from 'fp-ts/lib/Either.js'
import { Dentry, Prefix } from '../../naming/dentry.js'
import { Dtab } from '../../naming/dtab.js'
import { NameTree } from '../../naming/nametree.js'

/** The media types namerd's dtab endpoints speak. `text/plain` is an alias of `application/dtab`. */
export type DtabMediaType = 'application/json' | 'application/dtab' | 'text/plain'

const DTAB_MEDIA_TYPES: readonly DtabMediaType[] = ['application/json', 'application/dtab', 'text/plain']

/** The bare media type of a header value: lower-cased, parameters (`;charset=…`, `;q=…`) dropped. */
export function bareMediaType(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase()
}

/**
 * The dtab media type of a request's `Content-Type`, or `undefined` when missing or unknown.
 *
 * @example
 * ```ts
 * dtabContentType('application/json;charset=UTF-8') // 'application/json'
 * dtabContentType('text/html')                      // undefined
 * ```
 */
export function dtabContentType(value: string | undefined): DtabMediaType | undefined {
  if (value === undefined) return undefined
  const bare = bareMediaType(value)
  return DTAB_MEDIA_TYPES.find((m) => m === bare)
}

/**
 * namerd's `Accept` negotiation: the first entry, in header order (q-values ignored), that is a
 * dtab media type wins; none (or no header, or only `*\/*`) means JSON.
 *
 * @example
 * ```ts
 * negotiateDtabType('text/html, application/dtab;q=0.1, application/json') // 'application/dtab'
 * ```
 */
export function negotiateDtabType(accept: string | undefined): DtabMediaType {
  if (accept === undefined) return 'application/json'
  for (const entry of accept.split(',')) {
    const found = dtabContentType(entry)
    if (found) return found
  }
  return 'application/json'
}

/**
 * A dtab as namerd's JSON: `[{"prefix":"/a","dst":"/b"}]`, compact, fields in that order.
 *
 * @example
 * ```ts
 * dtabToJson(Dtab.read('/yeezy=>/yeezus')) // '[{"prefix":"/yeezy","dst":"/yeezus"}]'
 * ```
 */
export function dtabToJson(dtab: Dtab): string {
  return JSON.stringify(dtab.entries.map((d) => ({ prefix: d.prefix.show(), dst: NameTree.show(d.dst) })))
}

/** A dtab in the given media type, without the trailing newline. */
export function renderDtab(dtab: Dtab, type: DtabMediaType): string {
  return type === 'application/json' ? dtabToJson(dtab) : dtab.show()
}

/** Why a dtab body could not be read; `message` is the response body (may be empty, as in namerd). */
export interface DtabBodyError {
  readonly message: string
}

/**
 * Reads namerd's JSON dtab form. Every element must be an object with exactly the string fields
 * `prefix` and `dst`; a `null` element gives namerd's `The dtab contains invalid dentries: <body>`.
 *
 * @example
 * ```ts
 * dtabFromJson('[{"prefix":"/a","dst":"/b | /c"}]') // right(Dtab /a=>/b | /c)
 * ```
 */
export function dtabFromJson(body: string): Either<DtabBodyError, Dtab> {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (error) {
    return left({ message: `Invalid JSON dtab: ${(error as Error).message}` })
  }
  if (!Array.isArray(json))
    return left({ message: 'Invalid JSON dtab: expected an array of {"prefix","dst"} objects' })
  const entries: Dentry[] = []
  for (let i = 0; i < json.length; i++) {
    const e: unknown = json[i]
    if (e === null) return left({ message: `The dtab contains invalid dentries: ${body}` })
    if (typeof e !== 'object' || Array.isArray(e))
      return left({ message: `Invalid JSON dtab: dentry ${i} is not an object` })
    const fields = e as Record<string, unknown>
    const extra = Object.keys(fields).filter((k) => k !== 'prefix' && k !== 'dst')
    if (extra.length > 0)
      return left({ message: `Invalid JSON dtab: dentry ${i} has unknown field "${extra[0]}"` })
    const { prefix, dst } = fields
    if (typeof prefix !== 'string' || typeof dst !== 'string')
      return left({ message: `Invalid JSON dtab: dentry ${i} needs string fields "prefix" and "dst"` })
    const p = Prefix.parse(prefix)
    if (isLeft(p)) return left({ message: p.left.message })
    const d = NameTree.parse(dst)
    if (isLeft(d)) return left({ message: d.left.message })
    entries.push(new Dentry(p.right, d.right))
  }
  return right(new Dtab(entries))
}

/**
 * Reads a request body in the given media type.
 *
 * @example
 * ```ts
 * readDtabBody('/a=>/b;/c=>/d', 'application/dtab') // right(Dtab)
 * readDtabBody('/a=>', 'text/plain')                // left({ message: "'/' expected but end of input found at '/a=>[]'" })
 * ```
 */
export function readDtabBody(body: string, type: DtabMediaType): Either<DtabBodyError, Dtab> {
  if (type === 'application/json') return dtabFromJson(body)
  const r = Dtab.parse(body)
  return isLeft(r) ? left({ message: r.left.message }) : right(r.right)
}
