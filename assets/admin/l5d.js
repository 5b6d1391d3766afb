// l5d's admin dashboard: per router request, success and failure rates and latencies, per server
// and per client panels (load balancer, failure accrual, retries against the budget), updated every
// second from metrics.json?tree=1 as linkerd's dashboard was; and the delegator per router.
import { el, treeNode } from './delegate-tree.js'

const $ = (id) => document.getElementById(id)
const POLL_MS = 1000
let previous = null
let previousAt = 0

const num = (node, key) => {
  const leaf = node?.[key]
  if (!leaf) return 0
  return leaf.counter ?? leaf.gauge ?? 0
}
const stat = (node, key, q) => node?.[key]?.[`stat.${q}`]
const children = (node) =>
  Object.entries(node ?? {}).filter(([, v]) => v && typeof v === 'object' && !('counter' in v))

function rate(now, before, seconds) {
  if (before === undefined || seconds <= 0) return 0
  return Math.max(0, now - before) / seconds
}

/** Success rate over the last interval when there was traffic, else over the whole lifetime. */
function successRate(node, prevNode) {
  const req = num(node, 'requests')
  const ok = num(node, 'success')
  const dReq = req - num(prevNode, 'requests')
  const dOk = ok - num(prevNode, 'success')
  if (prevNode && dReq > 0) return (100 * dOk) / dReq
  return req > 0 ? (100 * ok) / req : null
}

const pct = (v) => (v === null ? '–' : `${v.toFixed(2)}%`)
const ms = (v) => (v === undefined ? '–' : `${Math.round(v)} ms`)

function metric(label, value, className = '') {
  const row = el('div', `metric ${className}`)
  row.append(el('span', '', label), el('b', '', value))
  return row
}

function panel(kind, name, node, prevNode, seconds) {
  const card = el('div', `card ${kind}`)
  card.dataset[kind] = name
  card.append(el('h4', '', name))
  card.append(
    metric('requests/s', rate(num(node, 'requests'), num(prevNode, 'requests'), seconds).toFixed(1), 'rps'),
    metric('success rate', pct(successRate(node, prevNode)), 'success-rate'),
    metric('failures/s', rate(num(node, 'failures'), num(prevNode, 'failures'), seconds).toFixed(1), 'fps'),
    metric('requests', String(num(node, 'requests'))),
    metric(
      'p50 / p95 / p99',
      ['p50', 'p95', 'p99'].map((q) => ms(stat(node, 'request_latency_ms', q))).join(' / '),
    ),
    metric('max', ms(stat(node, 'request_latency_ms', 'max'))),
  )
  if (kind === 'server') card.append(metric('connections', String(num(node, 'connections'))))
  if (kind === 'client') {
    const lb = node?.loadbalancer
    card.append(
      metric('endpoints (available/size)', `${num(lb, 'available')}/${num(lb, 'size')}`, 'lb'),
      metric('load', String(num(lb, 'load'))),
      metric('failure accrual removals', String(num(node?.failure_accrual, 'removals')), 'accrual'),
      metric('requeues', String(num(node?.retries, 'requeues'))),
    )
  }
  if (kind === 'service') {
    const retries = num(node?.retries, 'total')
    const requests = num(node, 'requests')
    const share = requests > 0 ? (100 * retries) / requests : 0
    card.append(metric('retries', `${retries} (${share.toFixed(1)}%)`, 'retries'))
    card.append(metric('retry budget', String(num(node?.retries, 'budget'))))
    const bar = el('span', 'bar')
    bar.style.width = `${Math.min(100, share * 5)}%`
    card.append(bar)
  }
  return card
}

function routerSection(name, node, prevNode, seconds) {
  const section = el('section', 'router')
  section.dataset.router = name
  const servers = children(node.server)
  const totals = { requests: 0, success: 0, failures: 0 }
  const before = { requests: 0, success: 0, failures: 0 }
  for (const [id, s] of servers) {
    for (const k of Object.keys(totals)) {
      totals[k] += num(s, k)
      before[k] += num(prevNode?.server?.[id], k)
    }
  }
  const summaryNode = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, { counter: v }]))
  const summaryPrev = prevNode
    ? Object.fromEntries(Object.entries(before).map(([k, v]) => [k, { counter: v }]))
    : null
  const head = el('h2', '', `router ${name}`)
  const summary = el('div', 'summary grid')
  summary.append(panel('summary', name, summaryNode, summaryPrev, seconds))
  section.append(head, summary)
  for (const kind of ['server', 'service', 'client']) {
    const list = children(node[kind])
    if (list.length === 0) continue
    section.append(el('h3', '', `${kind}s`))
    const grid = el('div', 'grid')
    for (const [id, n] of list.sort(([a], [b]) => a.localeCompare(b)))
      grid.append(panel(kind, id, n, prevNode?.[kind]?.[id], seconds))
    section.append(grid)
  }
  return section
}

async function poll() {
  try {
    const res = await fetch('admin/metrics.json?tree=1', { cache: 'no-store' })
    if (!res.ok) throw new Error(`${res.status}`)
    const tree = await res.json()
    const now = performance.now()
    const seconds = previous ? (now - previousAt) / 1000 : 0
    const routers = Object.entries(tree.rt ?? {})
    $('routers').replaceChildren(
      ...routers.map(([name, node]) => routerSection(name, node, previous?.rt?.[name], seconds)),
    )
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`
    previous = tree
    previousAt = now
    syncRouterChoice(routers.map(([name]) => name))
  } catch (e) {
    $('updated').textContent = `metrics unavailable: ${e.message}`
  }
  setTimeout(() => void poll(), POLL_MS)
}

function syncRouterChoice(names) {
  const select = $('deleg-router')
  const have = [...select.options].map((o) => o.value)
  if (have.join('\n') === names.join('\n')) return
  const chosen = select.value
  select.replaceChildren(...names.map((n) => el('option', '', n)))
  if (names.includes(chosen)) select.value = chosen
}

function setupDelegator() {
  $('delegate-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const out = $('deleg-tree')
    out.replaceChildren()
    const res = await fetch('delegator.json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        namespace: $('deleg-router').value,
        dtab: $('deleg-dtab').value,
        path: $('deleg-path').value.trim(),
      }),
    })
    if (!res.ok) {
      out.append(el('pre', 'status-bad', `${res.status}: ${(await res.text()).trim()}`))
      return
    }
    const tree = el('ul', 'tree')
    tree.append(treeNode(await res.json()))
    out.append(tree)
  })
}

setupDelegator()
void poll()
