// namerd against hostile clients (issue 10): a battery of bad requests against a real namerd on the
// file store. Every one gets a clear 4xx, nothing is written outside the store directory, and a
// normal request still succeeds after each.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeConfig } from '../../src/config/decode.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { type Namerd, startNamerd } from '../../src/namerd/server.js'
import { call, type LineStream, watch } from './http-helpers.js'

const TOKEN = 'hostile-test-token'
const auth = { authorization: `Bearer ${TOKEN}` }
const dtabType = { 'content-type': 'application/dtab', ...auth }

let parent: string
let dir: string
let namerd: Namerd
let base: string
let admin: string

function config(storeDir: string) {
  const spec = decodeConfig(namerdConfigCodec(), {
    admin: { ip: '127.0.0.1', port: 0 },
    storage: {
      kind: 'switchboard.file',
      dir: storeDir,
      namespaces: { demo: '/svc => /$/inet/127.0.0.1;' },
    },
    interfaces: [
      {
        kind: 'io.l5d.httpController',
        ip: '127.0.0.1',
        port: 0,
        authToken: TOKEN,
        headersTimeoutMs: 600,
        requestTimeoutMs: 1500,
        maxConnections: 40,
      },
    ],
  })
  if (spec._tag !== 'Right') throw new Error(spec.left.message)
  return spec.right
}

const raw = {
  admin: { ip: '127.0.0.1', port: 0 },
  storage: { kind: 'io.l5d.etcd', password: 'etcd-password', tls: { keyPath: '/etc/namerd/key.pem' } },
  interfaces: [{ kind: 'io.l5d.httpController', authToken: TOKEN }],
}

async function start() {
  namerd = await startNamerd(config(dir), { rawConfig: raw, log: () => {} })
  base = namerd.interfaces[0]!.url
  admin = namerd.admin.url
}

beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), 'namerd-hostile-'))
  dir = join(parent, 'dtabs')
  await start()
}, 60_000)

afterAll(async () => {
  await namerd?.close()
  await rm(parent, { recursive: true, force: true })
})

/** A normal request still works, and nothing exists outside the store directory. */
async function stillHealthy() {
  const r = await call(`${base}/api/1/dtabs/demo`, { headers: { accept: 'application/dtab' } })
  expect(r.status).toBe(200)
  expect(r.body).toBe('/svc=>/$/inet/127.0.0.1\n')
  expect(await readdir(parent)).toEqual(['dtabs'])
  for (const name of await readdir(dir)) {
    expect((await stat(join(dir, name))).isFile()).toBe(true)
    expect(name).toMatch(/\.dtab$/)
  }
}

/** Sends raw bytes on a fresh connection; resolves with everything the server sent back. */
function rawExchange(bytes: string, port = Number(new URL(base).port)): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    let out = ''
    s.on('data', (d) => {
      out += d.toString('latin1')
    })
    s.on('error', () => resolve(out))
    s.on('close', () => resolve(out))
    s.on('connect', () => s.write(bytes))
    setTimeout(() => {
      s.destroy()
      reject(new Error(`no answer; got ${JSON.stringify(out)}`))
    }, 20_000)
  })
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0)

