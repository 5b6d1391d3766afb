import { isIP } from 'node:net'
import { SwitchboardError } from '../../core/errors.js'
import type { Var } from '../../core/var.js'
import { Addr } from '../../naming/addr.js'
import { Address, type Metadata } from '../../naming/address.js'
import type { DelegateTree } from '../../naming/delegate-tree.js'
import { Dentry, Prefix, type PrefixElem } from '../../naming/dentry.js'
import { Dtab } from '../../naming/dtab.js'
import { ipv6Groups } from '../../naming/ip.js'
import { labelBytes, labelFromBytes } from '../../naming/label.js'
import { NameBound } from '../../naming/name.js'
import { NameTree } from '../../naming/nametree.js'
import { Path } from '../../naming/path.js'

// Plain-object forms of the io.linkerd.mesh messages, as @grpc/proto-loader hands them over with
// `{ keepCase: true, enums: String, oneofs: true, defaults: false }`: bytes are Buffers, a oneof's
// chosen member is set (and named by a virtual field), an absent message field is missing or null.

/** `io.linkerd.mesh.Path`. */
export interface WirePath {
  elems?: Uint8Array[] | null
}
/** `io.linkerd.mesh.PathNameTree`. */
export interface WirePathNameTree {
  neg?: object | null
  fail?: object | null
  empty?: object | null
  alt?: { trees?: WirePathNameTree[] | null } | null
  union?: { trees?: { weight?: number | null; tree?: WirePathNameTree | null }[] | null } | null
  leaf?: { id?: WirePath | null } | null
}
/** `io.linkerd.mesh.Dtab.Dentry`. */
export interface WireDentry {
  prefix?: { elems?: { label?: Uint8Array | null; wildcard?: object | null }[] | null } | null
  dst?: WirePathNameTree | null
}
/** `io.linkerd.mesh.Dtab`. */
export interface WireDtab {
  dentries?: WireDentry[] | null
}
/** `io.linkerd.mesh.BoundNameTree`. */
export interface WireBoundNameTree {
  neg?: object | null
  fail?: object | null
  empty?: object | null
  alt?: { trees?: WireBoundNameTree[] | null } | null
  union?: { trees?: { weight?: number | null; tree?: WireBoundNameTree | null }[] | null } | null
  leaf?: { id?: WirePath | null; residual?: WirePath | null } | null
}
/** `io.linkerd.mesh.Endpoint`. */
export interface WireEndpoint {
  inet_af?: 'INET4' | 'INET6' | number | null
  address?: Uint8Array | null
  port?: number | null
  meta?: { nodeName?: string | null } | null
  metadata?: Record<string, string> | null
}
/** `io.linkerd.mesh.Replicas`. */
export interface WireReplicas {
  pending?: object | null
  neg?: object | null
  failed?: { message?: string | null } | null
  bound?: { endpoints?: WireEndpoint[] | null; metadata?: Record<string, string> | null } | null
}
/** `io.linkerd.mesh.BoundDelegateTree`. */
export interface WireBoundDelegateTree {
  path?: WirePath | null
  dentry?: WireDentry | null
  neg?: object | null
  fail?: object | null
  empty?: object | null
  alt?: { trees?: WireBoundDelegateTree[] | null } | null
  union?: { trees?: { weight?: number | null; tree?: WireBoundDelegateTree | null }[] | null } | null
  leaf?: { id?: WirePath | null; residual?: WirePath | null } | null
  delegate?: WireBoundDelegateTree | null
  transformation?: {
    name?: string | null
    leaf?: { id?: WirePath | null; residual?: WirePath | null } | null
    tree?: WireBoundDelegateTree | null
  } | null
  exception?: string | null
}

/**
 * A mesh message does not hold what its type promises: a missing required field, an empty path
 * label, a name tree with no node, an address of the wrong length. `field` is the dotted position
 * of the problem in the message.
 *
 * @example
 * ```ts
 * try { pathFromWire({ elems: [Buffer.alloc(0)] }, 'name') }
 * catch (e) { (e as MeshDecodeError).message } // 'name.elems[0]: a non-empty label expected but an empty label found'
 * ```
 */
