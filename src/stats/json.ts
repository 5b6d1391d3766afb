import type { InMemoryStats, MetricsTree } from './stats.js'

/** An answer of the `metrics.json` endpoint: status and JSON body. */
export interface MetricsJsonAnswer {
  readonly status: 200 | 404
  readonly body: string
}

/** Finds `q` (`rt/service/svc/users`) in a tree whose keys may themselves hold `/`. */
function subtree(tree: MetricsTree, q: string): MetricsTree | undefined {
  if (q === '') return tree
  // The longest key that is a whole-element prefix of q wins (`svc/users` over `svc`).
  const keys = Object.keys(tree)
    .filter((k) => typeof tree[k] === 'object' && (q === k || q.startsWith(`${k}/`)))
    .sort((a, b) => b.length - a.length)
  for (const k of keys) {
    const found = subtree(tree[k] as MetricsTree, q.slice(k.length + 1))
    if (found) return found
  }
  return undefined
}

function sortedDeep(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v).sort()) out[k] = sortedDeep((v as Record<string, unknown>)[k])
  return out
}

/**
 * linkerd's `/admin/metrics.json` with its query parameters: the flat object by default, the nested
 * tree with `tree=1`, the subtree at `q=<a/b/c>` (404 `{"error":"No such subtree: <q>"}` when
 * absent), indented with sorted keys with `pretty=true`.
 *
 * @example
 * ```ts
 * metricsJson(stats, new URLSearchParams('tree=1&q=rt/service')).body // '{"svc/users":{...}}\n'
 * ```
 */
export function metricsJson(stats: InMemoryStats, params: URLSearchParams): MetricsJsonAnswer {
  const pretty = params.get('pretty') === 'true' || params.get('pretty') === '1'
  const tree = params.get('tree') === '1' || params.get('tree') === 'true'
  const q = params.get('q')
  let value: unknown
  if (tree || q !== null) {
    const full = stats.tree()
    const found = q === null ? full : subtree(full, q.replace(/^\/+|\/+$/g, ''))
    if (found === undefined)
      return { status: 404, body: `${JSON.stringify({ error: `No such subtree: ${q}` })}\n` }
    value = found
  } else value = stats.json()
  const body = pretty ? JSON.stringify(sortedDeep(value), null, 2) : JSON.stringify(value)
  return { status: 200, body: `${body}\n` }
}
