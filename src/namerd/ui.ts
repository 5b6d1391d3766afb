import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { escapeHtml, sendAdminPage, serveAdminAsset } from '../admin/ui.js'
import type { Activity } from '../core/activity.js'
import { Dtab } from '../naming/dtab.js'
import { ParseError } from '../naming/parse-error.js'

/** What namerd's admin UI needs. */
export interface NamerdUiOptions {
  /** The namespaces, for the index page and to answer 404 for a missing one. */
  readonly namespaces?: Activity<readonly string[]> | undefined
  /**
   * namerd's HTTP API (the first `io.l5d.httpController` interface's handler), mounted at
   * `/api/1/` on the admin port so that the pages reach it without cross-origin requests; its own
   * rules apply there, the bearer token for writes included.
   */
  readonly api?: RequestListener | undefined
}

/** The largest dtab the editor's syntax check reads (the API's own limit applies on save). */
export const MAX_VALIDATE_BYTES = 256 * 1024

const header = (depth: number) => {
  const up = '../'.repeat(depth) || './'
  return (
    `<header><h1>namerd</h1><nav><a href="${up}">namespaces</a><a href="${up}admin">admin</a>` +
    `<a href="${up}admin/metrics.json">metrics.json</a><a href="${up}admin/metrics/prometheus">prometheus</a>` +
    `<a href="${up}config.json">config</a></nav>` +
    `<label>token <input id="token" type="password" autocomplete="off" size="16"></label></header>`
  )
}

const text = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function sample(names: Activity<readonly string[]> | undefined): readonly string[] {
  try {
    return names?.sample() ?? []
  } catch {
    return []
  }
}

function indexPage(res: ServerResponse, names: readonly string[]): void {
  const list =
    names.length === 0
      ? '<p id="empty">No namespaces found.</p>'
      : `<ul id="namespaces">${[...names]
          .sort()
          .map((n) => `<li><a href="dtab/${escapeHtml(encodeURIComponent(n))}">${escapeHtml(n)}</a></li>`)
          .join('')}</ul>`
  sendAdminPage(res, 200, {
    title: 'namerd',
    scripts: ['namerd.js'],
    data: { page: 'index', depth: '0' },
    body:
      `${header(0)}<main><h2>Namespaces</h2>${list}` +
      `<form id="create"><input id="new-ns" placeholder="new namespace" aria-label="new namespace"> ` +
      `<button id="create-button" type="submit">Create</button></form><p id="status" role="status"></p></main>`,
  })
}

function dtabPage(res: ServerResponse, ns: string): void {
  const name = escapeHtml(ns)
  sendAdminPage(res, 200, {
    title: `namerd: ${ns}`,
    scripts: ['namerd.js'],
    depth: 1,
    data: { page: 'dtab', depth: '1', namespace: ns },
    body:
      `${header(1)}<main><h2>Namespace <code id="ns">${name}</code> <small id="version"></small></h2>` +
      `<section><h3>Dtab</h3><textarea id="dtab" rows="12" spellcheck="false" aria-label="dtab"></textarea>` +
      `<pre id="error" hidden></pre><h3>Changes against the stored version</h3><pre id="diff"></pre>` +
      `<button id="save">Save</button><button id="revert">Revert</button><button id="delete">Delete namespace</button>` +
      `<div id="confirm-delete" hidden><p>Delete namespace <b>${name}</b> and its dtab?</p>` +
      `<button id="delete-yes">Delete</button><button id="delete-no">Cancel</button></div>` +
      `<div id="conflict" hidden><p>Another writer changed this dtab since you loaded it; your edit was not saved. ` +
      `Their version:</p><pre id="theirs"></pre><button id="take-theirs">Load their version</button></div>` +
      `<p id="status" role="status"></p></section>` +
      `<section><h3>Delegator</h3><form id="delegate-form"><input id="deleg-path" value="/svc/" size="40" aria-label="path"> ` +
      `<button id="delegate" type="submit">Delegate</button>` +
      `<textarea id="deleg-dtab" rows="2" placeholder="extra dtab for this request (optional)" aria-label="extra dtab"></textarea>` +
      `</form><div id="deleg-tree"></div></section>` +
      `<section><h3>Bound names</h3><p id="bound-empty">No bound names yet.</p>` +
      `<table><thead><tr><th>name</th><th>addresses</th></tr></thead><tbody id="bound-body"></tbody></table></section></main>`,
  })
}

/** Line and column (1-based, in UTF-16 code units) of `offset` in `input`. */
function position(input: string, offset: number): { line: number; column: number } {
  const before = input.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}

function validate(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST')
    text(res, 405, 'use POST\n')
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  let refused = false
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > MAX_VALIDATE_BYTES && !refused) {
      refused = true
      text(res, 413, `a dtab to check may have at most ${MAX_VALIDATE_BYTES} bytes\n`)
      req.resume()
    } else if (!refused) chunks.push(chunk)
  })
  req.on('end', () => {
    if (refused) return
    const input = Buffer.concat(chunks).toString('utf8')
    let body: string
    try {
      const dtab = Dtab.read(input)
      body = JSON.stringify({ ok: true, entries: dtab.size })
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      body = JSON.stringify({
        ok: false,
        message: error.message,
        offset: error.offset,
        expected: error.expected,
        found: error.found,
        ...position(input, error.offset),
      })
    }
    text(res, 200, `${body}\n`, 'application/json')
  })
}

/**
 * namerd's admin UI routes (served on the admin port, default 9991): `/` lists the namespaces and
 * creates new ones, `/dtab/<ns>` edits a namespace's dtab (syntax checked as you type, a diff
 * against the stored version, saves with the version so a concurrent write is refused and shown,
 * delete with confirmation), delegates a path through it and lists the bound names live;
 * `/files/*` serves the shipped assets and `/admin/dtab/validate` checks dtab text. The handler
 * answers and returns true for its own paths and returns false for others.
 *
 * @example
 * ```ts
 * const ui = namerdUi({ namespaces: store.list(), api: controller.handler })
 * const handler: RequestListener = (req, res) => {
 *   if (!ui(req, res, new URL(req.url ?? '/', 'http://x').pathname)) res.writeHead(404).end()
 * }
 * ```
 */
export function namerdUi(
  options: NamerdUiOptions,
): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  return (req, res, path) => {
    if (serveAdminAsset(req, res, path)) return true
    if (path === '/admin/dtab/validate') {
      validate(req, res)
      return true
    }
    if (path.startsWith('/api/1/') || path === '/api/1') {
      if (!options.api) return false
      options.api(req, res)
      return true
    }
    if (path === '/') {
      indexPage(res, sample(options.namespaces))
      return true
    }
    if (path.startsWith('/dtab/')) {
      let ns: string
      try {
        ns = decodeURIComponent(path.slice('/dtab/'.length))
      } catch {
        text(res, 400, `not a percent-encoded namespace name: ${path.slice('/dtab/'.length)}\n`)
        return true
      }
      if (!sample(options.namespaces).includes(ns)) {
        sendAdminPage(res, 404, {
          title: 'namerd: not found',
          depth: 1,
          body: `${header(1)}<main><p>No namespace <code>${escapeHtml(ns)}</code>.</p><p><a href="../">namespaces</a></p></main>`,
        })
        return true
      }
      dtabPage(res, ns)
      return true
    }
    return false
  }
}
