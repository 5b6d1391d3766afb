import { Activity } from '../../core/activity.js'
import { InvalidAddressError } from '../address.js'
import { Name, type NameBound } from '../name.js'
import type { Namer } from '../namer.js'
import { NameTree } from '../nametree.js'
import { Path } from '../path.js'
import { type InetOptions, inetAddr } from './dns.js'

/** Java's `Integer.parseInt` on ASCII digits: an optional sign, a value that fits in 32 bits. */
export function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined
  const n = Number(s)
  return n >= -2147483648 && n <= 2147483647 ? n : undefined
}

/**
 * The bound name of `/$/inet/<host>/<port>` or `/$/inet/<port>` (`fixedinet` alike), or `undefined`
 * when the path has no integer where the port should be. The id is the path up to the port, the
 * rest is residual: `/$/inet/1/2/3` is host `1`, port 2, residual `/3`.
 */
export function inetName(path: Path, options: InetOptions): NameBound | undefined {
  const s = path.segments
  if (s[0] !== '$' || (s[1] !== 'inet' && s[1] !== 'fixedinet')) return undefined
  const refresh = s[1] === 'inet' ? 'poll' : 'once'
  const withHost = s.length >= 4 ? parseJavaInt(s[3]!) : undefined
  if (withHost !== undefined) {
    return Name.bound(path.take(4), inetAddr(s[2]!, withHost, { ...options, refresh }), path.drop(4))
  }
  const portOnly = s.length >= 3 ? parseJavaInt(s[2]!) : undefined
  if (portOnly !== undefined) {
    return Name.bound(path.take(3), inetAddr('', portOnly, { ...options, refresh }), path.drop(3))
  }
  return undefined
}

const RINET = Path.of('$', 'io.buoyant.rinet')

/**
 * `/$/io.buoyant.rinet/<port>/<host>/rest`: `/$/inet` with the port first, so that a dtab can fix
 * the port and leave the host to the request (`/svc => /$/io.buoyant.rinet/80`). Binds directly to
 * id `/$/io.buoyant.rinet/<port>/<host>` with residual `/rest`; fewer than two labels is `Neg`, a
 * port that is not an integer fails the lookup.
 *
 * @example
 * ```ts
 * const n = rinetNamer({}).lookup(Path.read('/8080/10.0.0.1/x')).sample()
 * // Leaf(Name.Bound(/$/io.buoyant.rinet/8080/10.0.0.1)), residual /x
 * ```
 */
export function rinetNamer(options: InetOptions = {}): Namer {
  return {
    lookup(path) {
      if (path.size < 2) return Activity.value(NameTree.Neg)
      const [portText, host] = path.segments as [string, string]
      const port = parseJavaInt(portText)
      if (port === undefined) {
        return Activity.exception(
          new InvalidAddressError(`port expected but '${portText}' found in ${RINET.concat(path).show()}`),
        )
      }
      const addr = inetAddr(host, port, options)
      return Activity.value(NameTree.leaf(Name.bound(RINET.concat(path.take(2)), addr, path.drop(2))))
    },
  }
}
