import { type Either, isLeft, left, right } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { parseDocument } from 'yaml'
import { SwitchboardError } from '../core/errors.js'

/** One thing wrong with a configuration: where, and what. */
export interface ConfigProblem {
  /** The field, as `interfaces[0].port`; empty for the document itself. */
  readonly path: string
  /** What was expected and what was found there. */
  readonly message: string
}

/**
 * A configuration that cannot be used. The message lists every problem, one per line, each
 * naming its field, what was expected and what was found.
 *
 * @example
 * ```ts
 * const r = decodeConfig(namerdConfigCodec(), { interfaces: [] })
 * if (isLeft(r)) console.error(r.left.message)
 * // storage: expected a storage object, found nothing (the field is required)
 * // interfaces: One or more interfaces must be specified
 * ```
 */
export class ConfigError extends SwitchboardError {
  readonly problems: readonly ConfigProblem[]
  readonly source: string | undefined
  constructor(problems: readonly ConfigProblem[], source?: string) {
    const head = source === undefined ? 'invalid configuration' : `invalid configuration in ${source}`
    super(
      'ConfigError',
      `${head}:\n${problems.map((p) => `  ${p.path === '' ? '(document)' : p.path}: ${p.message}`).join('\n')}`,
    )
    this.problems = problems
    this.source = source
  }
}

