import { Activity, type ActivityState } from '../core/activity.js'
import { Var } from '../core/var.js'
import type { Name } from './name.js'
import { Namer } from './namer.js'
import type { NameTree } from './nametree.js'
import { Path } from './path.js'
import { type SystemNamerOptions, systemNamer } from './system/index.js'

/**
 * A namer mounted under a path prefix (by linkerd's convention `/#/<name>`, e.g.
 * `/#/io.l5d.fs`): it sees the looked-up path with the prefix removed.
 *
 * @example
 * ```ts
 * const entry: MountedNamer = { prefix: Path.read('/#/disco'), namer: myNamer }
 * ```
 */
export interface MountedNamer {
  readonly prefix: Path
  readonly namer: Namer
}

/**
 * The namers a dtab's paths end up at: user namers mounted under prefixes (`/#/io.l5d.fs`) and
 * the system namers under `/$/` (inet, rinet, nil, fail, the rewriting namers, and any kind you
 * add). Immutable: `mount` and `withSystem` return a new registry.
 *
 * A lookup (linkerd's ConfiguredNamersInterpreter) tries the mounted namers whose prefix starts
 * the path, the most recently mounted first; a namer answering `Neg` passes the path on to the
 * next one; a pending or failed answer is the answer. When no mounted namer claims the path, the
 * system namer answers.
 *
 * @example
 * ```ts
 * const namers = NamerRegistry.create()
 *   .mount('/#/static', staticNamer(Path.read('/#/static'), { users: ['10.0.0.1:8080'] }))
 * namers.lookup(Path.read('/#/static/users')) // Leaf(Name.Bound(/#/static/users))
 * namers.lookup(Path.read('/$/inet/127.0.0.1/80')) // the system namer
 * ```
 */
export class NamerRegistry {
  /** Mounted namers in preference order (the most recently mounted first). */
  readonly mounted: readonly MountedNamer[]
  /** The namer for everything no mounted namer claims (by default `systemNamer()`). */
  readonly system: Namer

  private constructor(mounted: readonly MountedNamer[], system: Namer) {
    this.mounted = mounted
    this.system = system
  }

  /**
   * A registry with no mounted namers and the system namers configured by `options` (DNS
   * resolver, scheduler, poll interval, extra `/$/<kind>` namers).
   *
   * @example
   * ```ts
   * const namers = NamerRegistry.create({ resolver: fakeDns, scheduler: manualClock() })
   * ```
   */
  static create(options: SystemNamerOptions = {}): NamerRegistry {
    return new NamerRegistry([], systemNamer(options))
  }

  /**
   * A registry of these mounted namers, listed in configuration order (the last one wins when
   * prefixes overlap, as in linkerd), over the default system namers.
   *
   * @example
   * ```ts
   * NamerRegistry.of([{ prefix: Path.read('/#/a'), namer: a }, { prefix: Path.read('/#/b'), namer: b }])
   * ```
   */
  static of(mounted: readonly MountedNamer[], options: SystemNamerOptions = {}): NamerRegistry {
    return mounted.reduce((r, m) => r.mount(m.prefix, m.namer), NamerRegistry.create(options))
  }

  /**
   * This registry with `namer` mounted under `prefix` (a path or its text form, e.g.
   * `'/#/users'`); it takes precedence over namers mounted before it.
   *
   * @example
   * ```ts
   * NamerRegistry.create().mount('/#/users', usersNamer)
   * ```
   */
  mount(prefix: Path | string, namer: Namer): NamerRegistry {
    const p = typeof prefix === 'string' ? Path.read(prefix) : prefix
    return new NamerRegistry([{ prefix: p, namer }, ...this.mounted], this.system)
  }

  /**
   * This registry with another namer for what no mounted namer claims (e.g. a `systemNamer` with
   * other options or extra kinds).
   *
   * @example
   * ```ts
   * NamerRegistry.create().withSystem(systemNamer({ kinds: { 'com.example.static': staticNamer } }))
   * ```
   */
  withSystem(system: Namer): NamerRegistry {
    return new NamerRegistry(this.mounted, system)
  }

  /**
   * Looks `path` up as described on the class.
   *
   * @example
   * ```ts
   * NamerRegistry.create().lookup(Path.read('/$/fail')).sample() // NameTree.Fail
   * ```
   */
  lookup(path: Path): Activity<NameTree<Name>> {
    return this.lookupFrom(0, path)
  }

  private lookupFrom(start: number, path: Path): Activity<NameTree<Name>> {
    for (let i = start; i < this.mounted.length; i++) {
      const { prefix, namer } = this.mounted[i]!
      if (!path.startsWith(prefix)) continue
      const answer = Namer.lookup(namer, path.drop(prefix.size))
      return Activity.of(
        answer.states.flatMap(
          (s): Var<ActivityState<NameTree<Name>>> =>
            s.kind === 'ok' && s.value.kind === 'neg' ? this.lookupFrom(i + 1, path).states : Var.constant(s),
        ),
      )
    }
    return Namer.lookup(this.system, path)
  }
}
