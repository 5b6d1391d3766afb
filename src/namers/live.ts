// What the discovery namers (dnssrv, serversets, consul) share: a lookup whose tree follows one
// live address set. The address set is a `Var<Addr>` that runs its backend loop only while
// observed; the lookup's tree is a leaf bound to that same var while it is bound, `Neg` while the
// backend says the name does not exist, pending or failed as the var is. The leaf's `Name` is made
// once, so a change of addresses alone never changes the tree (Finagle's `Name.Bound` equality).
import { Activity, type ActivityState } from '../core/activity.js'
import { Var } from '../core/var.js'
import { Addr } from '../naming/addr.js'
import { Name } from '../naming/name.js'
import { NameTree } from '../naming/nametree.js'
import type { Path } from '../naming/path.js'

/**
 * The lookup activity of a name whose addresses live in `addr`: `Leaf(Name.bound(id, addr,
 * residual))` while `addr` is bound, `Neg` while it is neg, and pending or failed with it.
 *
 * @example
 * ```ts
 * const addr = Var.value<Addr>(Addr.bound([Address.read('10.0.0.1:80')]))
 * liveLookup(Path.read('/#/io.l5d.dnssrv/web'), Path.empty, addr).sample().kind // 'leaf'
 * ```
 */
export function liveLookup(id: Path, residual: Path, addr: Var<Addr>): Activity<NameTree<Name>> {
  const name = Name.bound(id, addr, residual)
  const leaf = NameTree.leaf<Name>(name)
  return Activity.of(
    Var.async<ActivityState<NameTree<Name>>>({ kind: 'pending' }, (update) => {
      let last: string | undefined
      return addr.observe((a) => {
        if (a.kind === last && a.kind !== 'failed') return
        last = a.kind
        switch (a.kind) {
          case 'bound':
            return update({ kind: 'ok', value: leaf })
          case 'neg':
            return update({ kind: 'ok', value: NameTree.Neg })
          case 'pending':
            return update({ kind: 'pending' })
          case 'failed':
            return update({ kind: 'failed', error: a.cause })
        }
      })
    }),
  )
}

/**
 * An `Addr` source that publishes only changes (by `Addr.equals`), so that a poll that finds the
 * same answer again notifies nobody.
 *
 * @example
 * ```ts
 * const v = changesOnly(Addr.Pending, (update) => { update(Addr.Neg); return () => {} })
 * ```
 */
export function changesOnly(initial: Addr, start: (update: (addr: Addr) => void) => () => void): Var<Addr> {
  return Var.async<Addr>(initial, (update) => {
    let current = initial
    return start((next) => {
      if (next === current) return
      if (Addr.equals(next, current)) return
      current = next
      update(next)
    })
  })
}
