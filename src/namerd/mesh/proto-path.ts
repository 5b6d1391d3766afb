import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The path of `mesh.proto`, the io.linkerd.mesh wire contract shipped with switchboard (beside
 * this module in `src/` and in `dist/`).
 *
 * @example
 * ```ts
 * const def = await protoLoader.load(meshProtoPath(), { keepCase: true })
 * ```
 */
export function meshProtoPath(): string {
  const here = fileURLToPath(new URL('./mesh.proto', import.meta.url))
  if (existsSync(here)) return here
  // A build that did not copy the file: fall back to the sources shipped in the package.
  return fileURLToPath(new URL('../../../src/namerd/mesh/mesh.proto', import.meta.url))
}
