import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import { Activity, type ActivityState } from '../core/activity.js'
import { InvalidOptionError } from '../core/errors.js'
import { Var } from '../core/var.js'
import { Addr } from '../naming/addr.js'
import type { Address } from '../naming/address.js'
import { Name, type NameBound } from '../naming/name.js'
import { Path } from '../naming/path.js'
import {
  mappingTransformer,
  prefixedId,
  type Transformer,
  type TransformerPrefixOption,
  transformerPrefix,
} from './transformer.js'

/** An IP in one canonical text form, so `::ffff:10.0.0.1` equals `10.0.0.1` and `::1` equals `0:0::1`. */
export function canonicalIp(ip: string): string {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip
  const zoneless = bare.split('%')[0]!
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(zoneless)
  if (mapped) return mapped[1]!
  if (isIP(zoneless) !== 6) return zoneless
  try {
    return new URL(`http://[${zoneless}]/`).hostname.slice(1, -1)
  } catch {
    return zoneless.toLowerCase()
  }
}

/**
 * linkerd's `SubnetLocalTransformer` with a /32 mask: keeps the addresses whose IP is one of `ips`
 * (none left → `Neg`); the addr's metadata is kept.
 */
function keepIps(prefix: Path, ips: ReadonlySet<string>): (bound: NameBound) => NameBound {
  const keep = (a: Address) => ips.has(canonicalIp(a.host))
  return (bound) =>
    Name.bound(
      prefixedId(prefix, bound.id),
      bound.addr.map((addr): Addr => {
        if (addr.kind !== 'bound') return addr
        const kept = addr.addresses.filter(keep)
        return kept.length === 0 ? Addr.Neg : Addr.bound(kept, addr.metadata)
      }),
      bound.path,
    )
}

/** The IPs of this host's network interfaces (loopback included), canonical. */
export function localIps(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) out.add(canonicalIp(i.address))
  return out
}

/** Options of `localhostTransformer`. */
export interface LocalhostTransformerOptions extends TransformerPrefixOption {
  /** The IPs counted as this host. Default: every interface address (`os.networkInterfaces()`). */
  readonly ips?: Iterable<string> | undefined
}

/**
 * `io.l5d.localhost`: keeps only the addresses on this host (IP equal to one of its interfaces'),
 * `Neg` when none is. Default prefix `/io.l5d.localhost`.
 *
 * @example
 * ```ts
 * const local = localhostTransformer() // bound 10.0.0.1:80, 127.0.0.1:80 → 127.0.0.1:80
 * ```
 */
export function localhostTransformer(options: LocalhostTransformerOptions = {}): Transformer {
  const prefix = transformerPrefix('io.l5d.localhost', options.prefix, Path.of('io.l5d.localhost'))
  const ips = options.ips ? new Set([...options.ips].map(canonicalIp)) : localIps()
  return mappingTransformer('SubnetLocalTransformer', prefix, keepIps(prefix, ips))
}

/** Options of `specificHostTransformer`. */
export interface SpecificHostTransformerOptions extends TransformerPrefixOption {
  /** The host whose addresses are kept: an IP, or a name resolved once. */
  readonly host: string
  /** Resolves a host name to its IP. Default `dns.lookup`. */
  readonly resolve?: ((host: string) => Promise<string>) | undefined
}

/**
 * `io.l5d.specificHost`: keeps only the addresses whose IP is `host`'s (resolved once; the transform
 * is pending until then and fails if resolution fails), `Neg` when none is. Default prefix
 * `/io.l5d.specificHost`.
 *
 * @example
 * ```ts
 * specificHostTransformer({ host: '10.0.0.7' })
 * ```
 */
export function specificHostTransformer(options: SpecificHostTransformerOptions): Transformer {
  if (typeof options.host !== 'string' || options.host === '')
    throw new InvalidOptionError('io.l5d.specificHost', 'host', 'a host name or IP', options.host)
  const prefix = transformerPrefix('io.l5d.specificHost', options.prefix, Path.of('io.l5d.specificHost'))
  const name = 'SubnetLocalTransformer'
  if (isIP(options.host) !== 0)
    return mappingTransformer(name, prefix, keepIps(prefix, new Set([canonicalIp(options.host)])))
  const resolve = options.resolve ?? (async (h: string) => (await dnsLookup(h)).address)
  // Resolved once, when the first tree is transformed, and shared by every tree after it.
  let resolved: Activity<(bound: NameBound) => NameBound> | undefined
  const mapper = Activity.of(
    Var.async<ActivityState<(bound: NameBound) => NameBound>>({ kind: 'pending' }, (update) => {
      if (!resolved) {
        const [a, w] = Activity.mutable<(bound: NameBound) => NameBound>()
        resolved = a
        resolve(options.host).then(
          (ip) => w.ok(keepIps(prefix, new Set([canonicalIp(ip)]))),
          (error: unknown) => w.fail(error),
        )
      }
      return resolved.states.observe(update)
    }),
  )
  return mappingTransformer(name, prefix, mapper)
}
