// namerd's admin UI: the namespace list, the dtab editor, the delegator and the live view of bound
// names. Plain DOM, no framework; every server value is inserted as text, never as HTML.

import { addrText, el, treeNode } from './delegate-tree.js'

const TOKEN_KEY = 'switchboard-namerd-token'
const $ = (id) => document.getElementById(id)
const root = new URL('../'.repeat(Number(document.body.dataset.depth ?? '0')) || './', location.href)
const url = (path) => new URL(path, root).toString()

function authHeaders(extra = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY)
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra
}

function setStatus(text, ok = true) {
  const el = $('status')
  if (!el) return
  el.textContent = text
  el.className = ok ? 'status-ok' : 'status-bad'
}

async function failureText(res) {
  const body = (await res.text()).trim()
  if (res.status === 401)
    return 'namerd needs the write token: enter it in the token field above and try again'
  return `${res.status} ${res.statusText}${body ? `: ${body}` : ''}`
}

function setupToken() {
  const input = $('token')
  if (!input) return
  input.value = sessionStorage.getItem(TOKEN_KEY) ?? ''
  input.addEventListener('change', () => {
    if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value)
    else sessionStorage.removeItem(TOKEN_KEY)
  })
}

// ---- the namespace list --------------------------------------------------------------------------

function setupIndex() {
  $('create').addEventListener('submit', async (event) => {
    event.preventDefault()
    const name = $('new-ns').value.trim()
    if (!name) return setStatus('a namespace needs a name', false)
    const res = await fetch(url(`api/1/dtabs/${encodeURIComponent(name)}`), {
      method: 'POST',
      headers: authHeaders({ 'content-type': 'application/dtab' }),
      body: '',
    })
    if (res.status === 204) {
      location.href = url(`dtab/${encodeURIComponent(name)}`)
    } else if (res.status === 409) {
      setStatus(`namespace ${name} already exists`, false)
    } else {
      setStatus(await failureText(res), false)
    }
  })
}

// ---- the dtab editor -----------------------------------------------------------------------------

/** Line diff by longest common subsequence; null when the texts are too long to diff quickly. */
function diffLines(before, after) {
  const lines = (text) => (text === '' ? [] : text.split('\n'))
  const a = lines(before)
  const b = lines(after)
  if (a.length * b.length > 250000) return null
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1))
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  const out = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push([' ', a[i]])
      i++
      j++
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push(['+', b[j++]])
    } else {
      out.push(['-', a[i++]])
    }
  }
  return out
}

