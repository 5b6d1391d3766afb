import { type Either, isLeft, left, right } from 'fp-ts/lib/Either.js'
import { Addr } from '../../naming/addr.js'
import { Address, type Metadata } from '../../naming/address.js'
import type { DelegateTree, DelegateWeighted } from '../../naming/delegate-tree.js'
import { Dentry, Prefix } from '../../naming/dentry.js'
import { NameTree, type Weighted } from '../../naming/nametree.js'
import { Path } from '../../naming/path.js'

/** A bound name as namerd's JSON carries it: `{"addr":…,"id":"/#/…","path":"/residual"}`. */
export interface WireBound {
  /** The bound id; `undefined` when namerd sent none (a non-path id). */
  readonly id: Path | undefined
  /** The residual path (`Path.empty` for `"/"`). */
  readonly residual: Path
  /** The addr snapshot namerd embedded. */
  readonly addr: Addr
  /** The id's text (or `?`), for display. */
  show(): string
}

type Obj = Record<string, unknown>
const isObj = (u: unknown): u is Obj => typeof u === 'object' && u !== null && !Array.isArray(u)
const field = (o: Obj, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined)

function pathOf(u: unknown, what: string): Either<string, Path> {
  if (typeof u !== 'string') return left(`${what}: expected a path string, found ${JSON.stringify(u)}`)
  const p = Path.parse(u)
  return isLeft(p) ? left(`${what}: ${p.left.message}`) : right(p.right)
}

function metaOf(u: unknown, what: string): Either<string, Metadata> {
  if (u === undefined) return right({})
  if (!isObj(u)) return left(`${what}: expected an object, found ${JSON.stringify(u)}`)
  return right(u)
}

/**
 * Reads namerd's addr JSON: `{"type":"bound","addrs":[{"ip","port","meta"}],"meta":{}}`,
 * `{"type":"neg"}`, `{"type":"pending"}`, `{"type":"failed","cause":"…"}`.
 *
 * @example
 * ```ts
 * addrFromJson(JSON.parse('{"type":"neg"}')) // right(Addr.Neg)
 * ```
 */
export function addrFromJson(u: unknown): Either<string, Addr> {
  if (!isObj(u)) return left(`addr: expected an object, found ${JSON.stringify(u)}`)
  switch (field(u, 'type')) {
    case 'neg':
      return right(Addr.Neg)
    case 'pending':
      return right(Addr.Pending)
    case 'failed': {
      const cause = field(u, 'cause')
      return right(Addr.failed(typeof cause === 'string' ? cause : 'failed'))
    }
    case 'bound': {
      const addrs = field(u, 'addrs')
      if (!Array.isArray(addrs)) return left('addr.addrs: expected an array')
      const out: Address[] = []
      for (const a of addrs) {
        if (!isObj(a)) return left('addr.addrs: expected objects')
        const ip = field(a, 'ip')
        const port = field(a, 'port')
        if (typeof ip !== 'string' || typeof port !== 'number')
          return left('addr.addrs: expected {"ip","port"}')
        const meta = metaOf(field(a, 'meta'), 'addr.addrs.meta')
        if (isLeft(meta)) return meta
        try {
          out.push(Address.inet(ip, port, meta.right))
        } catch (error) {
          return left(`addr.addrs: ${(error as Error).message}`)
        }
      }
      const meta = metaOf(field(u, 'meta'), 'addr.meta')
      if (isLeft(meta)) return meta
      return right(Addr.bound(out, meta.right))
    }
    default:
      return left(
        `addr.type: expected bound, neg, pending or failed, found ${JSON.stringify(field(u, 'type'))}`,
      )
  }
}

function boundFromJson(u: unknown): Either<string, WireBound> {
  if (!isObj(u)) return left('bound: expected an object')
  const addr = addrFromJson(field(u, 'addr'))
  if (isLeft(addr)) return addr
  const rawId = field(u, 'id')
  let id: Path | undefined
  if (rawId !== undefined) {
    const p = pathOf(rawId, 'bound.id')
    if (isLeft(p)) return p
    id = p.right
  }
  const residual = field(u, 'path') === undefined ? right(Path.empty) : pathOf(field(u, 'path'), 'bound.path')
  if (isLeft(residual)) return residual
  const r = residual.right
  return right({ id, residual: r, addr: addr.right, show: () => (id === undefined ? '?' : id.show()) })
}

/**
 * Reads namerd's bound tree JSON (`/api/1/bind`): `leaf` (with `bound`), `alt`, `union`, `neg`,
 * `fail`, `empty`.
 *
 * @example
 * ```ts
 * boundTreeFromJson({ type: 'neg' }) // right(NameTree.Neg)
 * ```
 */
