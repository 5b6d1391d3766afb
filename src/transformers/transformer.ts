import { Activity } from '../core/activity.js'
import { InvalidOptionError } from '../core/errors.js'
import type { DelegateTree } from '../naming/delegate-tree.js'
import type { Delegator, NameInterpreter } from '../naming/interpreter.js'
import type { Name, NameBound } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'

/**
 * Post-processing of bound name trees (linkerd's `NameTreeTransformer`): applied to what an
 * interpreter binds, or to what one namer answers. `transform` rewrites a bound tree;
 * `transformDelegate` rewrites a delegation explanation the same way, wrapping each leaf it changes
 * in a `transformation` node so that `delegate` shows the step. Transformed ids are
 * `<prefix> ++ <original id>`, with `prefix` starting `/%`.
 *
 * @example
 * ```ts
 * const t: Transformer = portTransformer({ port: 4141 })
 * t.prefix.show() // '/%/io.l5d.port/4141'
 * ```
 */
export interface Transformer {
  /** The name shown in `transformation` nodes (linkerd's class name, e.g. `PortTransformer`). */
  readonly name: string
  /** `/%` followed by the configured prefix or the kind's default. */
  readonly prefix: Path
  transform(tree: NameTree<NameBound>): Activity<NameTree<NameBound>>
  transformDelegate(tree: DelegateTree<NameBound>): Activity<DelegateTree<NameBound>>
}

/** The `prefix` every transformer takes. */
export interface TransformerPrefixOption {
  /** Replaces the kind's default prefix (`/%` is always put in front). */
  readonly prefix?: Path | string | undefined
}

/** `/%` ++ (the configured prefix, or `defaultPrefix`). Throws `InvalidOptionError` for bad text. */
export function transformerPrefix(
  component: string,
  option: Path | string | undefined,
  defaultPrefix: Path,
): Path {
  let p = defaultPrefix
  if (option instanceof Path) p = option
  else if (option !== undefined) {
    const parsed = Path.parse(option)
    if (parsed._tag === 'Left') throw new InvalidOptionError(component, 'prefix', 'a path', option)
    p = parsed.right
  }
  return Path.of('%').concat(p)
}

/** A bound name's id with `prefix` in front, when the id is a path (other ids are kept). */
export function prefixedId(prefix: Path, id: unknown): unknown {
  return id instanceof Path ? prefix.concat(id) : id
}

/** Rewrites every leaf of a delegate tree with `f`, keeping the rest of the structure. */
export function mapDelegateLeaves<T>(
  tree: DelegateTree<T>,
  f: (leaf: Extract<DelegateTree<T>, { kind: 'leaf' }>) => DelegateTree<T>,
): DelegateTree<T> {
  switch (tree.kind) {
    case 'leaf':
      return f(tree)
    case 'delegate':
    case 'transformation':
      return { ...tree, tree: mapDelegateLeaves(tree.tree, f) }
    case 'alt':
      return { ...tree, trees: tree.trees.map((t) => mapDelegateLeaves(t, f)) }
    case 'union':
      return {
        ...tree,
        trees: tree.trees.map((w) => ({ weight: w.weight, tree: mapDelegateLeaves(w.tree, f) })),
      }
    default:
      return tree
  }
}

/**
 * A transformer that maps each bound name on its own (port rewriting, address filtering): the tree
 * keeps its shape, and each delegate leaf becomes a `transformation` node whose child is the leaf
 * with the new name (and the new id as its path). `mapBound` may be an activity, for a mapping that
 * needs something first (a DNS answer): the transform is pending until it is there.
 *
 * @example
 * ```ts
 * const noop = mappingTransformer('NoopTransformer', Path.read('/%/noop'), (b) => b)
 * ```
 */
export function mappingTransformer(
  name: string,
  prefix: Path,
  mapBound: ((bound: NameBound) => NameBound) | Activity<(bound: NameBound) => NameBound>,
): Transformer {
  const mapper = mapBound instanceof Activity ? mapBound : Activity.value(mapBound)
  const delegateLeaf =
    (f: (bound: NameBound) => NameBound) =>
    (leaf: Extract<DelegateTree<NameBound>, { kind: 'leaf' }>): DelegateTree<NameBound> => {
      const bound = f(leaf.value)
      return {
        kind: 'transformation',
        path: leaf.path,
        name,
        value: leaf.value,
        tree: { ...leaf, value: bound, path: bound.id instanceof Path ? bound.id : leaf.path },
      }
    }
  return {
    name,
    prefix,
    transform: (tree) => mapper.map((f) => NameTree.map(tree, f)),
    transformDelegate: (tree) => mapper.map((f) => mapDelegateLeaves(tree, delegateLeaf(f))),
  }
}

function applyAll<T>(value: Activity<T>, steps: readonly ((t: T) => Activity<T>)[]): Activity<T> {
  return steps.reduce((a, step) => a.flatMap(step), value)
}

/**
 * An interpreter whose bound trees (and delegations, when it can delegate) go through `transformers`
 * in order (linkerd's interpreter-level `transformers:`).
 *
 * @example
 * ```ts
 * const interpreter = transformInterpreter(defaultInterpreter({ namers }), [portTransformer({ port: 4141 })])
 * ```
 */
export function transformInterpreter(
  interpreter: NameInterpreter & Partial<Delegator>,
  transformers: readonly Transformer[],
): NameInterpreter & Partial<Delegator> {
  if (transformers.length === 0) return interpreter
  const bindSteps = transformers.map((t) => (tree: NameTree<NameBound>) => t.transform(tree))
  const delegateSteps = transformers.map((t) => (tree: DelegateTree<NameBound>) => t.transformDelegate(tree))
  const out: NameInterpreter & Partial<Delegator> = {
    bind: (dtab, path) => applyAll(interpreter.bind(dtab, path), bindSteps),
  }
  const inner = interpreter.delegate
  if (inner) {
    return {
      ...out,
      delegate: (dtab, path) => applyAll(inner.call(interpreter, dtab, path), delegateSteps),
    }
  }
  return out
}

function isBound(tree: NameTree<Name>): tree is NameTree<NameBound> {
  switch (tree.kind) {
    case 'neg':
    case 'fail':
    case 'empty':
      return true
    case 'leaf':
      return tree.value.kind === 'bound'
    case 'alt':
      return tree.trees.every(isBound)
    case 'union':
      return tree.trees.every((w) => isBound(w.tree))
  }
}

/**
 * A namer whose answers go through `transformers` in order, when they are fully bound (an answer
 * that still has paths to bind, as a rewriting namer gives, is passed on unchanged): linkerd's
 * namer-level `transformers:`.
 *
 * @example
 * ```ts
 * const local = transformNamer(fsNamer({ rootDir: 'disco' }), [localhostTransformer()])
 * ```
 */
export function transformNamer(namer: Namer, transformers: readonly Transformer[]): Namer {
  if (transformers.length === 0) return namer
  const steps = transformers.map((t) => (tree: NameTree<NameBound>) => t.transform(tree))
  return {
    lookup: (path) =>
      namer.lookup(path).flatMap((tree): Activity<NameTree<Name>> => {
        if (!isBound(tree)) return Activity.value(tree)
        return applyAll(Activity.value(tree), steps)
      }),
  }
}
