import { isIP } from 'node:net'
import type { Activity } from '../core/activity.js'
import { InvalidOptionError } from '../core/errors.js'
import { Var } from '../core/var.js'
import { Addr } from '../naming/addr.js'
import type { Address } from '../naming/address.js'
import { Name, type NameBound } from '../naming/name.js'
import type { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { canonicalIp } from './local.js'
import {
  mappingTransformer,
  prefixedId,
  type Transformer,
  type TransformerPrefixOption,
  transformerPrefix,
} from './transformer.js'

/** The metadata key of the node an address runs on (the k8s namer sets it). */
const NODE_NAME = 'nodeName'

/** linkerd's `Netmask("255.255.255.0")`: the daemonset and localnode transformers' subnet. */
export const DEFAULT_NETMASK = '255.255.255.0'

function ipv4Bytes(ip: string): number[] | undefined {
  const c = canonicalIp(ip)
  if (isIP(c) !== 4) return undefined
  return c.split('.').map(Number)
}

/**
 * Whether two IPv4 addresses are in the same subnet under `netmask` (dotted quad). Anything that is
 * not IPv4 is in no subnet.
 *
 * @example
 * ```ts
 * sameSubnet('1.1.1.55', '1.1.1.1') // true  (255.255.255.0)
 * sameSubnet('1.1.2.55', '1.1.1.1') // false
 * ```
 */
export function sameSubnet(a: string, b: string, netmask: string = DEFAULT_NETMASK): boolean {
  const x = ipv4Bytes(a)
  const y = ipv4Bytes(b)
  const m = ipv4Bytes(netmask)
  if (!x || !y || !m) return false
  for (let i = 0; i < 4; i++) if ((x[i]! & m[i]!) !== (y[i]! & m[i]!)) return false
  return true
}

function checkNetmask(component: string, netmask: string): void {
  const m = ipv4Bytes(netmask)
  const bits = m ? m.map((b) => b.toString(2).padStart(8, '0')).join('') : ''
  if (!m || !/^1*0*$/.test(bits))
    throw new InvalidOptionError(component, 'netmask', 'an IPv4 netmask such as 255.255.255.0', netmask)
}

/** Every address of the bound leaves of a tree, as one addr (pending or failed if one of them is). */
function gatewayAddr(tree: NameTree<NameBound>): Var<Addr> {
  const leaves: NameBound[] = []
  const walk = (t: NameTree<NameBound>): void => {
    if (t.kind === 'leaf') leaves.push(t.value)
    else if (t.kind === 'alt') t.trees.forEach(walk)
    else if (t.kind === 'union') for (const w of t.trees) walk(w.tree)
  }
  walk(tree)
  if (leaves.length === 0) return Var.constant<Addr>(Addr.Neg)
  return Var.collect(leaves.map((l) => l.addr)).map((addrs): Addr => {
    const failed = addrs.find((a) => a.kind === 'failed')
    if (failed) return failed
    if (addrs.some((a) => a.kind === 'pending')) return Addr.Pending
    const out: Address[] = []
    for (const a of addrs) if (a.kind === 'bound') out.push(...a.addresses)
    return Addr.bound(out)
  })
}

/**
 * linkerd's gateway transformer: each address of a bound name is replaced by the gateway addresses
 * `routes(address, gateway)` accepts; the addr is `Neg` when none does. The gateways are the
 * addresses of `gateways` (a bound tree, e.g. the linkerd daemonset's endpoints), followed live.
 */
function gatewayTransformer(
  name: string,
  prefix: Path,
  gateways: Activity<NameTree<NameBound>>,
  routes: (address: Address, gateway: Address) => boolean,
): Transformer {
  const mapper = gateways.map((tree) => {
    const gw = gatewayAddr(tree)
    return (bound: NameBound): NameBound =>
      Name.bound(
        prefixedId(prefix, bound.id),
        Var.collect([bound.addr, gw]).map(([addr, g]): Addr => {
          if (addr!.kind !== 'bound') return addr!
          if (g!.kind !== 'bound') return g!
          const selected: Address[] = []
          const seen = new Set<string>()
          for (const a of addr!.addresses)
            for (const gwa of g!.addresses)
              if (routes(a, gwa) && !seen.has(gwa.show())) {
                seen.add(gwa.show())
                selected.push(gwa)
              }
          return selected.length === 0 ? Addr.Neg : Addr.bound(selected, addr!.metadata)
        }),
        bound.path,
      )
  })
  return mappingTransformer(name, prefix, mapper)
}

/** Options of `daemonsetTransformer`. */
export interface DaemonsetTransformerOptions extends TransformerPrefixOption {
  /** The Kubernetes namespace of the linkerd daemonset's service. */
  readonly namespace: string
  /** The daemonset's service name (e.g. `l5d`). */
  readonly service: string
  /** The daemonset's port name (e.g. `incoming`). */
  readonly port: string
  /**
   * The daemonset pods' addresses: the bound tree of `/#/io.l5d.k8s/<namespace>/<port>/<service>`
   * (the config kind looks it up with a k8s namer on `k8sHost`/`k8sPort`).
   */
  readonly daemonset: Activity<NameTree<NameBound>>
  /** Match by `nodeName` metadata instead of subnet (the daemonset runs on the host network). */
  readonly hostNetwork?: boolean | undefined
  /** The subnet of a node's pods (default 255.255.255.0). */
  readonly netmask?: string | undefined
}

/**
 * `io.l5d.k8s.daemonset`: sends to the linkerd daemonset pod on each destination's node instead of
 * the destination: every address is replaced by the daemonset address in the same /24 (or, with
 * `hostNetwork`, with the same `nodeName` metadata); none → `Neg`. Default prefix
 * `/io.l5d.k8s.daemonset/<namespace>/<port>/<service>`.
 *
 * @example
 * ```ts
 * const ds = daemonsetTransformer({ namespace: 'default', port: 'incoming', service: 'l5d', daemonset })
 * // 1.1.2.55:8888 → 1.1.2.1:4141 (the l5d pod on that node)
 * ```
 */
export function daemonsetTransformer(options: DaemonsetTransformerOptions): Transformer {
  for (const key of ['namespace', 'service', 'port'] as const)
    if (typeof options[key] !== 'string' || options[key] === '')
      throw new InvalidOptionError('io.l5d.k8s.daemonset', key, 'a non-empty string', options[key])
  const prefix = transformerPrefix(
    'io.l5d.k8s.daemonset',
    options.prefix,
    Path.of('io.l5d.k8s.daemonset', options.namespace, options.port, options.service),
  )
  if (options.hostNetwork) {
    return gatewayTransformer('MetadataGatewayTransformer', prefix, options.daemonset, (a, g) => {
      const n = a.metadata[NODE_NAME]
      return n !== undefined && n === g.metadata[NODE_NAME]
    })
  }
  const netmask = options.netmask ?? DEFAULT_NETMASK
  checkNetmask('io.l5d.k8s.daemonset', netmask)
  return gatewayTransformer('SubnetGatewayTransformer', prefix, options.daemonset, (a, g) =>
    sameSubnet(a.host, g.host, netmask),
  )
}

/** Options of `localnodeTransformer`. */
export interface LocalnodeTransformerOptions extends TransformerPrefixOption {
  /** Keep addresses by `nodeName` metadata (`NODE_NAME`) instead of by subnet (`POD_IP`). */
  readonly hostNetwork?: boolean | undefined
  /** This pod's IP; default `process.env.POD_IP` (required without hostNetwork). */
  readonly podIp?: string | undefined
  /** This node's name; default `process.env.NODE_NAME` (required with hostNetwork). */
  readonly nodeName?: string | undefined
  /** The subnet of a node's pods (default 255.255.255.0). */
  readonly netmask?: string | undefined
}

/**
 * `io.l5d.k8s.localnode`: keeps only the addresses on this node: in the same /24 as `POD_IP`, or,
 * with `hostNetwork`, whose `nodeName` metadata is `NODE_NAME`; none → `Neg`. The variable it
 * needs missing is an `InvalidOptionError` (a configuration error, as linkerd's). Default prefix
 * `/io.l5d.k8s.localnode/<POD_IP or NODE_NAME>`.
 *
 * @example
 * ```ts
 * localnodeTransformer({ podIp: '1.1.1.1' }) // keeps 1.1.1.2 and 1.1.1.3, drops 1.1.2.2
 * ```
 */
export function localnodeTransformer(options: LocalnodeTransformerOptions = {}): Transformer {
  const component = 'io.l5d.k8s.localnode'
  if (options.hostNetwork) {
    const node = options.nodeName ?? process.env['NODE_NAME']
    if (node === undefined || node === '')
      throw new InvalidOptionError(
        component,
        'NODE_NAME',
        'the environment variable NODE_NAME (hostNetwork: true)',
        node,
      )
    const prefix = transformerPrefix(component, options.prefix, Path.of('io.l5d.k8s.localnode', node))
    return mappingTransformer('MetadataFiltertingNameTreeTransformer', prefix, (bound) =>
      Name.bound(
        prefixedId(prefix, bound.id),
        bound.addr.map((addr) => filterAddr(addr, (a) => a.metadata[NODE_NAME] === node)),
        bound.path,
      ),
    )
  }
  const ip = options.podIp ?? process.env['POD_IP']
  if (ip === undefined || ipv4Bytes(ip) === undefined)
    throw new InvalidOptionError(
      component,
      'POD_IP',
      'the environment variable POD_IP holding an IPv4 address',
      ip,
    )
  const netmask = options.netmask ?? DEFAULT_NETMASK
  checkNetmask(component, netmask)
  const prefix = transformerPrefix(component, options.prefix, Path.of('io.l5d.k8s.localnode', ip))
  return mappingTransformer('SubnetLocalTransformer', prefix, (bound) =>
    Name.bound(
      prefixedId(prefix, bound.id),
      bound.addr.map((addr) => filterAddr(addr, (a) => sameSubnet(a.host, ip, netmask))),
      bound.path,
    ),
  )
}

function filterAddr(addr: Addr, keep: (a: Address) => boolean): Addr {
  if (addr.kind !== 'bound') return addr
  const kept = addr.addresses.filter(keep)
  return kept.length === 0 ? Addr.Neg : Addr.bound(kept, addr.metadata)
}
