import { Activity } from '../../core/activity.js'
import type { Name } from '../name.js'
import { Namer } from '../namer.js'
import { UnknownNamerError } from '../namer-errors.js'
import { NameTree } from '../nametree.js'
import { Path } from '../path.js'
import type { InetOptions } from './dns.js'
import { inetName, rinetNamer } from './inet.js'
import {
  anyHost,
  anyHostPfx,
  anyMethod,
  anyMethodPfx,
  domainToPath,
  domainToPathPfx,
  hostportPfx,
  porthostPfx,
  subdomainOf,
  subdomainOfPfx,
} from './rewriting.js'

export {
  DEFAULT_DNS_POLL_INTERVAL_MS,
  type DnsResolver,
  type InetOptions,
  inetAddr,
  systemDnsResolver,
} from './dns.js'
export { rinetNamer } from './inet.js'
export {
  anyHost,
  anyHostPfx,
  anyMethod,
  anyMethodPfx,
  domainToPath,
  domainToPathPfx,
  hostportPfx,
  porthostPfx,
  rewritingNamer,
  subdomainOf,
  subdomainOfPfx,
} from './rewriting.js'

/**
 * Options of the system namer: how `/$/inet` resolves host names, and extra `/$/<kind>` namers.
 *
 * @example
 * ```ts
 * const options: SystemNamerOptions = { pollIntervalMs: 10_000, kinds: { 'com.example.static': myNamer } }
 * ```
 */
export interface SystemNamerOptions extends InetOptions {
  /** Namers reachable as `/$/<kind>/...`, added to (and overriding) the built-in kinds. */
  readonly kinds?: Readonly<Record<string, Namer>>
}

/**
 * The `/$/<kind>` namers that exist without configuration: `io.buoyant.rinet` and linkerd's
 * rewriting namers.
 *
 * @example
 * ```ts
 * Object.keys(builtinKinds({})) // ['io.buoyant.rinet', 'io.buoyant.http.anyMethod', ...]
 * ```
 */
export function builtinKinds(options: InetOptions): Record<string, Namer> {
  return {
    'io.buoyant.rinet': rinetNamer(options),
    'io.buoyant.http.anyMethod': anyMethod,
    'io.buoyant.http.anyMethodPfx': anyMethodPfx,
    'io.buoyant.http.anyHost': anyHost,
    'io.buoyant.http.anyHostPfx': anyHostPfx,
    'io.buoyant.http.subdomainOf': subdomainOf,
    'io.buoyant.http.subdomainOfPfx': subdomainOfPfx,
    'io.buoyant.http.domainToPath': domainToPath,
    'io.buoyant.http.domainToPathPfx': domainToPathPfx,
    'io.buoyant.hostportPfx': hostportPfx,
    'io.buoyant.porthostPfx': porthostPfx,
  }
}

const FAIL = Path.of('$', 'fail')
const NIL = Path.of('$', 'nil')

/**
 * Finagle's `Namer.global`, with an explicit registry of kinds instead of class loading. Rules, in
 * order:
 * 1. `/$/inet/<host>/<port>/rest` or `/$/inet/<port>/rest` (also `fixedinet`, which does not
 *    re-resolve): bound at once, id up to the port, `rest` residual;
 * 2. anything under `/$/fail` → `Fail`; 3. anything under `/$/nil` → `Empty`;
 * 4. `/$/<kind>/rest` → that kind's namer looks up `rest`; an unknown kind fails with
 *    `UnknownNamerError` (`/$/inet` without a valid port lands here too);
 * 5. anything else (`/#/...`, `/x/$/nil`, `/$`) → `Neg`.
 *
 * @example
 * ```ts
 * const global = systemNamer()
 * global.lookup(Path.read('/$/inet/127.0.0.1/8080/x')).sample() // Leaf(/$/inet/127.0.0.1/8080), residual /x
 * global.lookup(Path.read('/$/nil')).sample()                    // NameTree.Empty
 * ```
 */
export function systemNamer(options: SystemNamerOptions = {}): Namer {
  const kinds = new Map(Object.entries({ ...builtinKinds(options), ...options.kinds }))
  return {
    lookup(path): Activity<NameTree<Name>> {
      const inet = inetName(path, options)
      if (inet !== undefined) return Activity.value(NameTree.leaf(inet))
      if (path.startsWith(FAIL)) return Activity.value(NameTree.Fail)
      if (path.startsWith(NIL)) return Activity.value(NameTree.Empty)
      const s = path.segments
      if (s[0] === '$' && s.length >= 2) {
        const namer = kinds.get(s[1]!)
        if (namer === undefined) return Activity.exception(new UnknownNamerError(s[1]!, path))
        return Namer.lookup(namer, path.drop(2))
      }
      return Activity.value(NameTree.Neg)
    },
  }
}
