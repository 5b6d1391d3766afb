import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { type AdminRoute, sendText, sharedAdminHandler } from '../admin/handler.js'
import { redactConfig } from '../config/redact.js'
import type { Activity } from '../core/activity.js'
import type { Var } from '../core/var.js'
import { metricsJson } from '../stats/json.js'
import type { ProcessMetrics } from '../stats/prom-client.js'
import type { PrometheusOptions } from '../stats/prometheus.js'
import type { InMemoryStats } from '../stats/stats.js'
import type { StoreHealth } from './store/health.js'

/** What the admin server shows. */
export interface AdminOptions {
  /** The receiver whose counters, gauges and stats `/admin/metrics.*` export. */
  readonly stats: InMemoryStats
  /** The namespaces, for the dashboard at `/`. */
  readonly namespaces?: Activity<readonly string[]> | undefined
  /** The parsed configuration, served at `/config.json` with its secrets redacted (`redactConfig`). */
  readonly config?: unknown
  /**
   * The dtab store's health, for stores on a remote server: `/admin/ping` answers 503 with the
   * reason while it is not `connected` (a readiness check), `pong` otherwise.
   */
  readonly storeHealth?: Var<StoreHealth> | undefined
  /** Process/runtime metrics appended to `/admin/metrics/prometheus` (see `processMetrics`). */
  readonly processMetrics?: ProcessMetrics | undefined
  /** How `/admin/metrics/prometheus` names families (`prefix`). */
  readonly prometheus?: PrometheusOptions | undefined
  /** When given, `POST /admin/shutdown` calls it (and answers 200 first). */
  readonly onShutdown?: (() => void) | undefined
  /**
   * The browser UI (see `namerdUi`): asked first for every path; it answers and returns true for
   * its own. Without it `/` is a plain list of the namespaces.
   */
  readonly ui?: ((req: IncomingMessage, res: ServerResponse, path: string) => boolean) | undefined
}

const text = sendText

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * The admin HTTP handler of namerd (default `127.0.0.1:9991`): `/admin/ping` answers `pong` (or
 * 503 while a remote dtab store is not connected),
 * `/admin/metrics.json` (linkerd's flat shape; `tree=1`, `q=<a/b>`, `pretty=true`) and
 * `/admin/metrics/prometheus` (labelled families, histograms, process metrics) export the stats, `/admin` lists the
 * routes, `/config.json` shows the configuration with its secrets redacted, `/` lists the namespaces.
 *
 * @example
 * ```ts
 * const admin = await listen(adminHandler({ stats }), '127.0.0.1', 9991)
 * // curl localhost:9991/admin/ping → pong
 * ```
 */
export function adminHandler(options: AdminOptions): RequestListener {
  const routes: Record<string, AdminRoute> = {
    '/admin/ping': (_req, res) => {
      const health = options.storeHealth?.sample()
      if (health && health.status !== 'connected')
        return sendText(res, 503, `dtab store ${health.status}: ${health.detail}\n`)
      sendText(res, 200, 'pong')
    },
    '/admin/metrics.json': (req, res) => {
      const q = (req.url ?? '').indexOf('?')
      const answer = metricsJson(
        options.stats,
        new URLSearchParams(q < 0 ? '' : (req.url ?? '').slice(q + 1)),
      )
      text(res, answer.status, answer.body, 'application/json')
    },
    '/admin/metrics/prometheus': (_req, res) => {
      const body = options.stats.prometheus(options.prometheus)
      const type = 'text/plain; version=0.0.4; charset=utf-8'
      if (!options.processMetrics) return text(res, 200, body, type)
      options.processMetrics.text().then(
        (extra) => text(res, 200, body + extra, type),
        () => text(res, 200, body, type),
      )
    },
    '/config.json': (_req, res) =>
      text(res, 200, `${JSON.stringify(redactConfig(options.config ?? {}))}\n`, 'application/json'),
    '/': (_req, res) => {
      let names: readonly string[] = []
      try {
        names = options.namespaces?.sample() ?? []
      } catch {
        names = []
      }
      const items =
        names.length === 0
          ? '<p>No namespaces found.</p>'
          : `<ul>${names.map((n) => `<li><a href="dtab/${encodeURIComponent(n)}">${escapeHtml(n)}</a></li>`).join('')}</ul>`
      sendText(
        res,
        200,
        `<!doctype html><html><head><meta charset="utf-8"><title>namerd</title></head><body><h1>namerd</h1><h2>Namespaces</h2>${items}<p><a href="/admin">admin</a></p></body></html>\n`,
        'text/html; charset=utf-8',
      )
    },
  }
  const shared = sharedAdminHandler({
    stats: options.stats,
    config: options.config,
    onShutdown: options.onShutdown,
    routes,
  })
  const ui = options.ui
  if (!ui) return shared
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (!ui(req, res, path)) shared(req, res)
  }
}
