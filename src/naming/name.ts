import { type Var, Var as Vars } from '../core/var.js'
import { Addr, AddrFailedError } from './addr.js'
import type { Address } from './address.js'
import { Path } from './path.js'

/**
 * A name still to be bound: a path that a dtab or a namer will rewrite further.
 *
 * @example
 * ```ts
 * Name.path('/s/users').show() // '/s/users'
 * ```
 */
export class NamePath {
  readonly kind = 'path' as const
  readonly path: Path
  constructor(path: Path) {
    this.path = path
  }
  /** Same path. */
  equals(other: Name): boolean {
    return other.kind === 'path' && this.path.equals(other.path)
  }
  /** The path's text form. */
  show(): string {
    return this.path.show()
  }
  toString(): string {
    return `Name.Path(${this.path.show()})`
  }
}

/**
 * A bound name: an identity (`id`, usually the path that named it, e.g. `/#/io.l5d.fs/users` or
 * `/$/inet/10.0.0.1/8080`), its live address set (`addr`), and the residual path the namer did not
 * consume (`path`, empty by default).
 *
 * As in Finagle, equality uses the id only: two bindings of the same id are the same name even when
 * their addresses differ, so a bound tree changes only when a different name appears.
 *
 * @example
 * ```ts
 * const users = Name.bound(Path.read('/#/disco/users'), Addr.bound([Address.read('10.0.0.1:8080')]))
 * users.show()                 // '/#/disco/users'
 * users.addr.sample().kind     // 'bound'
 * ```
 */
export class NameBound {
  readonly kind = 'bound' as const
  readonly addr: Var<Addr>
  readonly id: unknown
  readonly path: Path
  constructor(addr: Var<Addr>, id: unknown, path: Path = Path.empty) {
    this.addr = addr
    this.id = id
    this.path = path
  }

  /** The id as text: a path's `show()`, otherwise `String(id)`. */
  get idStr(): string {
    return this.id instanceof Path ? this.id.show() : String(this.id)
  }

  /** Same id (the addr and the residual path are not compared). */
  equals(other: Name): boolean {
    return other.kind === 'bound' && idEquals(this.id, other.id)
  }

  /** The id as text, which is how a bound leaf prints inside a name tree. */
  show(): string {
    return this.idStr
  }

  toString(): string {
    return `Name.Bound(${this.idStr})`
  }

  /**
   * The same name whose bound addr carries `namer_nametree_weight: weight` in its metadata (other
   * addr states are left alone). This is how binding records the weight of the innermost union.
   */
  withWeight(weight: number): NameBound {
    return new NameBound(
      this.addr.map((a) => Addr.withMetadata(a, Addr.WeightKey, weight)),
      this.id,
      this.path,
    )
  }
}

/**
 * A name: a path still to be bound, or a bound name with live addresses (Finagle's `Name`).
 *
 * @example
 * ```ts
 * const n: Name = Name.path('/s/users')
 * n.kind === 'path' // true
 * ```
 */
export type Name = NamePath | NameBound

/** Equality of bound-name ids: paths by labels, arrays as sets, objects by their `equals`. */
export function idEquals(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (a instanceof Path) return b instanceof Path && a.equals(b)
  if (Array.isArray(a)) {
    return (
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x) => b.some((y) => idEquals(x, y))) &&
      b.every((y) => a.some((x) => idEquals(x, y)))
    )
  }
  if (typeof a === 'object' && a !== null) {
    const eq = (a as { equals?: unknown }).equals
    if (typeof eq === 'function') return eq.call(a, b) === true
  }
  return false
}

/** A key for sets of ids: equal keys for equal ids (paths, strings, numbers); objects key by identity. */
export function idKey(id: unknown): unknown {
  if (id instanceof Path) return `path:${id.show()}`
  if (typeof id === 'string') return `str:${id}`
  return id
}

const emptyAddr = Addr.bound([])

function combineAddrs(addrs: readonly Addr[]): Addr {
  const bound: Address[] = []
  let anyBound = false
  let negs = 0
  let faileds = 0
  for (const a of addrs) {
    if (a.kind === 'bound') {
      anyBound = true
      bound.push(...a.addresses)
    } else if (a.kind === 'neg') negs++
    else if (a.kind === 'failed') faileds++
  }
  if (anyBound) return Addr.bound(bound)
  if (negs === addrs.length) return Addr.Neg
  if (faileds === addrs.length) return Addr.failed(new AddrFailedError())
  return Addr.Pending
}

export const Name = {
  /**
   * A name still to be bound.
   *
   * @example
   * ```ts
   * Name.path(Path.read('/s/users')).path.size // 2
   * ```
   */
  path(path: Path | string): NamePath {
    return new NamePath(typeof path === 'string' ? Path.read(path) : path)
  },

  /**
   * A bound name. `addr` may be a fixed `Addr` or a live `Var<Addr>`; `residual` is the part of the
   * looked-up path the namer did not consume.
   *
   * @example
   * ```ts
   * const live = Var.value<Addr>(Addr.Pending)
   * const n = Name.bound(Path.read('/#/disco/users'), live, Path.read('/v2'))
   * live.update(Addr.bound([Address.read('10.0.0.1:80')])) // n.addr follows
   * ```
   */
  bound(id: unknown, addr: Var<Addr> | Addr, residual: Path = Path.empty): NameBound {
    const v = 'sample' in addr ? addr : Vars.constant(addr)
    return new NameBound(v, id, residual)
  },

  /**
   * A bound name for a fixed list of addresses; its id is the list itself (Finagle's
   * `Name.bound(addrs*)`).
   *
   * @example
   * ```ts
   * Name.fromAddresses([Address.read('10.0.0.1:80')]).addr.sample().kind // 'bound'
   * ```
   */
  fromAddresses(addresses: readonly Address[]): NameBound {
    return new NameBound(Vars.constant(Addr.bound(addresses)), [...addresses])
  },

  /**
   * The bound name with no addresses (`Addr.Bound({})`); what `/$/nil` resolves to.
   *
   * @example
   * ```ts
   * Name.empty.addr.sample() // { kind: 'bound', addresses: [], metadata: {} }
   * ```
   */
  empty: new NameBound(Vars.constant(emptyAddr), []),

  /**
   * Finagle's `Name.all`: one name standing for a set of bound names (names with equal ids count
   * once). No names → `Name.empty`; one name → that name unchanged, metadata included; more → a
   * name whose id is the list of ids and whose addr is computed live: the union of every bound
   * set (with empty metadata) if any is bound, else `neg` if all are neg, else `failed` (with no
   * message) if all failed, otherwise `pending` (so a mix of neg and failed is pending).
   *
   * @example
   * ```ts
   * const a = Name.bound(Path.read('/a'), Addr.bound([Address.read('10.0.0.1:80')]))
   * const b = Name.bound(Path.read('/b'), Addr.Neg)
   * Addr.show(Name.all([a, b]).addr.sample()) // 'Bound(10.0.0.1:80)'
   * ```
   */
  all(names: Iterable<NameBound>): NameBound {
    const unique: NameBound[] = []
    for (const n of names) if (!unique.some((u) => u.equals(n))) unique.push(n)
    if (unique.length === 0) return Name.empty
    if (unique.length === 1) return unique[0]!
    const addr = Vars.collect(unique.map((n) => n.addr)).map(combineAddrs)
    return new NameBound(
      addr,
      unique.map((n) => n.id),
    )
  },
} as const