export class MeshDecodeError extends SwitchboardError {
  /** Where in the message the problem is, e.g. `tree.alt.trees[1].leaf.id`. */
  readonly field: string
  constructor(field: string, detail: string) {
    super('MeshDecodeError', `${field}: ${detail}`)
    this.field = field
  }
}

/** Deepest tree nesting accepted from the wire (a hostile peer could otherwise blow the stack). */
export const MAX_WIRE_DEPTH = 100

const depthCheck = (depth: number, field: string) => {
  if (depth > MAX_WIRE_DEPTH)
    throw new MeshDecodeError(field, `a tree at most ${MAX_WIRE_DEPTH} levels deep expected`)
}

const present = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null

/**
 * A path as the mesh API sends it: one byte string per label.
 *
 * @example
 * ```ts
 * pathToWire(Path.read('/svc/users')) // { elems: [<Buffer 73 76 63>, <Buffer 75 73 65 72 73>] }
 * ```
 */
export function pathToWire(path: Path): WirePath {
  return { elems: path.segments.map((s) => Buffer.from(labelBytes(s))) }
}

/**
 * A path from the mesh API; throws `MeshDecodeError` for an empty label.
 *
 * @example
 * ```ts
 * pathFromWire({ elems: [Buffer.from('svc')] }).show() // '/svc'
 * ```
 */
export function pathFromWire(p: WirePath | null | undefined, field = 'path'): Path {
  const elems = p?.elems ?? []
  const labels = elems.map((e, i) => {
    if (e.length === 0)
      throw new MeshDecodeError(`${field}.elems[${i}]`, 'a non-empty label expected but an empty label found')
    return labelFromBytes([...e])
  })
  return Path.from(labels)
}

/**
 * A name tree of paths for the mesh API (`PathNameTree`).
 *
 * @example
 * ```ts
 * pathTreeToWire(NameTree.read('/a | ~')) // { alt: { trees: [{ leaf: … }, { neg: {} }] } }
 * ```
 */
export function pathTreeToWire(tree: NameTree<Path>): WirePathNameTree {
  switch (tree.kind) {
    case 'neg':
      return { neg: {} }
    case 'fail':
      return { fail: {} }
    case 'empty':
      return { empty: {} }
    case 'leaf':
      return { leaf: { id: pathToWire(tree.value) } }
    case 'alt':
      return { alt: { trees: tree.trees.map(pathTreeToWire) } }
    case 'union':
      return { union: { trees: tree.trees.map((w) => ({ weight: w.weight, tree: pathTreeToWire(w.tree) })) } }
  }
}

const weightOf = (w: number | null | undefined, field: string): number => {
  const x = w ?? 0
  if (typeof x !== 'number' || Number.isNaN(x) || x < 0)
    throw new MeshDecodeError(field, `a weight >= 0 expected but ${String(x)} found`)
  return x
}

/**
 * A name tree of paths from the mesh API; throws `MeshDecodeError`.
 *
 * @example
 * ```ts
 * NameTree.show(pathTreeFromWire({ fail: {} })) // '!'
 * ```
 */
export function pathTreeFromWire(
  t: WirePathNameTree | null | undefined,
  field = 'tree',
  depth = 0,
): NameTree<Path> {
  depthCheck(depth, field)
  if (!present(t)) throw new MeshDecodeError(field, 'a name tree expected but nothing found')
  if (present(t.neg)) return NameTree.Neg
  if (present(t.fail)) return NameTree.Fail
  if (present(t.empty)) return NameTree.Empty
  if (present(t.leaf)) return NameTree.leaf(pathFromWire(t.leaf.id, `${field}.leaf.id`))
  if (present(t.alt))
    return NameTree.alt(
      ...(t.alt.trees ?? []).map((x, i) => pathTreeFromWire(x, `${field}.alt.trees[${i}]`, depth + 1)),
    )
  if (present(t.union))
    return NameTree.union(
      ...(t.union.trees ?? []).map((w, i) =>
        NameTree.weighted(
          weightOf(w.weight, `${field}.union.trees[${i}].weight`),
          pathTreeFromWire(w.tree, `${field}.union.trees[${i}].tree`, depth + 1),
        ),
      ),
    )
  throw new MeshDecodeError(field, 'one of neg, fail, empty, alt, union or leaf expected but none found')
}

