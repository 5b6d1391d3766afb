import { Activity } from '../core/activity.js'
import type { Name } from './name.js'
import type { NameTree } from './nametree.js'
import type { Path } from './path.js'

/**
 * A namer turns a path into a (live) tree of names: Finagle's `Namer`. A discovery backend (a
 * directory of files, Consul, Kubernetes) is a namer; so are the system namers under `/$/`. A
 * lookup answers `NameTree.Neg` when it does not know the path, a tree of `Name.bound` leaves
 * when it does, or `Name.path` leaves to be bound again through the dtab (a rewriting namer).
 *
 * @example
 * ```ts
 * // A namer for /#/static/<service>: fixed addresses per service, the rest of the path is residual.
 * function staticNamer(prefix: Path, services: Record<string, string[]>): Namer {
 *   return Namer.of((path) => {
 *     const service = path.segments[0]
 *     const hosts = service === undefined ? undefined : services[service]
 *     if (hosts === undefined) return NameTree.Neg
 *     const addr = Addr.bound(hosts.map((h) => Address.read(h)))
 *     return NameTree.leaf(Name.bound(prefix.concat(path.take(1)), addr, path.drop(1)))
 *   })
 * }
 * ```
 */
export interface Namer {
  lookup(path: Path): Activity<NameTree<Name>>
}

export const Namer = {
  /**
   * A namer from a function. The function may return a tree (a fixed answer) or an activity (a
   * live one); an exception it throws becomes a failed lookup instead of escaping.
   *
   * @example
   * ```ts
   * const never = Namer.of(() => NameTree.Neg)
   * never.lookup(Path.read('/x')).sample() // NameTree.Neg
   * ```
   */
  of(lookup: (path: Path) => NameTree<Name> | Activity<NameTree<Name>>): Namer {
    return {
      lookup(path) {
        try {
          const r = lookup(path)
          return r instanceof Activity ? r : Activity.value(r)
        } catch (error) {
          return Activity.exception(error)
        }
      },
    }
  },

  /**
   * Calls `namer.lookup(path)`, turning a thrown exception into a failed activity. Binding uses
   * this so that a namer that throws fails its own branch instead of the caller.
   *
   * @example
   * ```ts
   * Namer.lookup({ lookup: () => { throw new Error('boom') } }, Path.read('/x')).state().kind // 'failed'
   * ```
   */
  lookup(namer: Namer, path: Path): Activity<NameTree<Name>> {
    try {
      return namer.lookup(path)
    } catch (error) {
      return Activity.exception(error)
    }
  },
} as const