function setupDtab() {
  const ns = document.body.dataset.namespace
  const api = url(`api/1/dtabs/${encodeURIComponent(ns)}`)
  const editor = $('dtab')
  let stored = ''
  let version = ''
  let valid = true
  let timer

  const showDiff = () => {
    const pre = $('diff')
    pre.replaceChildren()
    const lines = diffLines(stored.replace(/\n$/, ''), editor.value.replace(/\n$/, ''))
    if (lines === null) return pre.append('(too large to diff)')
    const changed = lines.some(([op]) => op !== ' ')
    if (!changed) return pre.append('(no changes)')
    for (const [op, line] of lines) {
      pre.append(el('div', op === '+' ? 'diff-add' : op === '-' ? 'diff-del' : '', `${op} ${line}`))
    }
  }

  const check = async () => {
    const res = await fetch(url('admin/dtab/validate'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: editor.value,
    })
    const error = $('error')
    if (!res.ok) {
      valid = false
      error.hidden = false
      error.textContent = await failureText(res)
      return
    }
    const result = await res.json()
    valid = result.ok
    $('save').disabled = !valid
    if (result.ok) {
      error.hidden = true
      error.textContent = ''
      return
    }
    const lines = editor.value.split('\n')
    const line = lines[result.line - 1] ?? ''
    error.hidden = false
    error.textContent =
      `${result.message}\nline ${result.line}, column ${result.column}\n` +
      `${line}\n${' '.repeat(Math.max(0, result.column - 1))}^`
  }

  const onEdit = () => {
    showDiff()
    clearTimeout(timer)
    timer = setTimeout(() => void check(), 120)
  }

  const load = async () => {
    const res = await fetch(api, { headers: { accept: 'application/dtab' }, cache: 'no-store' })
    if (!res.ok) return setStatus(await failureText(res), false)
    stored = await res.text()
    version = res.headers.get('etag') ?? ''
    editor.value = stored
    $('version').textContent = `version ${version}`
    $('conflict').hidden = true
    onEdit()
  }

  editor.addEventListener('input', onEdit)
  $('revert').addEventListener('click', () => {
    editor.value = stored
    onEdit()
  })
  $('save').addEventListener('click', async () => {
    await check()
    if (!valid) return setStatus('fix the dtab before saving', false)
    const res = await fetch(api, {
      method: 'PUT',
      headers: authHeaders({ 'content-type': 'application/dtab', 'if-match': version }),
      body: editor.value,
    })
    if (res.status === 204) {
      const mine = editor.value
      await load()
      if (editor.value.trim() === '' && mine.trim() !== '') editor.value = mine
      setStatus(`saved: ${$('version').textContent}`)
      return
    }
    if (res.status === 412) {
      const current = await fetch(api, { headers: { accept: 'application/dtab' }, cache: 'no-store' })
      $('theirs').textContent = current.ok ? await current.text() : await failureText(current)
      $('conflict').hidden = false
      return setStatus('not saved: another writer changed this dtab since you loaded it', false)
    }
    setStatus(`not saved: ${await failureText(res)}`, false)
  })
  $('take-theirs').addEventListener('click', () => void load())
  $('delete').addEventListener('click', () => {
    $('confirm-delete').hidden = false
  })
  $('delete-no').addEventListener('click', () => {
    $('confirm-delete').hidden = true
  })
  $('delete-yes').addEventListener('click', async () => {
    const res = await fetch(api, { method: 'DELETE', headers: authHeaders() })
    if (res.status === 204) location.href = url('')
    else setStatus(`not deleted: ${await failureText(res)}`, false)
  })
  void load()
}

// ---- the delegator -------------------------------------------------------------------------------

function setupDelegator() {
  const ns = document.body.dataset.namespace
  $('delegate-form').addEventListener('submit', async (event) => {
    event.preventDefault()
    const out = $('deleg-tree')
    out.replaceChildren()
    const params = new URLSearchParams({ path: $('deleg-path').value.trim() })
    const extra = $('deleg-dtab').value.trim()
    if (extra) params.set('dtab', extra)
    const res = await fetch(url(`api/1/delegate/${encodeURIComponent(ns)}?${params}`))
    if (!res.ok) {
      out.append(el('pre', 'status-bad', await failureText(res)))
      return
    }
    const tree = el('ul', 'tree')
    tree.append(treeNode(await res.json()))
    out.append(tree)
  })
}

// ---- live bound names ----------------------------------------------------------------------------

async function refreshBound(ns) {
  const body = $('bound-body')
  let names = []
  try {
    const res = await fetch(url('api/1/bound-names'), { signal: AbortSignal.timeout(3000) })
    if (res.ok) names = (await res.json()).filter((n) => n !== '').slice(0, 25)
  } catch {
    return
  }
  const rows = await Promise.all(
    names.map(async (name) => {
      try {
        const res = await fetch(
          url(`api/1/addr/${encodeURIComponent(ns)}?path=${encodeURIComponent(name)}`),
          {
            signal: AbortSignal.timeout(3000),
          },
        )
        return [name, res.ok ? addrText(await res.json()) : await failureText(res)]
      } catch {
        return [name, 'pending']
      }
    }),
  )
  body.replaceChildren(
    ...rows.map(([name, addrs]) => {
      const tr = el('tr')
      tr.append(el('td', '', name), el('td', '', addrs))
      return tr
    }),
  )
  $('bound-empty').hidden = rows.length > 0
}

function setupBound() {
  const ns = document.body.dataset.namespace
  const tick = async () => {
    await refreshBound(ns)
    setTimeout(() => void tick(), 2000)
  }
  void tick()
}

setupToken()
if (document.body.dataset.page === 'index') setupIndex()
if (document.body.dataset.page === 'dtab') {
  setupDtab()
  setupDelegator()
  setupBound()
}
