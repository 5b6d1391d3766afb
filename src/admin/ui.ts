import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The Content-Security-Policy of every admin page: scripts, styles and requests from the admin
 * server itself only, no inline code, no frames, no plugins. The pages need nothing else (no CDN:
 * the machines that run namerd and l5d may have no internet).
 */
export const ADMIN_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
}

/** The same folder from `src/admin/` (tsx, tests) and from `dist/admin/` (the published package). */
const ASSET_DIR = new URL('../../assets/admin/', import.meta.url)

interface Asset {
  readonly body: Buffer
  readonly type: string
  readonly etag: string
}

const assets = new Map<string, Asset | null>()

/** Reads a shipped asset once; names outside the asset folder's flat list are never read. */
function asset(name: string): Asset | undefined {
  if (!/^[a-z0-9-]+\.(js|css|svg)$/.test(name)) return undefined
  const cached = assets.get(name)
  if (cached !== undefined) return cached ?? undefined
  let found: Asset | null = null
  try {
    const body = readFileSync(new URL(name, ASSET_DIR))
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream'
    found = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }
  } catch {
    found = null
  }
  assets.set(name, found)
  return found ?? undefined
}

/** Headers every admin page and asset carries. */
function securityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', ADMIN_CSP)
  res.setHeader('x-content-type-options', 'nosniff')
  res.setHeader('referrer-policy', 'no-referrer')
  res.setHeader('x-frame-options', 'DENY')
}

/**
 * Serves `/files/<name>` from the assets shipped in the package: correct content type, an ETag
 * (a matching `If-None-Match` answers 304), `cache-control: no-cache` so a new version is picked up
 * at once, and the admin CSP. Unknown names answer 404. Returns false when `path` is not under
 * `/files/`.
 *
 * @example
 * ```ts
 * const handler: RequestListener = (req, res) => {
 *   if (!serveAdminAsset(req, res, new URL(req.url ?? '/', 'http://x').pathname)) res.end('page')
 * }
 * ```
 */
export function serveAdminAsset(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (!path.startsWith('/files/')) return false
  const found = asset(path.slice('/files/'.length))
  securityHeaders(res)
  if (!found) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(`not found: ${path}\n`)
    return true
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
    res.end('use GET\n')
    return true
  }
  const headers = { etag: found.etag, 'cache-control': 'no-cache' }
  if (req.headers['if-none-match'] === found.etag) {
    res.writeHead(304, headers)
    res.end()
    return true
  }
  res.writeHead(200, { ...headers, 'content-type': found.type, 'content-length': found.body.length })
  res.end(req.method === 'HEAD' ? undefined : found.body)
  return true
}

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** What an admin page shows: its title, its body HTML (already escaped) and its script. */
export interface AdminPage {
  readonly title: string
  readonly body: string
  /** Asset names under `/files/` loaded as ES modules, e.g. `namerd.js`. */
  readonly scripts?: readonly string[] | undefined
  /** `data-*` attributes of `<body>` that the script reads (values escaped here). */
  readonly data?: Readonly<Record<string, string>> | undefined
  /** How deep the page is below `/`, so that asset links stay relative (`/dtab/x` is 1). */
  readonly depth?: number | undefined
}

/**
 * Writes an admin HTML page: the shared stylesheet, the page's scripts (no inline code, so the strict
 * CSP holds), `cache-control: no-store` (pages show live state) and the security headers.
 *
 * @example
 * ```ts
 * sendAdminPage(res, 200, { title: 'namerd', body: '<h1>namerd</h1>', scripts: ['namerd.js'] })
 * ```
 */
export function sendAdminPage(res: ServerResponse, status: number, page: AdminPage): void {
  const up = '../'.repeat(page.depth ?? 0)
  const data = Object.entries(page.data ?? {})
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('')
  const scripts = (page.scripts ?? [])
    .map((s) => `<script type="module" src="${up}files/${escapeHtml(s)}"></script>`)
    .join('')
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(page.title)}</title><link rel="icon" href="${up}files/favicon.svg"><link rel="stylesheet" href="${up}files/admin.css">${scripts}</head>` +
    `<body${data}>${page.body}</body></html>\n`
  securityHeaders(res)
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(html),
  })
  res.end(html)
}
