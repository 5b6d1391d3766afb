/**
 * Service-discovery namers, one file per backend, mountable in a `NamerRegistry`.
 *
 * @example
 * ```ts
 * import { fsNamer } from 'switchboard/namers'
 * const fs = fsNamer({ rootDir: 'disco' })
 * const namers = NamerRegistry.create().mount(fs.prefix, fs)
 * ```
 */
export {
  type FsNamer,
  FsNamerFileError,
  type FsNamerOptions,
  fsNamer,
  MAX_SERVICE_FILE_BYTES,
  parseServiceFile,
} from './fs.js'
export { type RewriteNamerOptions, rewriteNamer } from './rewrite.js'
