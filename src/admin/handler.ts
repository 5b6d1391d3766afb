import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { redactConfig } from '../config/redact.js'
import { metricsJson } from '../stats/json.js'
import type { InMemoryStats } from '../stats/stats.js'

/** A route of the admin server: answers a request (the body is not read for you). */
export type AdminRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => void

/** linkerd's `admin.security` block (spec router §5.1). */
export interface AdminSecurity {
  readonly uiEnabled?: boolean | undefined
  readonly controlEnabled?: boolean | undefined
  readonly diagnosticsEnabled?: boolean | undefined
  readonly pathWhitelist?: readonly RegExp[] | undefined
  readonly pathBlacklist?: readonly RegExp[] | undefined
}

/** What the shared admin server shows (linkerd's and namerd's). */
export interface SharedAdminOptions {
  /** The receiver whose stats `/admin/metrics.json` exports. */
  readonly stats: InMemoryStats
  /** The parsed configuration, served at `/config.json` with secrets redacted. */
  readonly config?: unknown
  /** When given, `POST /admin/shutdown` answers `quitting` and then calls it. */
  readonly onShutdown?: (() => void) | undefined
  /** Routes of the process (and its telemeters), added to the common ones; they win on a clash. */
  readonly routes?: Readonly<Record<string, AdminRoute>> | undefined
  /** Which paths are served (default: everything). */
  readonly security?: AdminSecurity | undefined
  /** The text `/admin/shutdown` answers. Default `quitting\n` (twitter-server's). */
  readonly shutdownText?: string | undefined
}

/**
 * Writes a complete response with `Content-Length`.
 *
 * @example
 * ```ts
 * sendText(res, 200, 'pong')
 * ```
 */
export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const SECRET = /(token|password|passwd|secret|apikey|api_key|credentials?)$/i

/**
 * A copy of a parsed configuration with the values of secret-looking keys (`authToken`, `token`,
 * `password`, `secret`, `apiKey`, `credentials`) replaced by `"<redacted>"`.
 *
 * @example
 * ```ts
 * redactSecrets({ interfaces: [{ authToken: 's3cret' }] }) // { interfaces: [{ authToken: '<redacted>' }] }
 * ```
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET.test(k) && v !== null && typeof v !== 'object' ? '<redacted>' : redactSecrets(v)
    return out
  }
  return value
}

const STAT_SUFFIX = /\.(count|sum|avg|min|max|p50|p90|p95|p99|p9990|p9999)$/

/**
 * linkerd's `?tree=1` view of flat metrics: each scope a nested object, each value a
 * `{ counter }`, `{ gauge }` or `{ "stat.<x>" }` node.
 *
 * @example
 * ```ts
 * metricsTree({ 'rt/http/requests': 3 }, () => false) // { rt: { http: { requests: { counter: 3 } } } }
 * ```
 */
export function metricsTree(
  flat: Readonly<Record<string, number>>,
  isGauge: (name: string) => boolean,
): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(flat)) {
    const m = STAT_SUFFIX.exec(key)
    const name = m ? key.slice(0, m.index) : key
    let node = root
    for (const seg of name.split('/')) {
      let next = node[seg] as Record<string, unknown> | undefined
      if (typeof next !== 'object' || next === null) {
        next = {}
        node[seg] = next
      }
      node = next
    }
    if (m) node[`stat.${m[1]}`] = value
    else node[isGauge(key) ? 'gauge' : 'counter'] = value
  }
  return root
}

const UI = [
  /^\/$/,
  /^\/files\/.*$/,
  /^\/admin\/files\/.*$/,
  /^\/config[.]json$/,
  /^\/metrics[.]json$/,
  /^\/admin\/metrics[.]json$/,
  /^\/admin\/metrics$/,
  /^\/delegator$/,
  /^\/delegator[.]json$/,
  /^\/logging$/,
  /^\/help$/,
]
const CONTROL = [/^\/admin\/shutdown$/, /^\/logging[.]json$/]

/**
 * The admin HTTP handler linkerd and namerd share (spec router §5): `/admin/ping` (`pong`),
 * `/admin/metrics.json` (flat; `?tree=1` nested; `?pretty=true`; `?q=a/b` a subtree),
 * `/admin/metrics/prometheus`, `/config.json` (secrets redacted), `POST /admin/shutdown` (405 with
 * `Allow: POST` otherwise), `/admin` and `/admin/index.txt` (the routes), plus the process's own
 * routes; linkerd's `security` rules (ui / control / diagnostics, white- and blacklists; refused
 * paths are 404).
 *
 * @example
 * ```ts
 * http.createServer(sharedAdminHandler({ stats, config, onShutdown: () => linker.close() })).listen(9990)
 * ```
 */
export function sharedAdminHandler(options: SharedAdminOptions): RequestListener {
  const { stats } = options
  const routes: Record<string, AdminRoute> = {
    '/admin/ping': (_req, res) => sendText(res, 200, 'pong'),
    '/admin/metrics.json': (_req, res, url) => {
      const answer = metricsJson(stats, url.searchParams)
      sendText(res, answer.status, answer.body, 'application/json')
    },
    '/admin/metrics/prometheus': (_req, res) =>
      sendText(res, 200, stats.prometheus(), 'text/plain; version=0.0.4; charset=utf-8'),
    '/config.json': (_req, res) =>
      sendText(
        res,
        200,
        `${JSON.stringify(redactConfig(options.config ?? {}))}\n`,
        'application/json;charset=UTF-8',
      ),
  }
  if (options.onShutdown) {
    const onShutdown = options.onShutdown
    const reply = options.shutdownText ?? 'quitting\n'
    routes['/admin/shutdown'] = (req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-length': 0 })
        res.end()
        return
      }
      res.on('finish', onShutdown)
      sendText(res, 200, reply)
    }
  }
  Object.assign(routes, options.routes)
  const index = [...new Set([...Object.keys(routes), '/admin', '/admin/index.txt'])].sort()
  routes['/admin'] ??= (_req, res) => sendText(res, 200, `${index.join('\n')}\n`)
  routes['/admin/index.txt'] ??= routes['/admin']
  const sec = options.security ?? {}
  const allowed = (path: string): boolean => {
    if ((sec.pathBlacklist ?? []).some((r) => r.test(path))) return false
    const category = UI.some((r) => r.test(path))
      ? 'ui'
      : CONTROL.some((r) => r.test(path))
        ? 'control'
        : 'diagnostics'
    const enabled =
      category === 'ui'
        ? (sec.uiEnabled ?? true)
        : category === 'control'
          ? (sec.controlEnabled ?? true)
          : (sec.diagnosticsEnabled ?? true)
    return enabled || (sec.pathWhitelist ?? []).some((r) => r.test(path))
  }
  return (req, res) => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://admin')
    } catch {
      return sendText(res, 400, 'bad request target\n')
    }
    const path = url.pathname
    if (!allowed(path)) {
      res.writeHead(404, { 'content-length': 0 })
      res.end()
      return
    }
    const route = routes[path]
    if (route) route(req, res, url)
    else sendText(res, 404, `not found: ${path}\n`)
  }
}