const prefixElemToWire = (e: PrefixElem) =>
  e.kind === 'any' ? { wildcard: {} } : { label: Buffer.from(labelBytes(e.label)) }

/**
 * A dentry for the mesh API.
 *
 * @example
 * ```ts
 * dentryToWire(Dentry.read('/svc/*=>/#/io.l5d.fs'))
 * ```
 */
export function dentryToWire(d: Dentry): WireDentry {
  return { prefix: { elems: d.prefix.elems.map(prefixElemToWire) }, dst: pathTreeToWire(d.dst) }
}

/**
 * A dentry from the mesh API; throws `MeshDecodeError`.
 *
 * @example
 * ```ts
 * dentryFromWire(dentryToWire(Dentry.read('/a=>/b'))).show() // '/a=>/b'
 * ```
 */
export function dentryFromWire(d: WireDentry | null | undefined, field = 'dentry'): Dentry {
  if (!present(d) || !present(d.prefix) || !present(d.dst))
    throw new MeshDecodeError(field, 'a dentry with a prefix and a dst expected')
  const elems = (d.prefix.elems ?? []).map((e, i): PrefixElem => {
    if (present(e.wildcard)) return Prefix.any
    if (present(e.label) && e.label.length > 0) return Prefix.label(labelFromBytes([...e.label]))
    throw new MeshDecodeError(`${field}.prefix.elems[${i}]`, 'a non-empty label or a wildcard expected')
  })
  return new Dentry(Prefix.from(elems), pathTreeFromWire(d.dst, `${field}.dst`))
}

/**
 * A dtab for the mesh API.
 *
 * @example
 * ```ts
 * dtabToWire(Dtab.read('/svc=>/#/io.l5d.fs')).dentries?.length // 1
 * ```
 */
export function dtabToWire(d: Dtab): WireDtab {
  return { dentries: d.entries.map(dentryToWire) }
}

/**
 * A dtab from the mesh API (absent means empty); throws `MeshDecodeError`.
 *
 * @example
 * ```ts
 * dtabFromWire(undefined).show() // ''
 * ```
 */
export function dtabFromWire(d: WireDtab | null | undefined, field = 'dtab'): Dtab {
  const entries = (d?.dentries ?? []).map((e, i) => dentryFromWire(e, `${field}.dentries[${i}]`))
  return Dtab.of(...entries)
}

/**
 * A bound tree for the mesh API: leaves carry their id and residual path; a leaf whose id is not a
 * path becomes `neg`, as in namerd.
 *
 * @example
 * ```ts
 * boundTreeToWire(NameTree.leaf(Name.bound(Path.read('/#/io.l5d.fs/users'), Addr.Pending)))
 * ```
 */
export function boundTreeToWire(tree: NameTree<NameBound>): WireBoundNameTree {
  switch (tree.kind) {
    case 'neg':
      return { neg: {} }
    case 'fail':
      return { fail: {} }
    case 'empty':
      return { empty: {} }
    case 'leaf': {
      const id = tree.value.id
      if (!(id instanceof Path)) return { neg: {} }
      return { leaf: { id: pathToWire(id), residual: pathToWire(tree.value.path) } }
    }
    case 'alt':
      return { alt: { trees: tree.trees.map(boundTreeToWire) } }
    case 'union':
      return {
        union: { trees: tree.trees.map((w) => ({ weight: w.weight, tree: boundTreeToWire(w.tree) })) },
      }
  }
}

