import { isIP } from 'node:net'
import { Addr } from './addr.js'
import { Address } from './address.js'
import type { DelegateTree } from './delegate-tree.js'
import { Dentry } from './dentry.js'
import { ipv6Groups } from './ip.js'
import type { NameBound } from './name.js'
import { NameTree } from './nametree.js'
import { Path } from './path.js'
import { javaDoubleString } from './weight.js'

// The encoders below write the JSON that linkerd/namerd's Jackson mapper writes: `type` first, the
// other fields in declaration order, absent (null) fields left out, doubles in Java's form (`1.0`).
// They build the text directly because JSON.stringify cannot print a double as `1.0`.

const str = (s: string) => JSON.stringify(s)

/** Java's `Double.toString` as Jackson writes it (non-finite values are quoted). */
function double(x: number): string {
  return Number.isFinite(x) ? javaDoubleString(x) : str(javaDoubleString(x))
}

/** Metadata keys whose values are doubles on the JVM, so `1` prints as `1.0`. */
const DOUBLE_KEYS = new Set<string>([Addr.WeightKey, Address.WeightKey])

function value(v: unknown): string | undefined {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined
  if (typeof v === 'bigint') return v.toString()
  return JSON.stringify(v) ?? 'null'
}

function metadata(meta: Readonly<Record<string, unknown>>): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(meta)) {
    const text = typeof v === 'number' && DOUBLE_KEYS.has(k) ? double(v) : value(v)
    if (text !== undefined) parts.push(`${str(k)}:${text}`)
  }
  return `{${parts.join(',')}}`
}

/**
 * The textual IP the JVM's `InetAddress.getHostAddress` prints: IPv4 as is, IPv6 as eight
 * uncompressed hex groups (`::1` → `0:0:0:0:0:0:0:1`), an IPv4-mapped IPv6 address as IPv4;
 * `undefined` for a host name (linkerd drops addresses that are not resolved).
 *
 * @example
 * ```ts
 * javaHostAddress('::1')      // '0:0:0:0:0:0:0:1'
 * javaHostAddress('users')    // undefined
 * ```
 */
