import { isLeft } from 'fp-ts/lib/Either.js'
import { Activity, type ActivityState } from '../core/activity.js'
import { Var } from '../core/var.js'
import { Addr } from './addr.js'
import { bindTree, DEFAULT_MAX_DEPTH, type Lookup } from './bind.js'
import { type DelegateOptions, delegate } from './delegate.js'
import type { DelegateTree } from './delegate-tree.js'
import type { Dtab } from './dtab.js'
import { idKey, Name, type NameBound } from './name.js'
import { NameTree } from './nametree.js'
import { Path } from './path.js'
import { NamerRegistry } from './registry.js'

/**
 * Binds a path under a dtab to a live tree of bound names: Finagle's `NameInterpreter`. The tree
 * changes when a namer's answer changes; its leaves' addrs change when endpoints do.
 *
 * @example
 * ```ts
 * const interpreter: NameInterpreter = defaultInterpreter()
 * const tree = interpreter.bind(Dtab.read('/s => /$/inet/127.0.0.1'), Path.read('/s/8080'))
 * ```
 */
export interface NameInterpreter {
  bind(dtab: Dtab, path: Path): Activity<NameTree<NameBound>>
}

/**
 * An interpreter that can also explain its binding step by step (linkerd's `Delegator`), for
 * `/api/1/delegate` and the dtab playground.
 *
 * @example
 * ```ts
 * const explained = defaultInterpreter().delegate(dtab, Path.read('/svc/users'))
 * ```
 */
export interface Delegator {
  delegate(dtab: Dtab, path: Path): Activity<DelegateTree<NameBound>>
}

/**
 * Options of `defaultInterpreter`.
 *
 * @example
 * ```ts
 * const options: InterpreterOptions = { namers: NamerRegistry.create().mount('/#/disco', disco), maxDepth: 50 }
 * ```
 */
export interface InterpreterOptions {
  /** Where paths the dtab does not rewrite go. Default `NamerRegistry.create()` (system namers only). */
  readonly namers?: NamerRegistry
  /** Lookups allowed along one branch (Finagle's `namerMaxDepth`). Default 100. */
  readonly maxDepth?: number
}

function bindEquals(a: NameTree<NameBound>, b: NameTree<NameBound>): boolean {
  return NameTree.equals(a, b, (x, y) => x.equals(y))
}

/**
 * One binding step: the dtab rewrites the path; only when its answer is exactly `Neg` (no entry
 * matched, or exactly one matched with `~`) do the namers get the path. `~ | ~` is not `Neg`, so
 * it blocks the namers (spec §14 item 6).
 *
 * @example
 * ```ts
 * const lookup = dtabLookup(Dtab.read('/$/inet => ~'), NamerRegistry.create())
 * lookup(Path.read('/$/inet/8080')).sample() // the system namer's bound /$/inet/8080
 * ```
 */
export function dtabLookup(dtab: Dtab, namers: NamerRegistry): Lookup {
  return (path) => {
    const t = dtab.lookup(path)
    if (t.kind === 'neg') return namers.lookup(path)
    return Activity.value(NameTree.map(t, (p) => Name.path(p)))
  }
}

/**
 * The default interpreter (linkerd's `ConfiguredNamersInterpreter`, Finagle's
 * `DefaultInterpreter`): the dtab first, then the namers of `options.namers` and the system
 * namers, with the binding rules of `bindTree`. Consecutive binds that differ only in addrs are
 * not reported again (bound names compare by id).
 *
 * @example
 * ```ts
 * const interpreter = defaultInterpreter({ namers: NamerRegistry.create().mount('/#/disco', disco) })
 * interpreter.bind(Dtab.read('/svc => /#/disco'), Path.read('/svc/users')).observe(console.log)
 * ```
 */
export function defaultInterpreter(options: InterpreterOptions = {}): NameInterpreter & Delegator {
  const namers = options.namers ?? NamerRegistry.create()
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH
  const delegateOptions: DelegateOptions = { namers, maxDepth }
  return {
    bind: (dtab, path) => bindTree(dtabLookup(dtab, namers), NameTree.leaf(path), maxDepth).dedup(bindEquals),
    delegate: (dtab, path) => delegate(dtab, path, delegateOptions),
  }
}

/**
 * An interpreter whose base dtab is live (linkerd's `ConfiguredDtabNamer`): pending until the
 * dtab is known, then binding with `dtab ++ local` (the local dtab passed to `bind` wins), and
 * re-binding whenever the dtab changes.
 *
 * @example
 * ```ts
 * const dtab = Var.value(Dtab.read('/svc => /#/disco/v1'))
 * const interpreter = configuredDtabInterpreter(dtab)
 * const tree = interpreter.bind(Dtab.empty, Path.read('/svc/users'))
 * dtab.update(Dtab.read('/svc => /#/disco/v2')) // tree re-binds
 * ```
 */
export function configuredDtabInterpreter(
  dtab: Activity<Dtab> | Var<Dtab>,
  options: InterpreterOptions = {},
): NameInterpreter & Delegator {
  const base =
    dtab instanceof Activity ? dtab : Activity.of(dtab.map((d) => ({ kind: 'ok', value: d }) as const))
  const inner = defaultInterpreter(options)
  return {
    bind: (local, path) => base.flatMap((d) => inner.bind(d.concat(local), path)),
    delegate: (local, path) => base.flatMap((d) => inner.delegate(d.concat(local), path)),
  }
}

/**
 * The live address set a path resolves to (Finagle's `Namer.resolve`): bind, evaluate the tree,
 * and combine the names with `Name.all`. A tree that evaluates to nothing (Neg or Fail) resolves
 * to `Addr.Neg`, so `/$/fail` resolves to Neg, not Failed; a pending bind is `Addr.Pending`, a
 * failed bind `Addr.Failed`. The path may be given as text: text that does not parse resolves to
 * `Addr.Failed` with the {@link ParseError} (Finagle's `Namer.resolve(String)`), never a throw.
 *
 * @example
 * ```ts
 * const addr = resolve(defaultInterpreter(), Dtab.empty, Path.read('/$/inet/127.0.0.1/8080'))
 * Addr.show(addr.sample()) // 'Bound(127.0.0.1:8080)'
 * Addr.show(resolve(defaultInterpreter(), Dtab.empty, 'invalid').sample())
 * // "Failed('/' expected but 'i' found at '[i]nvalid')"
 * ```
 */
export function resolve(interpreter: NameInterpreter, dtab: Dtab, path: Path | string): Var<Addr> {
  if (typeof path === 'string') {
    const parsed = Path.parse(path)
    if (isLeft(parsed)) return Var.constant(Addr.failed(parsed.left))
    return resolve(interpreter, dtab, parsed.right)
  }
  return interpreter.bind(dtab, path).states.flatMap((s: ActivityState<NameTree<NameBound>>): Var<Addr> => {
    if (s.kind === 'pending') return Var.constant(Addr.Pending)
    if (s.kind === 'failed') return Var.constant(Addr.failed(s.error))
    const names = NameTree.eval(s.value, (n) => idKey(n.id))
    return names === undefined ? Var.constant(Addr.Neg) : Name.all(names).addr
  })
}