/** How a decoder turns a bound id into a live addr (the interpreter's resolver streams). */
export type AddrOfId = (id: Path) => Var<Addr>

/**
 * A bound tree from the mesh API. Each leaf's addr comes from `addrOf(id)`; a leaf under a
 * weighted union gets the union weight in its addr metadata (`namer_nametree_weight`), as binding
 * locally does. Throws `MeshDecodeError`.
 *
 * @example
 * ```ts
 * boundTreeFromWire(rsp.tree, (id) => resolverVar(id))
 * ```
 */
export function boundTreeFromWire(
  t: WireBoundNameTree | null | undefined,
  addrOf: AddrOfId,
  field = 'tree',
): NameTree<NameBound> {
  const go = (
    x: WireBoundNameTree | null | undefined,
    f: string,
    depth: number,
    weight: number | undefined,
  ): NameTree<NameBound> => {
    depthCheck(depth, f)
    if (!present(x)) throw new MeshDecodeError(f, 'a bound tree expected but nothing found')
    if (present(x.neg)) return NameTree.Neg
    if (present(x.fail)) return NameTree.Fail
    if (present(x.empty)) return NameTree.Empty
    if (present(x.leaf)) {
      if (!present(x.leaf.id)) throw new MeshDecodeError(`${f}.leaf.id`, 'a bound id expected')
      const id = pathFromWire(x.leaf.id, `${f}.leaf.id`)
      const name = new NameBound(addrOf(id), id, pathFromWire(x.leaf.residual, `${f}.leaf.residual`))
      return NameTree.leaf(weight === undefined ? name : name.withWeight(weight))
    }
    if (present(x.alt))
      return NameTree.alt(
        ...(x.alt.trees ?? []).map((c, i) => go(c, `${f}.alt.trees[${i}]`, depth + 1, weight)),
      )
    if (present(x.union))
      return NameTree.union(
        ...(x.union.trees ?? []).map((w, i) => {
          const wf = `${f}.union.trees[${i}]`
          const wt = weightOf(w.weight, `${wf}.weight`)
          return NameTree.weighted(wt, go(w.tree, `${wf}.tree`, depth + 1, wt))
        }),
      )
    throw new MeshDecodeError(f, 'one of neg, fail, empty, alt, union or leaf expected but none found')
  }
  return go(t, field, 0, undefined)
}

/** linkerd prefixes an exception node's message with this. */
const EXCEPTION_PREFIX = 'BoundDelegateTree Exception: '

const messageOf = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === 'string' ? e : 'No underlying exception message'

const boundLeaf = (n: NameBound) =>
  n.id instanceof Path ? { id: pathToWire(n.id), residual: pathToWire(n.path) } : undefined

/**
 * A delegation tree for the mesh API (`BoundDelegateTree`), as namerd writes it.
 *
 * @example
 * ```ts
 * delegateTreeToWire(await interpreter.delegate(dtab, path).toPromise())
 * ```
 */
export function delegateTreeToWire(t: DelegateTree<NameBound>): WireBoundDelegateTree {
  if (t.kind === 'transformation') {
    const leaf = boundLeaf(t.value)
    return {
      path: pathToWire(t.path),
      transformation: { name: t.name, ...(leaf ? { leaf } : {}), tree: delegateTreeToWire(t.tree) },
    }
  }
  const base = { path: pathToWire(t.path), dentry: dentryToWire(t.dentry) }
  switch (t.kind) {
    case 'neg':
      return { ...base, neg: {} }
    case 'fail':
      return { ...base, fail: {} }
    case 'empty':
      return { ...base, empty: {} }
    case 'exception':
      return { ...base, exception: `${EXCEPTION_PREFIX}${messageOf(t.error)}` }
    case 'delegate':
      return { ...base, delegate: delegateTreeToWire(t.tree) }
    case 'leaf': {
      const leaf = boundLeaf(t.value)
      return leaf ? { ...base, leaf } : { ...base, neg: {} }
    }
    case 'alt':
      return { ...base, alt: { trees: t.trees.map(delegateTreeToWire) } }
    case 'union':
      return {
        ...base,
        union: { trees: t.trees.map((w) => ({ weight: w.weight, tree: delegateTreeToWire(w.tree) })) },
      }
  }
}