/** A short rendering of a found value for an error message. */
export function showFound(value: unknown): string {
  if (value === undefined) return 'nothing'
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function pathOf(context: t.Context): string {
  let out = ''
  for (const entry of context.slice(1)) {
    if (entry.key === '') continue
    if (/^\d+$/.test(entry.key)) out += `[${entry.key}]`
    else out += out === '' ? entry.key : `.${entry.key}`
  }
  return out
}

function problemOf(error: t.ValidationError): ConfigProblem {
  const path = pathOf(error.context)
  if (error.message !== undefined) return { path, message: error.message }
  const last = error.context[error.context.length - 1]
  const expected = last?.type.name ?? 'a value'
  const found = error.value === undefined ? 'nothing (the field is required)' : `${showFound(error.value)}`
  return { path, message: `expected ${expected}, found ${found}` }
}

/**
 * Decodes a configuration value, collecting every problem (not just the first) into a
 * `ConfigError`.
 *
 * @example
 * ```ts
 * decodeConfig(t.type({ port: t.number }), { port: 'x' }) // left(ConfigError: port: expected number, found "x")
 * ```
 */
export function decodeConfig<A>(
  codec: t.Decoder<unknown, A>,
  value: unknown,
  source?: string,
): Either<ConfigError, A> {
  const result = codec.decode(value)
  if (isLeft(result)) {
    const seen = new Set<string>()
    const problems: ConfigProblem[] = []
    for (const e of result.left) {
      const p = problemOf(e)
      const k = `${p.path}\u0000${p.message}`
      if (seen.has(k)) continue
      seen.add(k)
      problems.push(p)
    }
    return left(new ConfigError(problems, source))
  }
  return right(result.right)
}

/**
 * Parses YAML (or JSON, which is YAML) text into a plain value; a syntax error becomes a
 * `ConfigError` with its line and column.
 *
 * @example
 * ```ts
 * parseConfigText('admin:\n  port: 9991\n') // right({ admin: { port: 9991 } })
 * ```
 */
export function parseConfigText(text: string, source?: string): Either<ConfigError, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return left(
      new ConfigError(
        doc.errors.map((e) => ({
          path: '',
          message: e.linePos
            ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`
            : e.message.split('\n')[0]!,
        })),
        source,
      ),
    )
  }
  return right(doc.toJS())
}

type Props = Record<string, t.Mixed>
type Struct<R extends Props, O extends Props> = { [K in keyof R]: t.TypeOf<R[K]> } & {
  [K in keyof O]?: t.TypeOf<O[K]>
}

/**
 * An object codec with required and optional fields that, unlike `t.type`, rejects fields it does
 * not know (a typo such as `prot:` is an error naming the field, as in linkerd).
 *
 * @example
 * ```ts
 * const admin = struct('an admin object', {}, { ip: t.string, port: t.number })
 * admin.decode({ prot: 1 }) // left: prot: unknown field (known fields: ip, port)
 * ```
 */
export function struct<R extends Props, O extends Props>(
  name: string,
  required: R,
  optional: O,
): t.Type<Struct<R, O>, unknown, unknown> {
  const known = [...Object.keys(required), ...Object.keys(optional)]
  return new t.Type<Struct<R, O>, unknown, unknown>(
    name,
    (u): u is Struct<R, O> => typeof u === 'object' && u !== null,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u))
        return t.failure(u, c, `expected ${name}, found ${showFound(u)}`)
      const input = u as Record<string, unknown>
      const out: Record<string, unknown> = {}
      const errors: t.Errors = []
      // Fields are checked in the order the document gives them, then the missing required ones,
      // so problems are listed as a reader meets them.
      const order = [...Object.keys(input), ...Object.keys(required).filter((k) => !(k in input))]
      for (const k of order) {
        const req = Object.hasOwn(required, k) ? required[k] : undefined
        const opt = Object.hasOwn(optional, k) ? optional[k] : undefined
        const codec = req ?? opt
        if (codec === undefined) {
          errors.push({
            value: input[k],
            context: t.appendContext(c, k, t.never, input[k]),
            message:
              known.length === 0
                ? 'unknown field (this object takes no fields)'
                : `unknown field (known fields: ${known.join(', ')})`,
          })
          continue
        }
        if (req === undefined && (input[k] === undefined || input[k] === null)) continue
        const r = codec.validate(input[k], t.appendContext(c, k, codec, input[k]))
        if (isLeft(r)) errors.push(...r.left)
        else out[k] = r.right
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out as Struct<R, O>)
    },
    (a) => a,
  )
}

/**
 * A codec from a parse function: `parse` returns the value or a message saying what is wrong.
 *
 * @example
 * ```ts
 * const even = parsed('an even number', (u) => (typeof u === 'number' && u % 2 === 0 ? right(u) : left('odd')))
 * ```
 */
export function parsed<A>(
  name: string,
  parse: (u: unknown) => Either<string, A>,
): t.Type<A, unknown, unknown> {
  return new t.Type<A, unknown, unknown>(
    name,
    (u): u is A => !isLeft(parse(u)),
    (u, c) => {
      const r = parse(u)
      return isLeft(r) ? t.failure(u, c, r.left) : t.success(r.right)
    },
    (a) => a,
  )
}

/** A TCP port, 0 to 65535 (0 asks the OS for a free one). */
export const portCodec = parsed<number>('a port', (u) =>
  typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= 65535
    ? right(u)
    : left(`expected an integer port from 0 to 65535, found ${showFound(u)}`),
)

/** A non-empty string. */
export const nonEmptyString = parsed<string>('a non-empty string', (u) =>
  typeof u === 'string' && u.length > 0
    ? right(u)
    : left(`expected a non-empty string, found ${showFound(u)}`),
)

/** One plugin kind: its `kind` name and the codec of its whole config object (including `kind`). */
export interface ConfigKind<A> {
  readonly kind: string
  readonly codec: t.Decoder<unknown, A>
}

/**
 * A codec for a plugin object chosen by its `kind` field, among `kinds`: an unknown kind is an
 * error listing the known ones, a known kind is decoded by its own codec (so its errors name its
 * own fields).
 *
 * @example
 * ```ts
 * const storage = byKind('a storage object', [inMemoryStoreKind, fileStoreKind])
 * ```
 */
export function byKind<A>(name: string, kinds: readonly ConfigKind<A>[]): t.Type<A, unknown, unknown> {
  const byName = new Map(kinds.map((k) => [k.kind, k]))
  return new t.Type<A, unknown, unknown>(
    name,
    (u): u is A => typeof u === 'object' && u !== null,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u))
        return t.failure(u, c, `expected ${name}, found ${showFound(u === null ? undefined : u)}`)
      const kind = (u as Record<string, unknown>)['kind']
      const known = [...byName.keys()].join(', ')
      if (typeof kind !== 'string')
        return t.failure(
          kind,
          t.appendContext(c, 'kind', t.string, kind),
          `expected one of ${known}, found ${showFound(kind)}`,
        )
      const k = byName.get(kind)
      if (!k)
        return t.failure(
          kind,
          t.appendContext(c, 'kind', t.string, kind),
          `unknown kind ${JSON.stringify(kind)} (known kinds: ${known})`,
        )
      const r = k.codec.decode(u)
      if (isLeft(r)) return t.failures(r.left.map((e) => ({ ...e, context: [...c, ...e.context.slice(1)] })))
      return t.success(r.right)
    },
    (a) => a,
  )
}