export function javaHostAddress(host: string): string | undefined {
  const kind = isIP(host)
  if (kind === 4) return host
  if (kind !== 6) return undefined
  const scope = host.split('%')[1]
  const groups = ipv6Groups(host)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [a = 0, b = 0] = [groups[6], groups[7]]
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`
  }
  return groups.map((g) => g.toString(16)).join(':') + (scope === undefined ? '' : `%${scope}`)
}

function address(a: Address): string | undefined {
  const ip = javaHostAddress(a.host)
  if (ip === undefined) return undefined
  return `{"ip":${str(ip)},"port":${a.port},"meta":${metadata(a.metadata)}}`
}

function message(error: unknown): string | undefined {
  if (error instanceof Error) return error.message === '' ? undefined : error.message
  if (error === undefined || error === null) return undefined
  return String(error)
}

/**
 * An addr as namerd writes it (`/api/1/addr`, `/api/1/resolve`, and inside every bound leaf):
 * `{"type":"bound","addrs":[{"ip":…,"port":…,"meta":{…}}],"meta":{…}}`, `{"type":"neg"}`,
 * `{"type":"pending"}` or `{"type":"failed","cause":"<message>"}` (no `cause` when the error has
 * no message). Addresses whose host is not an IP literal are left out, as linkerd does.
 *
 * @example
 * ```ts
 * addrJson(Addr.bound([Address.read('127.0.0.1:8080')]))
 * // '{"type":"bound","addrs":[{"ip":"127.0.0.1","port":8080,"meta":{}}],"meta":{}}'
 * ```
 */
export function addrJson(addr: Addr): string {
  switch (addr.kind) {
    case 'bound': {
      const addrs = addr.addresses.map(address).filter((a) => a !== undefined)
      return `{"type":"bound","addrs":[${addrs.join(',')}],"meta":${metadata(addr.metadata)}}`
    }
    case 'failed': {
      const m = message(addr.cause)
      return m === undefined ? '{"type":"failed"}' : `{"type":"failed","cause":${str(m)}}`
    }
    case 'neg':
      return '{"type":"neg"}'
    case 'pending':
      return '{"type":"pending"}'
  }
}

/**
 * A bound name as namerd writes it: `{"addr":<addr>,"id":"<id path>","path":"<residual>"}`; an
 * empty residual prints `"/"`. An id that is not a path is replaced by `fallbackId` (the node's
 * path in a delegate tree) or left out.
 *
 * @example
 * ```ts
 * boundJson(Name.bound(Path.read('/$/inet/127.0.0.1/80'), Addr.Neg), Addr.Neg)
 * // '{"addr":{"type":"neg"},"id":"/$/inet/127.0.0.1/80","path":"/"}'
 * ```
 */
export function boundJson(name: NameBound, addr: Addr, fallbackId?: Path): string {
  const id = name.id instanceof Path ? name.id : fallbackId
  const idPart = id === undefined ? '' : `,"id":${str(id.show())}`
  return `{"addr":${addrJson(addr)}${idPart},"path":${str(name.path.show())}}`
}

/**
 * How an encoder learns a bound name's addr; the default samples it now.
 *
 * @example
 * ```ts
 * const pendingAsNeg: AddrOf = (n) => (n.addr.sample().kind === 'pending' ? Addr.Neg : n.addr.sample())
 * ```
 */
export type AddrOf = (name: NameBound) => Addr

const sampleAddr: AddrOf = (name) => name.addr.sample()

/**
 * A bound tree as namerd's `/api/1/bind` writes it: like the delegate JSON but with no `path` and
 * no `dentry` anywhere: `{"type":"leaf","bound":{…}}`, `{"type":"alt","alt":[…]}`,
 * `{"type":"union","union":[{"weight":1.0,"tree":…}]}`, `{"type":"neg"}`, `{"type":"fail"}`,
 * `{"type":"empty"}`. Each leaf embeds `addrOf(leaf)` (default: the addr's current value; namerd
 * first waits for settled addrs, see `settleAddrs`).
 *
 * @example
 * ```ts
 * boundTreeJson(NameTree.Neg) // '{"type":"neg"}'
 * ```
 */
export function boundTreeJson(tree: NameTree<NameBound>, addrOf: AddrOf = sampleAddr): string {
  switch (tree.kind) {
    case 'leaf':
      return `{"type":"leaf","bound":${boundJson(tree.value, addrOf(tree.value))}}`
    case 'alt':
      return `{"type":"alt","alt":[${tree.trees.map((t) => boundTreeJson(t, addrOf)).join(',')}]}`
    case 'union': {
      const ws = tree.trees.map(
        (w) => `{"weight":${double(w.weight)},"tree":${boundTreeJson(w.tree, addrOf)}}`,
      )
      return `{"type":"union","union":[${ws.join(',')}]}`
    }
    default:
      return `{"type":"${tree.kind}"}`
  }
}

function dentryPart(d: Dentry): string {
  if (d.equiv(Dentry.nop)) return ''
  return `,"dentry":{"prefix":${str(d.prefix.show())},"dst":${str(NameTree.show(d.dst))}}`
}

const FAIL = Path.of('$', 'fail')

/**
 * A delegate tree as namerd's `/api/1/delegate` (and linkerd's delegator) writes it: one object
 * per node, `type` first, then `path`, `dentry` (`{"prefix":…,"dst":…}`, left out for the root's
 * no-op dentry) and the node's own field: `delegate`, `bound`, `alt`, `union` (with
 * `{"weight":…,"tree":…}` items) or `message`. An explicit `~` prints path `"~"`; a Fail prints
 * path `"!"` unless its path is under `/$/fail`.
 *
 * @example
 * ```ts
 * const t = await delegate(Dtab.read('/a=>~'), Path.read('/a')).toPromise()
 * delegateTreeJson(t)
 * // '{"type":"delegate","path":"/a","delegate":{"type":"neg","path":"~","dentry":{"prefix":"/a","dst":"~"}}}'
 * ```
 */
export function delegateTreeJson(tree: DelegateTree<NameBound>, addrOf: AddrOf = sampleAddr): string {
  // Every node of one dentry's tree carries that same dentry. Each dentry is rendered once, and a
  // node repeats the dentry it would inherit (its parent's, or in an Alt or a Union its previous
  // sibling's) only while the dentry is short: one longer than MAX_REPEATED_DENTRY_CHARS is left
  // out there, so the output stays linear in the tree's size (a 3,000-way Alt would otherwise
  // print its 6 KiB dentry 3,000 times).
  const dentries = new Map<Dentry, string>()
  const dentryOnce = (d: Dentry): string => {
    let text = dentries.get(d)
    if (text === undefined) {
      text = dentryPart(d)
      dentries.set(d, text)
    }
    return text
  }
  const go = (t: DelegateTree<NameBound>, parent: Dentry | undefined): string => {
    if (t.kind === 'transformation') {
      const bound = boundJson(t.value, addrOf(t.value), t.path)
      return `{"type":"transformation","path":${str(t.path.show())},"name":${str(t.name)},"bound":${bound},"tree":${go(t.tree, undefined)}}`
    }
    let path = t.path.show()
    if (t.kind === 'neg' && t.path.isEmpty) path = '~'
    if (t.kind === 'fail' && !t.path.startsWith(FAIL)) path = '!'
    const own = dentryOnce(t.dentry)
    const dentry = t.dentry === parent && own.length > MAX_REPEATED_DENTRY_CHARS ? '' : own
    const head = `{"type":"${t.kind}","path":${str(path)}${dentry}`
    switch (t.kind) {
      case 'exception': {
        const m = message(t.error)
        return m === undefined ? `${head}}` : `${head},"message":${str(m)}}`
      }
      case 'empty':
      case 'fail':
      case 'neg':
        return `${head}}`
      case 'delegate':
        return `${head},"delegate":${go(t.tree, t.dentry)}}`
      case 'leaf':
        return `${head},"bound":${boundJson(t.value, addrOf(t.value), t.path)}}`
      case 'alt': {
        const parts = new Array<string>(t.trees.length)
        let inherit: Dentry | undefined = t.dentry
        for (let i = 0; i < parts.length; i++) {
          const c = t.trees[i]!
          parts[i] = go(c, inherit)
          inherit = c.kind === 'transformation' ? t.dentry : c.dentry
        }
        return `${head},"alt":[${parts.join(',')}]}`
      }
      case 'union': {
        const parts = new Array<string>(t.trees.length)
        let inherit: Dentry | undefined = t.dentry
        for (let i = 0; i < parts.length; i++) {
          const w = t.trees[i]!
          parts[i] = `{"weight":${double(w.weight)},"tree":${go(w.tree, inherit)}}`
          inherit = w.tree.kind === 'transformation' ? t.dentry : w.tree.dentry
        }
        return `${head},"union":[${parts.join(',')}]}`
      }
    }
  }
  return go(tree, undefined)
}

/**
 * In `delegateTreeJson`, the longest dentry JSON (in characters) that a node repeats from the node
 * it inherits from (its parent, or in an Alt or a Union its previous sibling), as linkerd repeats
 * every dentry; a longer one is left out there, and readers such as `delegateTreeFromJson` inherit
 * it back.
 *
 * @example
 * ```ts
 * // '/a=>/b | /c' is repeated on every node; a 10 KiB dentry is printed once.
 * MAX_REPEATED_DENTRY_CHARS // 1024
 * ```
 */
export const MAX_REPEATED_DENTRY_CHARS = 1024

/**
 * The bound names of a tree (a name tree or a delegate tree), each once.
 *
 * @example
 * ```ts
 * const addrOf = await settleAddrs(boundNames(tree))
 * ```
 */
export function boundNames(tree: NameTree<NameBound> | DelegateTree<NameBound>): NameBound[] {
  const out = new Set<NameBound>()
  const go = (t: NameTree<NameBound> | DelegateTree<NameBound>): void => {
    switch (t.kind) {
      case 'leaf':
        out.add(t.value)
        return
      case 'transformation':
        out.add(t.value)
        go(t.tree)
        return
      case 'delegate':
        go(t.tree)
        return
      case 'alt':
        for (const c of t.trees) go(c)
        return
      case 'union':
        for (const w of t.trees) go(w.tree)
        return
      default:
        return
    }
  }
  go(tree)
  return [...out]
}

/**
 * Waits until every name's addr is no longer pending (as namerd does before answering a bind or a
 * delegate request) and returns the settled addrs as an `AddrOf` for the encoders. Rejects with the
 * signal's reason when aborted.
 *
 * @example
 * ```ts
 * const tree = await interpreter.bind(dtab, path).toPromise()
 * const json = boundTreeJson(tree, await settleAddrs(boundNames(tree)))
 * ```
 */
export async function settleAddrs(names: Iterable<NameBound>, signal?: AbortSignal): Promise<AddrOf> {
  const settled = new Map<NameBound, Addr>()
  await Promise.all(
    [...names].map(
      (n) =>
        new Promise<void>((resolve, reject) => {
          if (signal?.aborted) return reject(signal.reason)
          let done = false
          let stop: (() => void) | undefined
          const onAbort = () => {
            done = true
            stop?.()
            reject(signal?.reason)
          }
          signal?.addEventListener('abort', onAbort, { once: true })
          stop = n.addr.observe((a) => {
            if (done || a.kind === 'pending') return
            done = true
            settled.set(n, a)
            signal?.removeEventListener('abort', onAbort)
            stop?.()
            resolve()
          })
          if (done) stop()
        }),
    ),
  )
  return (n) => settled.get(n) ?? n.addr.sample()
}