/**
 * A delegation tree from the mesh API; leaves' addrs come from `addrOf`. Throws `MeshDecodeError`.
 *
 * @example
 * ```ts
 * delegateTreeFromWire(rsp.tree, (id) => resolverVar(id))
 * ```
 */
export function delegateTreeFromWire(
  t: WireBoundDelegateTree | null | undefined,
  addrOf: AddrOfId,
  field = 'tree',
  depth = 0,
): DelegateTree<NameBound> {
  depthCheck(depth, field)
  if (!present(t)) throw new MeshDecodeError(field, 'a delegate tree expected but nothing found')
  const path = pathFromWire(t.path, `${field}.path`)
  const leafOf = (l: { id?: WirePath | null; residual?: WirePath | null }, f: string) => {
    if (!present(l.id)) throw new MeshDecodeError(`${f}.id`, 'a bound id expected')
    const id = pathFromWire(l.id, `${f}.id`)
    return new NameBound(addrOf(id), id, pathFromWire(l.residual, `${f}.residual`))
  }
  if (present(t.transformation)) {
    const tr = t.transformation
    const value = present(tr.leaf)
      ? leafOf(tr.leaf, `${field}.transformation.leaf`)
      : new NameBound(addrOf(path), path)
    return {
      kind: 'transformation',
      path,
      name: tr.name ?? '',
      value,
      tree: delegateTreeFromWire(tr.tree, addrOf, `${field}.transformation.tree`, depth + 1),
    }
  }
  const dentry = present(t.dentry) ? dentryFromWire(t.dentry, `${field}.dentry`) : Dentry.nop
  if (present(t.neg)) return { kind: 'neg', path, dentry }
  if (present(t.fail)) return { kind: 'fail', path, dentry }
  if (present(t.empty)) return { kind: 'empty', path, dentry }
  if (typeof t.exception === 'string') {
    const m = t.exception.startsWith(EXCEPTION_PREFIX)
      ? t.exception.slice(EXCEPTION_PREFIX.length)
      : t.exception
    return { kind: 'exception', path, dentry, error: new Error(m) }
  }
  if (present(t.delegate))
    return {
      kind: 'delegate',
      path,
      dentry,
      tree: delegateTreeFromWire(t.delegate, addrOf, `${field}.delegate`, depth + 1),
    }
  if (present(t.leaf)) return { kind: 'leaf', path, dentry, value: leafOf(t.leaf, `${field}.leaf`) }
  if (present(t.alt))
    return {
      kind: 'alt',
      path,
      dentry,
      trees: (t.alt.trees ?? []).map((c, i) =>
        delegateTreeFromWire(c, addrOf, `${field}.alt.trees[${i}]`, depth + 1),
      ),
    }
  if (present(t.union))
    return {
      kind: 'union',
      path,
      dentry,
      trees: (t.union.trees ?? []).map((w, i) => ({
        weight: weightOf(w.weight, `${field}.union.trees[${i}].weight`),
        tree: delegateTreeFromWire(w.tree, addrOf, `${field}.union.trees[${i}].tree`, depth + 1),
      })),
    }
  throw new MeshDecodeError(field, 'a delegate tree node expected but none found')
}

// ---- addresses --------------------------------------------------------------------------------

function ipBytes(host: string): { af: 'INET4' | 'INET6'; bytes: Buffer } | undefined {
  const kind = isIP(host)
  if (kind === 4) return { af: 'INET4', bytes: Buffer.from(host.split('.').map(Number)) }
  if (kind !== 6) return undefined
  const out = Buffer.alloc(16)
  for (const [i, g] of ipv6Groups(host).entries()) out.writeUInt16BE(g, i * 2)
  // An IPv4-mapped address is an IPv4 address to the JVM (InetAddress.getByName).
  if (out.subarray(0, 10).every((b) => b === 0) && out[10] === 0xff && out[11] === 0xff)
    return { af: 'INET4', bytes: out.subarray(12) }
  return { af: 'INET6', bytes: out }
}

