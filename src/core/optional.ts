import { SwitchboardError } from './errors.js'

/**
 * A feature needs a package that is an optional peer dependency of switchboard and is not
 * installed. The message names the package to install and the feature that asked for it.
 *
 * @example
 * ```ts
 * try { await importOptional('etcd3', 'switchboard/namerd/etcd') }
 * catch (e) { if (e instanceof MissingDependencyError) console.error(e.message) }
 * // MissingDependencyError: switchboard/namerd/etcd needs the package "etcd3": npm install etcd3
 * ```
 */
export class MissingDependencyError extends SwitchboardError {
  /** The npm package to install, e.g. `etcd3`. */
  readonly packageName: string
  constructor(packageName: string, feature: string, options?: { cause?: unknown }) {
    super(
      'MissingDependency',
      `${feature} needs the package "${packageName}": npm install ${packageName}`,
      options,
    )
    this.packageName = packageName
  }
}

const notFound = (e: unknown, name: string): boolean => {
  const code = (e as { code?: unknown } | null)?.code
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false
  // A missing transitive dependency of an installed package is a broken install, not a missing peer.
  const message = e instanceof Error ? e.message : ''
  return message.includes(`'${name}'`) || message.includes(`"${name}"`)
}

/**
 * Imports an optional peer dependency at run time, so that the core loads without it. A missing
 * package rejects with `MissingDependencyError` naming it; any other failure is passed on.
 *
 * @example
 * ```ts
 * const { Etcd3 } = await importOptional<typeof import('etcd3')>('etcd3', 'the etcd dtab store')
 * ```
 */
export async function importOptional<M>(packageName: string, feature: string): Promise<M> {
  try {
    return (await import(packageName)) as M
  } catch (e) {
    if (notFound(e, packageName)) throw new MissingDependencyError(packageName, feature, { cause: e })
    throw e
  }
}
