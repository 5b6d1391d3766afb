/**
 * The admin server linkerd (l5d) and namerd share: ping, metrics (JSON flat and tree, Prometheus),
 * the config view with secrets redacted, graceful shutdown, linkerd's path security rules.
 *
 * @example
 * ```ts
 * import { sharedAdminHandler } from 'switchboard/admin'
 * ```
 */

export { l5dDashboard } from './dashboard.js'
export {
  type AdminRoute,
  type AdminSecurity,
  metricsTree,
  redactSecrets,
  type SharedAdminOptions,
  sendText,
  sharedAdminHandler,
} from './handler.js'
