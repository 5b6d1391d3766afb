import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendAdminPage, serveAdminAsset } from './ui.js'

/**
 * l5d's admin dashboard (linkerd's `/` on 9990) and its assets: per router request, success and
 * failure rates and latency percentiles, per server, service and client panels (load balancer,
 * failure accrual, retries against the budget), refreshed every second from
 * `admin/metrics.json?tree=1`; a delegator per router (`/delegator.json`); links to the Prometheus
 * metrics and the (redacted) config. Answers `/`, `/delegator` and `/files/*` and returns true;
 * returns false for any other path.
 *
 * @example
 * ```ts
 * const handler: RequestListener = (req, res) => {
 *   const path = new URL(req.url ?? '/', 'http://x').pathname
 *   if (!l5dDashboard(req, res, path)) adminRoutes(req, res)
 * }
 * ```
 */
export function l5dDashboard(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (serveAdminAsset(req, res, path)) return true
  if (path !== '/' && path !== '/delegator') return false
  sendAdminPage(res, 200, {
    title: 'l5d',
    scripts: ['l5d.js'],
    data: { page: path === '/' ? 'dashboard' : 'delegator' },
    body:
      `<header><h1>l5d</h1><nav><a href="./">dashboard</a><a href="delegator">dtab</a>` +
      `<a href="admin/metrics.json?tree=1">metrics.json</a><a href="admin/metrics/prometheus">prometheus</a>` +
      `<a href="config.json">config</a><a href="admin">admin</a></nav><span id="updated"></span></header>` +
      `<main><div id="routers"></div>` +
      `<section id="delegator"><h2>Delegator</h2><form id="delegate-form">` +
      `<select id="deleg-router" aria-label="router"></select> ` +
      `<input id="deleg-path" value="/svc/" size="40" aria-label="path"> <button id="delegate" type="submit">Delegate</button>` +
      `<textarea id="deleg-dtab" rows="3" placeholder="extra dtab entries for this request (optional)" aria-label="dtab"></textarea>` +
      `</form><div id="deleg-tree"></div></section></main>`,
  })
  return true
}