describe('namerd under hostile input (file store)', () => {
  it('refuses oversized bodies with 413', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x61)
    const r = await call(`${base}/api/1/dtabs/big`, { method: 'PUT', headers: dtabType, body: big })
    expect(r.status).toBe(413)
    expect(r.body).toMatch(/larger than the limit of 1048576 bytes/)
    // Chunked, with no Content-Length to refuse up front.
    const head = `PUT /api/1/dtabs/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/dtab\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n`
    const chunk = `${(64 * 1024).toString(16)}\r\n${'a'.repeat(64 * 1024)}\r\n`
    const out = await rawExchange(`${head}${chunk.repeat(17)}0\r\n\r\n`)
    expect(statusOf(out)).toBe(413)
    await stillHealthy()
  })

  it('refuses malformed bodies with 400 and the parser message', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [dtabType, '/a=>/b;;', /'\/' expected but ';' found at '\/a=>\/b;\[;\]'/],
      [dtabType, '/a=>(/b', /'\)' expected but end of input found/],
      [dtabType, `/a=>${'('.repeat(1001)}/b${')'.repeat(1001)}`, /at most 1000 nested/],
      [
        dtabType,
        `/a=>${'9'.repeat(400)}*/b & /c`,
        /^finite weight expected but '9' found at '\/a=>\[9\]9+\*\/b & \/c'$/,
      ],
      [{ ...auth, 'content-type': 'application/json' }, '[{"prefix":"/a"', /./],
      [{ ...auth, 'content-type': 'application/json' }, '{"not":"a dtab"}', /./],
    ]
    for (const [headers, body, message] of cases) {
      const r = await call(`${base}/api/1/dtabs/demo`, { method: 'PUT', headers, body })
      expect(r.status, body.slice(0, 40)).toBe(400)
      expect(r.body).toMatch(message)
      await stillHealthy()
    }
    const r = await call(`${base}/api/1/dtabs/demo`, { method: 'PUT', headers: auth, body: '/a=>/b' })
    expect(r.status).toBe(400)
    expect(r.body).toMatch(/Invalid Content-Type/)
    await stillHealthy()
  })

  it('decodes namespace names once and refuses odd ones with 400 and a message', async () => {
    const odd: [string, RegExp][] = [
      ['%2e%2e', /invalid dtab namespace "\.\.": it is "\.\."|it contains "\.\."/],
      ['%2E', /it is "\."/],
      ['..%2f..%2fetc', /it contains "\/"/],
      ['a%2Fb', /it contains "\/"/],
      ['%00', /control character U\+0000/],
      ['x%0d%0aSet-Cookie:%20a', /control character U\+000D/],
      ['%zz', /not valid percent-encoded UTF-8/],
      ['%ff', /not valid percent-encoded UTF-8/],
      ['n'.repeat(300), /more than 255/],
    ]
    for (const [ns, message] of odd) {
      for (const method of ['GET', 'PUT', 'POST', 'DELETE']) {
        // Sent raw: a WHATWG URL would already turn %2e%2e into a dot segment.
        const r = await call(base, {
          rawPath: `/api/1/dtabs/${ns}`,
          method,
          headers: dtabType,
          body: '/a=>/b',
        })
        expect(r.status, `${method} ${ns}`).toBe(400)
        expect(r.body).toMatch(message)
      }
      const b = await call(base, { rawPath: `/api/1/bind/${ns}?path=/svc/80` })
      expect(b.status, `bind ${ns}`).toBe(400)
      expect(b.body).toMatch(message)
      await stillHealthy()
    }
    // `..` sent raw (no client-side normalisation) is refused as well.
    const r = await call(`${base}/`, {
      rawPath: '/api/1/dtabs/../../escape',
      method: 'PUT',
      headers: dtabType,
      body: '/a=>/b',
    })
    expect(r.status).toBe(400)
    await stillHealthy()
  })

  it('UTF-8 names are reachable, and an escaped % stays a literal %', async () => {
    const created = await call(`${base}/api/1/dtabs/caf%C3%A9`, {
      method: 'PUT',
      headers: dtabType,
      body: '/x=>/y',
    })
    expect(created.status).toBe(204)
    const got = await call(`${base}/api/1/dtabs/${encodeURIComponent('café')}`, {
      headers: { accept: 'application/dtab' },
    })
    expect(got.status).toBe(200)
    expect(got.body).toBe('/x=>/y\n')
    const pct = await call(`${base}/api/1/dtabs/%252e`, { method: 'PUT', headers: dtabType, body: '/p=>/q' })
    expect(pct.status).toBe(204)
    const list = JSON.parse((await call(`${base}/api/1/dtabs`)).body) as string[]
    expect(list).toEqual(expect.arrayContaining(['café', '%2e', 'demo']))
    expect(list).not.toContain('caf%C3%A9')
    const bound = await call(`${base}/api/1/bind/caf%C3%A9?path=/x`)
    expect(bound.status).toBe(200)
    await stillHealthy()
  })

  it('refuses a request with both Content-Length and Transfer-Encoding', async () => {
    const out = await rawExchange(
      `PUT /api/1/dtabs/smuggle HTTP/1.1\r\nHost: x\r\nContent-Type: application/dtab\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n/a=>/b\r\n0\r\n\r\nGET /api/1/dtabs/smuggle HTTP/1.1\r\nHost: x\r\n\r\n`,
    )
    expect(statusOf(out)).toBe(400)
    expect(out).not.toMatch(/HTTP\/1\.1 20[04]/)
    expect((await call(`${base}/api/1/dtabs/smuggle`)).status).toBe(404)
    await stillHealthy()
  })

  it('caps the dtab query parameter (414) and the URL (431)', async () => {
    const long = `/a=>${Array.from({ length: 2000 }, (_, i) => `/b${i}`).join('|')}`
    for (const route of ['bind', 'resolve', 'delegate']) {
      const r = await call(`${base}/api/1/${route}/demo?path=/a&dtab=${long}`)
      expect(r.status, route).toBe(414)
      expect(r.body).toMatch(/^the dtab parameter is \d+ bytes, longer than the limit of 8192 bytes\n$/)
    }
    const g = await call(`${base}/api/1/delegate?path=/a&dtab=${long}`)
    expect(g.status).toBe(414)
    const post = await call(`${base}/api/1/delegate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/a', dtab: long }),
    })
    expect(post.status).toBe(414)
    const huge = await call(`${base}/api/1/bind/demo?path=/a&x=${'y'.repeat(20_000)}`)
    expect(huge.status).toBe(431)
    await stillHealthy()
  })

  it('binds a 4,000-alternative dtab; writes then answer 204 and watches still see them (item 1)', async () => {
    const watcher: LineStream = await watch(`${base}/api/1/dtabs/demo?watch=true`, {
      accept: 'application/dtab',
    })
    try {
      expect(await watcher.next()).toBe('/svc=>/$/inet/127.0.0.1')
      const alts = `/a=>${'~|'.repeat(4000)}/svc`
      const r = await call(`${base}/api/1/bind/demo?path=/a/80&dtab=${alts}`)
      expect(r.status).toBe(200)
      expect(JSON.parse(r.body).bound.id).toBe('/$/inet/127.0.0.1/80')
      const d = await call(`${base}/api/1/delegate/demo?path=/a/80&dtab=${`/a=>${'~|'.repeat(3000)}/svc`}`)
      expect(d.status).toBe(200)
      expect(JSON.parse(d.body).type).toBe('alt')
      const put = await call(`${base}/api/1/dtabs/demo`, {
        method: 'PUT',
        headers: dtabType,
        body: '/svc=>/$/inet/127.0.0.2',
      })
      expect(put.status).toBe(204)
      expect(await watcher.next()).toBe('/svc=>/$/inet/127.0.0.2')
      const back = await call(`${base}/api/1/dtabs/demo`, {
        method: 'PUT',
        headers: dtabType,
        body: '/svc=>/$/inet/127.0.0.1',
      })
      expect(back.status).toBe(204)
      expect(await watcher.next()).toBe('/svc=>/$/inet/127.0.0.1')
    } finally {
      watcher.close()
    }
    await stillHealthy()
  })

  it('deep and looping dtabs are 400 with the binding error (item 8)', async () => {
    let deep = '/svc'
    for (let i = 0; i < 999; i++) deep = `(${deep}|~)`
    const ok = await call(`${base}/api/1/bind/demo?path=/a/80&dtab=/a=>${deep}`)
    expect(ok.status).toBe(200)
    const cases: [string, RegExp][] = [
      ['/api/1/bind/demo?path=/a&dtab=/a=>/b;/b=>/a', /^Max recursion level: 100 reached in Namer lookup\n$/],
      [
        '/api/1/resolve/demo?path=/a&dtab=/a=>/b;/b=>/a',
        /^Max recursion level: 100 reached in Namer lookup\n$/,
      ],
      [`/api/1/bind/demo?path=/a&dtab=/a=>${deep.replace('/svc', '/a')}`, /levels deep while binding/],
      ['/api/1/bind/demo?path=/$/com.example.nope/x', /^Unknown namer: com.example.nope/],
      ['/api/1/delegate/demo?path=/a&dtab=/a=>/b;/b=>/a', /Max recursion level reached\./],
    ]
    for (const [path, message] of cases) {
      const r = await call(`${base}${path}`)
      expect(r.status, path).toBe(400)
      expect(r.body).toMatch(message)
      await stillHealthy()
    }
  })

  it('cuts off a client that trickles its headers, and serves others meanwhile (slowloris)', async () => {
    const port = Number(new URL(base).port)
    const s: Socket = connect(port, '127.0.0.1')
    await new Promise((r) => s.once('connect', r))
    let received = ''
    s.on('data', (d) => {
      received += d.toString('latin1')
    })
    const closed = new Promise<number>((r) => s.once('close', () => r(Date.now())))
    s.write('GET /api/1/dtabs HTTP/1.1\r\nHost: x\r\n')
    const started = Date.now()
    const trickle = setInterval(() => {
      if (!s.destroyed) s.write('X')
    }, 100)
    try {
      // Others are served while the slow client trickles.
      for (let i = 0; i < 3; i++) await stillHealthy()
      const end = await closed
      expect(end - started).toBeLessThan(15_000)
      expect(received === '' || statusOf(received) === 408).toBe(true)
    } finally {
      clearInterval(trickle)
      s.destroy()
    }
    await stillHealthy()
  }, 30_000)

  it('caps connections per server', async () => {
    const port = Number(new URL(base).port)
    const sockets: Socket[] = []
    try {
      for (let i = 0; i < 40; i++) {
        const s = connect(port, '127.0.0.1')
        s.on('error', () => {})
        await new Promise((r) => s.once('connect', r))
        sockets.push(s)
      }
      await new Promise((r) => setTimeout(r, 100))
      // The 41st connection is accepted by the kernel and closed by the server at once.
      const extra = connect(port, '127.0.0.1')
      extra.on('error', () => {})
      const closedAt = await new Promise<string>((resolve) => {
        extra.once('close', () => resolve('closed'))
        extra.once('connect', () => extra.write('GET /api/1/dtabs HTTP/1.1\r\nHost: x\r\n\r\n'))
        extra.once('data', () => resolve('answered'))
      })
      expect(closedAt).toBe('closed')
    } finally {
      for (const s of sockets) s.destroy()
    }
    await new Promise((r) => setTimeout(r, 100))
    await stillHealthy()
  })

  it('redacts secrets on /config.json and links namespaces to pages that work on the admin port', async () => {
    const c = await call(`${admin}/config.json`)
    expect(c.status).toBe(200)
    expect(c.body).not.toContain(TOKEN)
    expect(c.body).not.toContain('etcd-password')
    expect(c.body).not.toContain('/etc/namerd/key.pem')
    expect(JSON.parse(c.body).interfaces[0].authToken).toBe('<redacted>')
    const index = await call(`${admin}/`)
    const links = [...index.body.matchAll(/href="([^"]+)"/g)]
      .map(
        (m) =>
          new URL(
            m[1]!.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c))),
            `${admin}/`,
          ).pathname,
      )
      .filter((l) => l.startsWith('/dtab/'))
    expect(links).toEqual(expect.arrayContaining(['/dtab/demo', `/dtab/${encodeURIComponent('café')}`]))
    for (const link of links) {
      const page = await call(`${admin}${link}`)
      expect(page.status, link).toBe(200)
      expect(page.headers['content-type']).toMatch(/^text\/html/)
    }
    expect((await call(`${admin}/dtab/missing`)).status).toBe(404)
  })

  it('every acknowledged write survives a restart, and every GET body can be PUT back (item 2)', async () => {
    const weights = '/a=>0.001*/b & 123456789012345678901234567890*/c & 1.005*/d & /e'
    const w = await call(`${base}/api/1/dtabs/weights`, { method: 'PUT', headers: dtabType, body: weights })
    expect(w.status).toBe(204)
    const names = JSON.parse((await call(`${base}/api/1/dtabs`)).body) as string[]
    const bodies = new Map<string, string>()
    for (const ns of names) {
      const r = await call(`${base}/api/1/dtabs/${encodeURIComponent(ns)}`, {
        headers: { accept: 'application/dtab' },
      })
      expect(r.status).toBe(200)
      bodies.set(ns, r.body)
      const again = await call(`${base}/api/1/dtabs/${encodeURIComponent(ns)}`, {
        method: 'PUT',
        headers: dtabType,
        body: r.body,
      })
      expect(again.status, ns).toBe(204)
    }
    await namerd.close()
    await start()
    const after = JSON.parse((await call(`${base}/api/1/dtabs`)).body) as string[]
    expect(after.sort()).toEqual(names.sort())
    for (const [ns, body] of bodies) {
      const r = await call(`${base}/api/1/dtabs/${encodeURIComponent(ns)}`, {
        headers: { accept: 'application/dtab' },
      })
      expect(r.body, ns).toBe(body)
    }
    await stillHealthy()
  }, 60_000)
})
