import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ClassifierKind, IdentifierKind, InterpreterKind, TransformerKind } from '../config/router.js'
import type { TelemeterKind } from '../config/telemetry.js'
import { SwitchboardError } from '../core/errors.js'
import { defaultNamerKinds, type NamerKind } from '../namerd/config.js'
import type { LinkerKinds } from './config.js'

/**
 * What a plugin module registers its kinds with (linkerd's plugin jars, as ES modules). A plugin
 * exports `register(registry)` (or a default function of that shape).
 *
 * @example
 * ```ts
 * // plugins/canary.js
 * export function register(registry) {
 *   registry.identifier(configKind('io.example.canary', {}, {}, () => (prefix) => canaryIdentifier(prefix)))
 * }
 * ```
 */
export interface PluginRegistry {
  identifier(kind: IdentifierKind): void
  namer(kind: NamerKind): void
  transformer(kind: TransformerKind): void
  classifier(kind: ClassifierKind): void
  interpreter(kind: InterpreterKind): void
  telemeter(kind: TelemeterKind): void
}

/**
 * A plugin could not be loaded: the file, and why (not an ES module, no `register` export, it threw,
 * or it registered a kind that already exists).
 *
 * @example
 * ```ts
 * err instanceof PluginError && err.file // '/etc/l5d/plugins/canary.js'
 * ```
 */
export class PluginError extends SwitchboardError {
  readonly file: string
  constructor(file: string, why: string) {
    super('PluginError', `plugin ${file}: ${why}`)
    this.file = file
  }
}

/** A registry that collects kinds into `LinkerKinds` (namers start from the built-in ones). */
export function kindRegistry(): PluginRegistry & { readonly kinds: LinkerKinds; readonly names: string[] } {
  const identifiers: IdentifierKind[] = []
  const namers: NamerKind[] = [...defaultNamerKinds]
  const transformers: TransformerKind[] = []
  const classifiers: ClassifierKind[] = []
  const interpreters: InterpreterKind[] = []
  const telemeters: TelemeterKind[] = []
  const names: string[] = []
  const add =
    <K extends { kind: string }>(list: K[], what: string) =>
    (k: K) => {
      if (list.some((x) => x.kind === k.kind)) throw new Error(`${what} kind ${k.kind} is already registered`)
      list.push(k)
      names.push(`${what} ${k.kind}`)
    }
  return {
    identifier: add(identifiers, 'identifier'),
    namer: add(namers, 'namer'),
    transformer: add(transformers, 'transformer'),
    classifier: add(classifiers, 'classifier'),
    interpreter: add(interpreters, 'interpreter'),
    telemeter: add(telemeters, 'telemeter'),
    kinds: { identifiers, namers, transformers, classifiers, interpreters, telemeters },
    names,
  }
}

const MODULE = /\.(m?js|ts|mts)$/

/**
 * Loads every ES module in `dir` (`.js`, `.mjs`; `.ts` when a TypeScript loader such as tsx is
 * active), in name order, and lets each register its kinds. Returns the kinds to pass to
 * `createLinker` and the names registered.
 *
 * @example
 * ```ts
 * const { kinds } = await loadPlugins('./plugins')
 * await createLinker(text, { kinds })
 * ```
 */
export async function loadPlugins(
  dirs: readonly string[],
): Promise<{ kinds: LinkerKinds; registered: readonly string[] }> {
  const registry = kindRegistry()
  for (const dir of dirs) {
    const abs = resolve(dir)
    let files: string[]
    try {
      const st = await stat(abs)
      files = st.isDirectory()
        ? (await readdir(abs))
            .filter((f) => MODULE.test(f) && !f.endsWith('.d.ts'))
            .sort()
            .map((f) => join(abs, f))
        : [abs]
    } catch (error) {
      throw new PluginError(abs, `cannot read: ${(error as Error).message}`)
    }
    for (const file of files) {
      let mod: Record<string, unknown>
      try {
        mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
      } catch (error) {
        throw new PluginError(file, `cannot import: ${(error as Error).message}`)
      }
      const register = (mod['register'] ?? mod['default']) as ((r: PluginRegistry) => unknown) | undefined
      if (typeof register !== 'function')
        throw new PluginError(file, 'exports no register(registry) function (nor a default one)')
      try {
        await register(registry)
      } catch (error) {
        throw new PluginError(file, (error as Error).message)
      }
    }
  }
  return { kinds: registry.kinds, registered: registry.names }
}
