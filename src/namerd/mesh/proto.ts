import type * as Grpc from '@grpc/grpc-js'
import type * as ProtoLoader from '@grpc/proto-loader'
import { importOptional } from '../../core/optional.js'
import { meshProtoPath } from './proto-path.js'

export { meshProtoPath } from './proto-path.js'

/** How the mesh messages are turned into plain objects (see `convert.ts` for their shapes). */
export const MESH_LOADER_OPTIONS: ProtoLoader.Options = {
  keepCase: true,
  enums: String,
  longs: String,
  defaults: false,
  oneofs: true,
}

/** The four io.linkerd.mesh services' client constructors and definitions. */
export interface MeshGrpc {
  readonly grpc: typeof Grpc
  readonly Codec: Grpc.ServiceClientConstructor
  readonly Interpreter: Grpc.ServiceClientConstructor
  readonly Resolver: Grpc.ServiceClientConstructor
  readonly Delegator: Grpc.ServiceClientConstructor
}

/**
 * Loads `@grpc/grpc-js` and `@grpc/proto-loader` (optional peer dependencies: a missing one
 * rejects with `MissingDependencyError`) and the mesh services from `mesh.proto`.
 *
 * @example
 * ```ts
 * const { grpc, Interpreter } = await loadMeshGrpc('the io.l5d.mesh interpreter')
 * ```
 */
export async function loadMeshGrpc(feature: string): Promise<MeshGrpc> {
  const grpc = await importOptional<typeof Grpc>('@grpc/grpc-js', feature)
  const loader = await importOptional<typeof ProtoLoader>('@grpc/proto-loader', feature)
  const def = await loader.load(meshProtoPath(), MESH_LOADER_OPTIONS)
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    io: { linkerd: { mesh: Record<string, Grpc.ServiceClientConstructor> } }
  }
  const mesh = pkg.io.linkerd.mesh
  return {
    grpc,
    Codec: mesh['Codec']!,
    Interpreter: mesh['Interpreter']!,
    Resolver: mesh['Resolver']!,
    Delegator: mesh['Delegator']!,
  }
}
