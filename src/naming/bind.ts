import { Activity, type ActivityState } from '../core/activity.js'
import { type Disposer, Var } from '../core/var.js'
import { Name, type NameBound } from './name.js'
import { BindingTooDeepError, NamerExceededMaxDepthError } from './namer-errors.js'
import { NameTree, type Weighted } from './nametree.js'
import type { Path } from './path.js'

/**
 * Finagle's `namerMaxDepth` default: lookups allowed along one branch of a binding.
 *
 * @example
 * ```ts
 * defaultInterpreter({ maxDepth: DEFAULT_MAX_DEPTH * 2 })
 * ```
 */
export const DEFAULT_MAX_DEPTH = 100

/**
 * How many Alt/Union nodes and lookups may nest along one branch of a binding before it fails with
 * {@link BindingTooDeepError}, so that no tree, however deep (a dtab entry may nest 1000
 * parentheses, and each lookup may add another such tree), can exhaust the stack.
 *
 * @example
 * ```ts
 * bindTree(lookup, tree, DEFAULT_MAX_DEPTH, DEFAULT_MAX_BIND_NESTING)
 * ```
 */
export const DEFAULT_MAX_BIND_NESTING = 2000

/**
 * One step of binding: what a path rewrites to (a dtab lookup, or a namer's answer).
 *
 * @example
 * ```ts
 * const lookup: Lookup = dtabLookup(Dtab.read('/s => /$/inet/127.0.0.1'), NamerRegistry.create())
 * ```
 */
export type Lookup = (path: Path) => Activity<NameTree<Name>>

type Bound = NameTree<NameBound>
type State = ActivityState<Bound>

const PENDING: State = { kind: 'pending' }

function lookupSafely(lookup: Lookup, path: Path): Activity<NameTree<Name>> {
  try {
    return lookup(path)
  } catch (error) {
    return Activity.exception(error)
  }
}

/** One shared evaluation per activity, however many branches observe it. */
function shared<T>(a: Activity<T>): Activity<T> {
  return Activity.of(
    Var.async<ActivityState<T>>(PENDING as ActivityState<T>, (update) => a.states.observe(update)),
  )
}

/**
 * Binds a tree of names by following every path leaf through `lookup` until only bound names (and
 * Neg/Fail/Empty) are left: Finagle's `Namer.bind`. The result is live: it changes when any lookup
 * along the way changes. Rules (spec naming §9):
 *
 * - more than `maxDepth` lookups along one branch fails with `NamerExceededMaxDepthError`
 *   ("Max recursion level: <N> reached in Namer lookup"), checked first at every node;
 * - a path leaf is looked up and the answer bound one level deeper; a pending or failed lookup
 *   passes through; a bound leaf under a union gets the innermost union weight in its addr
 *   metadata (`namer_nametree_weight`), and nothing outside a union gets a weight;
 * - an Alt is lazy: its first branch that does not bind to Neg is the answer (Fail stops it,
 *   Empty is an answer), a pending or failed branch makes the whole Alt pending or failed, and
 *   later branches are never looked up;
 * - a Union binds every branch; if any is ok, the ok ones (pending and failed ones ignored) form
 *   the simplified union, so `! & !` binds to Neg; otherwise the first failure, else pending.
 *
 * The bound tree has no Alt nodes. A loop through a union (`/a => /a & /a`) costs one lookup per
 * depth, not one per branch, because equal sub-bindings are shared.
 *
 * @example
 * ```ts
 * const lookup = dtabLookup(Dtab.read('/s => /$/inet/127.0.0.1'), NamerRegistry.create())
 * const tree = bindTree(lookup, NameTree.leaf(Path.read('/s/8080')), 10)
 * NameTree.show(tree.sample()) // '/$/inet/127.0.0.1/8080'
 * ```
 */