function ipText(bytes: Uint8Array, field: string): string {
  if (bytes.length === 4) return [...bytes].join('.')
  if (bytes.length === 16) {
    const groups: string[] = []
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
    // The URL parser prints an IPv6 address in its canonical (RFC 5952) form.
    return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1)
  }
  throw new MeshDecodeError(field, `a 4- or 16-byte IP address expected but ${bytes.length} bytes found`)
}

const stringMap = (m: Metadata): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined || v === null || typeof v === 'function' || typeof v === 'symbol') continue
    out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
  return out
}

/** Metadata keys whose values are numbers to the balancer (weights); the wire sends strings. */
const NUMERIC_KEYS = new Set<string>([Addr.WeightKey, Address.WeightKey])

const metadataFromWire = (m: Record<string, string> | null | undefined): Metadata => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(m ?? {})) {
    const n = Number(v)
    out[k] = NUMERIC_KEYS.has(k) && v.trim() !== '' && Number.isFinite(n) ? n : v
  }
  return out
}

/**
 * An addr as the mesh Resolver sends it (`Replicas`). Addresses whose host is not an IP literal
 * are left out (the wire carries IP bytes), as namerd does; metadata values become strings.
 *
 * @example
 * ```ts
 * replicasToWire(Addr.bound([Address.read('10.0.0.1:80')]))
 * // { bound: { endpoints: [{ inet_af: 'INET4', address: <0a 00 00 01>, port: 80, … }], metadata: {} } }
 * ```
 */
export function replicasToWire(addr: Addr): WireReplicas {
  switch (addr.kind) {
    case 'pending':
      return { pending: {} }
    case 'neg':
      return { neg: {} }
    case 'failed':
      return { failed: { message: messageOf(addr.cause) } }
    case 'bound': {
      const endpoints: WireEndpoint[] = []
      for (const a of addr.addresses) {
        const ip = ipBytes(a.host)
        if (ip === undefined) continue
        const nodeName = a.metadata['nodeName']
        endpoints.push({
          inet_af: ip.af,
          address: ip.bytes,
          port: a.port,
          ...(typeof nodeName === 'string' ? { meta: { nodeName } } : {}),
          metadata: stringMap(a.metadata),
        })
      }
      return { bound: { endpoints, metadata: stringMap(addr.metadata) } }
    }
  }
}

/**
 * An addr from a mesh `Replicas` message; a message with no result is `neg`, as in linkerd.
 * Throws `MeshDecodeError` for an address of the wrong length or a port out of range.
 *
 * @example
 * ```ts
 * Addr.show(replicasFromWire({ neg: {} })) // 'Neg'
 * ```
 */
export function replicasFromWire(r: WireReplicas | null | undefined, field = 'replicas'): Addr {
  if (!present(r)) return Addr.Neg
  if (present(r.pending)) return Addr.Pending
  if (present(r.neg)) return Addr.Neg
  if (present(r.failed)) return Addr.failed(r.failed.message ?? 'unknown')
  if (present(r.bound)) {
    const addresses = (r.bound.endpoints ?? []).map((e, i) => {
      const f = `${field}.bound.endpoints[${i}]`
      const host = ipText(e.address ?? new Uint8Array(0), `${f}.address`)
      const port = e.port ?? 0
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new MeshDecodeError(`${f}.port`, `a port 0..65535 expected but ${port} found`)
      const meta = metadataFromWire(e.metadata)
      const nodeName = e.meta?.nodeName
      return Address.inet(host, port, nodeName ? { ...meta, nodeName } : meta)
    })
    return Addr.bound(addresses, metadataFromWire(r.bound.metadata))
  }
  return Addr.Neg
}