export function boundTreeFromJson(u: unknown): Either<string, NameTree<WireBound>> {
  if (!isObj(u)) return left(`tree: expected an object, found ${JSON.stringify(u)}`)
  switch (field(u, 'type')) {
    case 'neg':
      return right(NameTree.Neg)
    case 'fail':
      return right(NameTree.Fail)
    case 'empty':
      return right(NameTree.Empty)
    case 'leaf': {
      const b = boundFromJson(field(u, 'bound'))
      return isLeft(b) ? b : right(NameTree.leaf(b.right))
    }
    case 'alt': {
      const alt = field(u, 'alt')
      if (!Array.isArray(alt)) return left('tree.alt: expected an array')
      const trees: NameTree<WireBound>[] = []
      for (const c of alt) {
        const t = boundTreeFromJson(c)
        if (isLeft(t)) return t
        trees.push(t.right)
      }
      return right(NameTree.alt(...trees))
    }
    case 'union': {
      const union = field(u, 'union')
      if (!Array.isArray(union)) return left('tree.union: expected an array')
      const trees: Weighted<WireBound>[] = []
      for (const w of union) {
        if (!isObj(w) || typeof field(w, 'weight') !== 'number')
          return left('tree.union: expected {"weight","tree"}')
        if (!Number.isFinite(field(w, 'weight'))) return left('tree.union: expected a finite weight')
        const t = boundTreeFromJson(field(w, 'tree'))
        if (isLeft(t)) return t
        trees.push(NameTree.weighted(field(w, 'weight') as number, t.right))
      }
      return right(NameTree.union(...trees))
    }
    default:
      return left(
        `tree.type: expected leaf, alt, union, neg, fail or empty, found ${JSON.stringify(field(u, 'type'))}`,
      )
  }
}

function dentryOf(u: unknown): Either<string, Dentry> {
  if (u === undefined) return right(Dentry.nop)
  if (!isObj(u) || typeof field(u, 'prefix') !== 'string' || typeof field(u, 'dst') !== 'string')
    return left('dentry: expected {"prefix","dst"}')
  const p = Prefix.parse(field(u, 'prefix') as string)
  if (isLeft(p)) return left(`dentry.prefix: ${p.left.message}`)
  const d = NameTree.parse(field(u, 'dst') as string)
  if (isLeft(d)) return left(`dentry.dst: ${d.left.message}`)
  return right(new Dentry(p.right, d.right))
}

/**
 * Reads namerd's delegate tree JSON (`/api/1/delegate`) back into a `DelegateTree`, whose leaves
 * are the bound names namerd reported. The special paths `~` and `!` become the empty path.
 *
 * @example
 * ```ts
 * const t = delegateTreeFromJson(JSON.parse(body))
 * if (isRight(t)) console.log(DelegateTree.render(t.right))
 * ```
 */
export function delegateTreeFromJson(
  u: unknown,
  inherited?: Dentry,
): Either<string, DelegateTree<WireBound>> {
  if (!isObj(u)) return left(`delegate tree: expected an object, found ${JSON.stringify(u)}`)
  const rawPath = field(u, 'path')
  const path = rawPath === '~' || rawPath === '!' ? right(Path.empty) : pathOf(rawPath, 'delegate tree.path')
  if (isLeft(path)) return path
  // A node without a dentry inherits its parent's, or in an Alt or a Union its previous sibling's
  // (namerd leaves out long dentries there, see MAX_REPEATED_DENTRY_CHARS).
  const rawDentry = field(u, 'dentry')
  const dentry = rawDentry === undefined && inherited !== undefined ? right(inherited) : dentryOf(rawDentry)
  if (isLeft(dentry)) return dentry
  const node = { path: path.right, dentry: dentry.right }
  const kind = field(u, 'type')
  switch (kind) {
    case 'neg':
    case 'fail':
    case 'empty':
      return right({ kind, ...node })
    case 'exception': {
      const message = field(u, 'message')
      return right({ kind, ...node, error: new Error(typeof message === 'string' ? message : 'exception') })
    }
    case 'delegate': {
      const t = delegateTreeFromJson(field(u, 'delegate'), dentry.right)
      return isLeft(t) ? t : right({ kind, ...node, tree: t.right })
    }
    case 'leaf': {
      const b = boundFromJson(field(u, 'bound'))
      return isLeft(b) ? b : right({ kind, ...node, value: b.right })
    }
    case 'alt': {
      const alt = field(u, 'alt')
      if (!Array.isArray(alt)) return left('delegate tree.alt: expected an array')
      const trees: DelegateTree<WireBound>[] = []
      let inherit = dentry.right
      for (const c of alt) {
        const t = delegateTreeFromJson(c, inherit)
        if (isLeft(t)) return t
        trees.push(t.right)
        inherit = t.right.kind === 'transformation' ? dentry.right : t.right.dentry
      }
      return right({ kind, ...node, trees })
    }
    case 'union': {
      const union = field(u, 'union')
      if (!Array.isArray(union)) return left('delegate tree.union: expected an array')
      const trees: DelegateWeighted<WireBound>[] = []
      let inherit = dentry.right
      for (const w of union) {
        if (!isObj(w) || typeof field(w, 'weight') !== 'number')
          return left('delegate tree.union: expected {"weight","tree"}')
        if (!Number.isFinite(field(w, 'weight'))) return left('delegate tree.union: expected a finite weight')
        const t = delegateTreeFromJson(field(w, 'tree'), inherit)
        if (isLeft(t)) return t
        trees.push({ weight: field(w, 'weight') as number, tree: t.right })
        inherit = t.right.kind === 'transformation' ? dentry.right : t.right.dentry
      }
      return right({ kind, ...node, trees })
    }
    case 'transformation': {
      const b = boundFromJson(field(u, 'bound'))
      if (isLeft(b)) return b
      const t = delegateTreeFromJson(field(u, 'tree'))
      if (isLeft(t)) return t
      const name = field(u, 'name')
      return right({
        kind,
        path: path.right,
        name: typeof name === 'string' ? name : '?',
        value: b.right,
        tree: t.right,
      })
    }
    default:
      return left(`delegate tree.type: unknown type ${JSON.stringify(kind)}`)
  }
}