export function bindTree(
  lookup: Lookup,
  tree: NameTree<Path>,
  maxDepth: number = DEFAULT_MAX_DEPTH,
  maxNesting: number = DEFAULT_MAX_BIND_NESTING,
): Activity<NameTree<NameBound>> {
  const memo = new Map<string, Activity<Bound>>()

  const bindLeafPath = (
    path: Path,
    depth: number,
    weight: number | undefined,
    level: number,
  ): Activity<Bound> => {
    const key = `${depth} ${level} ${weight} ${path.show()}`
    let a = memo.get(key)
    if (a === undefined) {
      a = shared(lookupSafely(lookup, path).flatMap((t) => go(t, depth + 1, weight, level + 1)))
      memo.set(key, a)
    }
    return a
  }

  const bindUnion = (trees: readonly Weighted<Name>[], depth: number, level: number): Activity<Bound> => {
    const children = trees.map((w) => go(w.tree, depth, w.weight, level + 1).states)
    return Activity.of(
      Var.collect(children).map((states): State => {
        const ok: Weighted<NameBound>[] = []
        let failed: State | undefined
        states.forEach((s, i) => {
          if (s.kind === 'ok') ok.push(NameTree.weighted(trees[i]!.weight, s.value))
          else if (s.kind === 'failed' && failed === undefined) failed = s
        })
        if (ok.length > 0) return { kind: 'ok', value: NameTree.simplify(NameTree.union(...ok)) }
        return failed ?? PENDING
      }),
    )
  }

  // An Alt is one activity over its branches, observed lazily and in order, in a loop: the branch
  // at index i is watched only while every branch before it binds to Neg. (A chain of flatMaps,
  // one per branch, would nest the stack once per alternative.)
  const bindAlt = (
    trees: readonly NameTree<Name>[],
    depth: number,
    weight: number | undefined,
    level: number,
  ): Activity<Bound> =>
    Activity.of(
      Var.async<State>(PENDING, (update) => {
        const subs: (Disposer | undefined)[] = []
        const states: (State | undefined)[] = []
        let last: State | undefined
        let running = false
        let dirty = false
        let stopped = false
        const settle = () => {
          if (running) {
            dirty = true
            return
          }
          running = true
          try {
            let result: State = PENDING
            do {
              dirty = false
              let i = 0
              for (; i < trees.length; i++) {
                if (subs[i] === undefined) {
                  const index = i
                  const a = go(trees[index]!, depth, weight, level + 1)
                  subs[index] = a.states.observe((st) => {
                    if (stopped) return
                    states[index] = st
                    settle()
                  })
                }
                const st = states[i] ?? PENDING
                if (st.kind === 'ok' && st.value.kind === 'neg') continue
                result = st
                break
              }
              if (i >= trees.length) result = { kind: 'ok', value: NameTree.Neg }
              // Branches after the answer can never matter until it becomes Neg again.
              for (let j = i + 1; j < subs.length; j++) {
                const d = subs[j]
                subs[j] = undefined
                states[j] = undefined
                d?.()
              }
            } while (dirty)
            if (result !== last) {
              last = result
              update(result)
            }
          } finally {
            running = false
          }
        }
        const stop = () => {
          stopped = true
          for (const d of subs.splice(0)) d?.()
        }
        try {
          settle()
        } catch (error) {
          stop()
          throw error
        }
        return stop
      }),
    )

  const go = (
    t: NameTree<Name>,
    depth: number,
    weight: number | undefined,
    level: number,
  ): Activity<Bound> => {
    if (depth > maxDepth) return Activity.exception(new NamerExceededMaxDepthError(maxDepth))
    if (level > maxNesting) return Activity.exception(new BindingTooDeepError(maxNesting))
    switch (t.kind) {
      case 'leaf': {
        const name = t.value
        if (name.kind === 'path') return bindLeafPath(name.path, depth, weight, level)
        return Activity.value(NameTree.leaf(weight === undefined ? name : name.withWeight(weight)))
      }
      case 'neg':
      case 'fail':
      case 'empty':
        return Activity.value<Bound>(t)
      case 'union':
        if (t.trees.length === 0) return Activity.value<Bound>(NameTree.Neg)
        if (t.trees.length === 1) return go(t.trees[0]!.tree, depth, t.trees[0]!.weight, level)
        return bindUnion(t.trees, depth, level)
      case 'alt':
        if (t.trees.length === 0) return Activity.value<Bound>(NameTree.Neg)
        if (t.trees.length === 1) return go(t.trees[0]!, depth, weight, level)
        return bindAlt(t.trees, depth, weight, level)
    }
  }

  return go(
    NameTree.map(tree, (p) => Name.path(p)),
    0,
    undefined,
    0,
  )
}
