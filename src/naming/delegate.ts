import { Activity } from '../core/activity.js'
import { DEFAULT_MAX_DEPTH } from './bind.js'
import { DelegateTree, type DelegateWeighted } from './delegate-tree.js'
import { Dentry } from './dentry.js'
import type { Dtab } from './dtab.js'
import { Name, type NameBound } from './name.js'
import { NamerExceededMaxDepthError } from './namer-errors.js'
import { NameTree } from './nametree.js'
import type { Path } from './path.js'
import { NamerRegistry } from './registry.js'

/**
 * Options of `delegate`.
 *
 * @example
 * ```ts
 * const options: DelegateOptions = { namers: NamerRegistry.create().mount('/#/disco', disco) }
 * ```
 */
export interface DelegateOptions {
  /** Default `NamerRegistry.create()` (system namers only). */
  readonly namers?: NamerRegistry
  /** Lookups allowed along one branch. Default 100. */
  readonly maxDepth?: number
}

type Unbound = DelegateTree<Name>
type Bound = DelegateTree<NameBound>

function matchingEntries(dtab: Dtab, path: Path): Unbound[] {
  const out: Unbound[] = []
  // Later entries win, so they are explained first.
  for (let i = dtab.entries.length - 1; i >= 0; i--) {
    const d = dtab.entries[i]!
    if (!d.prefix.matches(path)) continue
    const suffix = path.drop(d.prefix.size)
    out.push(
      DelegateTree.fromNameTree(
        path,
        d,
        NameTree.map(d.dst, (p) => Name.path(p.concat(suffix))),
      ),
    )
  }
  return out
}

function lookupStep(dtab: Dtab, namers: NamerRegistry, dentry: Dentry, path: Path): Activity<Unbound> {
  const fail = (error: unknown): Unbound => ({ kind: 'exception', path, dentry, error })
  try {
    const matches = matchingEntries(dtab, path)
    if (matches.length === 1) return Activity.value({ kind: 'delegate', path, dentry, tree: matches[0]! })
    if (matches.length > 1) return Activity.value({ kind: 'alt', path, dentry, trees: matches })
    // Unlike bind, only "no entry matched" reaches the namers; a lone `~` entry shows as Neg.
    return namers
      .lookup(path)
      .map(
        (t): Unbound =>
          t.kind === 'neg' ? { kind: 'neg', path, dentry } : DelegateTree.fromNameTree(path, dentry, t),
      )
      .handle(fail)
  } catch (error) {
    return Activity.value(fail(error))
  }
}

/** A branch's failure becomes an Exception node of the enclosing Alt/Union. */
function caught(a: Activity<Bound>, path: Path, dentry: Dentry): Activity<Bound> {
  return a.handle((error) => ({ kind: 'exception', path, dentry, error }))
}

/**
 * Explains how `path` binds under `dtab` (linkerd's delegator, behind namerd's
 * `/api/1/delegate` and linkerd's dtab playground): a `DelegateTree` that records, for every step,
 * the path being resolved and the dentry that rewrote it. Unlike binding it follows **every**
 * alternative, not just the first that works, and a failing branch shows as an Exception node
 * instead of failing the whole explanation. The result is simplified (`DelegateTree.simplify`).
 *
 * - Matching dentries are listed last first; one match is a Delegate node, several an Alt.
 * - Only when no dentry matches are the namers asked (so a lone `/a=>~` shows as Neg and does not
 *   fall through, unlike bind); a namer's Neg keeps the Neg node.
 * - More than `maxDepth` lookups along the root's chain fails the activity with
 *   `NamerExceededMaxDepthError("Max recursion level reached.")`; inside an Alt or a Union the
 *   failure becomes an Exception node of that Alt/Union.
 *
 * @example
 * ```ts
 * const dtab = Dtab.read('/svc => /#/disco; /svc/users => 1 * /#/disco/users-v2 & 9 * /#/disco/users')
 * const tree = await delegate(dtab, Path.read('/svc/users'), { namers }).toPromise()
 * console.log(DelegateTree.render(tree))
 * ```
 */
export function delegate(
  dtab: Dtab,
  path: Path,
  options: DelegateOptions = {},
): Activity<DelegateTree<NameBound>> {
  const namers = options.namers ?? NamerRegistry.create()
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH

  const go = (t: Unbound, depth: number): Activity<Bound> => {
    if (depth > maxDepth) {
      return Activity.exception(new NamerExceededMaxDepthError(maxDepth, 'Max recursion level reached.'))
    }
    switch (t.kind) {
      case 'exception':
      case 'empty':
      case 'fail':
      case 'neg':
        return Activity.value<Bound>(t)
      case 'leaf': {
        const name = t.value
        if (name.kind === 'bound') return Activity.value<Bound>({ ...t, value: name })
        return lookupStep(dtab, namers, t.dentry, name.path).flatMap((next) => go(next, depth + 1))
      }
      case 'delegate':
        return go(t.tree, depth).map((tree): Bound => ({ ...t, tree }))
      case 'transformation': {
        // Transformers only ever wrap bound names; anything else is a bug worth showing.
        const v = t.value
        if (v.kind !== 'bound') {
          const error = new TypeError(`transformation ${t.name} of an unbound name ${v.show()}`)
          return Activity.value<Bound>({ kind: 'exception', path: t.path, dentry: Dentry.nop, error })
        }
        return go(t.tree, depth).map((tree): Bound => ({ ...t, value: v, tree }))
      }
      case 'alt':
        if (t.trees.length === 0)
          return Activity.value<Bound>({ kind: 'neg', path: t.path, dentry: t.dentry })
        if (t.trees.length === 1) {
          return go(t.trees[0]!, depth).map(
            (tree): Bound => ({ kind: 'delegate', path: t.path, dentry: t.dentry, tree }),
          )
        }
        return Activity.collect(t.trees.map((c) => caught(go(c, depth), t.path, t.dentry))).map(
          (trees): Bound => ({ kind: 'alt', path: t.path, dentry: t.dentry, trees }),
        )
      case 'union':
        if (t.trees.length === 0)
          return Activity.value<Bound>({ kind: 'neg', path: t.path, dentry: t.dentry })
        if (t.trees.length === 1) {
          return go(t.trees[0]!.tree, depth).map(
            (tree): Bound => ({ kind: 'delegate', path: t.path, dentry: t.dentry, tree }),
          )
        }
        return Activity.collect(
          t.trees.map((w) =>
            caught(go(w.tree, depth), t.path, t.dentry).map(
              (tree): DelegateWeighted<NameBound> => ({ weight: w.weight, tree }),
            ),
          ),
        ).map((trees): Bound => ({ kind: 'union', path: t.path, dentry: t.dentry, trees }))
    }
  }

  const root: Unbound = { kind: 'leaf', path, dentry: Dentry.nop, value: Name.path(path) }
  return go(root, 0).map(DelegateTree.simplify)
}
