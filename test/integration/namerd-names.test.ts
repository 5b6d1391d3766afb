// Black-box tests of namerd's name endpoints (spec §1.6-1.7): bind, addr, resolve, delegate,
// bound-names, over a real server with the io.l5d.fs namer on a temporary directory.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { seededRandom } from '../../src/core/random.js'
import { type HttpController, httpController } from '../../src/namerd/http/controller.js'
import { type Listening, listen } from '../../src/namerd/http/listen.js'
import { nameEndpoints } from '../../src/namerd/http/names.js'
import { inMemoryDtabStore } from '../../src/namerd/store/memory.js'
import type { DtabStore } from '../../src/namerd/store/store.js'
import { type FsNamer, fsNamer } from '../../src/namers/fs.js'
import { Dtab } from '../../src/naming/dtab.js'
import { call, type LineStream, watch } from './http-helpers.js'

let dir: string
let fs: FsNamer
let store: DtabStore
let api: HttpController
let server: Listening
let base: string
const streams: LineStream[] = []

async function start(withNamers = true) {
  store = inMemoryDtabStore({
    namespaces: { default: Dtab.read('/svc=>/#/io.l5d.fs;/ph=>/$/inet/127.0.0.1/9999') },
  })
  const names = nameEndpoints({
    store,
    namers: withNamers ? [{ prefix: fs.prefix, namer: fs }] : [],
    random: seededRandom(1),
    delegateTimeoutMs: 500,
  })
  api = httpController({ store, names })
  server = await listen(api.handler, '127.0.0.1', 0)
  base = server.url
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-names-'))
  await writeFile(join(dir, 'users'), '127.0.0.1 8080\n')
  await writeFile(join(dir, 'users-v2'), '127.0.0.1 8081 * 0.5\n')
  fs = fsNamer({ rootDir: dir, pollIntervalMs: 0 })
})

afterEach(async () => {
  for (const s of streams.splice(0)) s.close()
  api?.close()
  await server?.close()
  await store?.close()
  fs.close()
  await rm(dir, { recursive: true, force: true })
})

const stream = async (path: string) => {
  const s = await watch(`${base}${path}`)
  streams.push(s)
  return s
}
const enc = encodeURIComponent
const usersAddr = '{"type":"bound","addrs":[{"ip":"127.0.0.1","port":8080,"meta":{}}],"meta":{}}'
const usersLeaf = `{"type":"leaf","bound":{"addr":${usersAddr},"id":"/#/io.l5d.fs/users","path":"/"}}`

describe('GET /api/1/bind/<ns>', () => {
  beforeEach(() => start())

  it('binds through the namespace dtab and the namers, with each leaf addr', async () => {
    const r = await call(`${base}/api/1/bind/default?path=/svc/users`)
    expect(r.status).toBe(200)
    expect(r.body).toBe(`${usersLeaf}\n`)
  })

  it('keeps the residual path', async () => {
    const r = await call(`${base}/api/1/bind/default?path=/svc/users/api/v1`)
    expect(JSON.parse(r.body).bound.path).toBe('/api/v1')
  })

  it('an unknown namespace has an empty dtab: namers and /$/ still bind', async () => {
    expect((await call(`${base}/api/1/bind/nope?path=/%23/io.l5d.fs/users`)).body).toBe(`${usersLeaf}\n`)
    const inet = JSON.parse((await call(`${base}/api/1/bind/nope?path=/$/inet/127.0.0.1/80`)).body)
    expect(inet).toEqual({
      type: 'leaf',
      bound: {
        addr: { type: 'bound', addrs: [{ ip: '127.0.0.1', port: 80, meta: {} }], meta: {} },
        id: '/$/inet/127.0.0.1/80',
        path: '/',
      },
    })
    expect((await call(`${base}/api/1/bind/nope?path=/svc/users`)).body).toBe('{"type":"neg"}\n')
  })

  it('the dtab parameter is appended after the stored dtab, so it wins', async () => {
    const r = await call(
      `${base}/api/1/bind/default?path=/svc/users&dtab=${enc('/svc/users=>/#/io.l5d.fs/users-v2')}`,
    )
    expect(JSON.parse(r.body).bound.id).toBe('/#/io.l5d.fs/users-v2')
    expect(JSON.parse(r.body).bound.addr.addrs[0].meta).toEqual({ endpoint_addr_weight: 0.5 })
  })

  it('renders alt, union, neg and fail without paths or dentries', async () => {
    const dtab = enc(
      '/a=>/#/io.l5d.fs/missing | /#/io.l5d.fs/users;/u=>1 * /#/io.l5d.fs/users & 3 * /#/io.l5d.fs/users-v2;/f=>!',
    )
    const alt = await call(`${base}/api/1/bind/default?path=/a&dtab=${dtab}`)
    expect(alt.body).toBe(`${usersLeaf}\n`)
    const union = JSON.parse((await call(`${base}/api/1/bind/default?path=/u&dtab=${dtab}`)).body)
    expect(union.type).toBe('union')
    expect(
      union.union.map((w: { weight: number; tree: { bound: { id: string } } }) => [
        w.weight,
        w.tree.bound.id,
      ]),
    ).toEqual([
      [1, '/#/io.l5d.fs/users'],
      [3, '/#/io.l5d.fs/users-v2'],
    ])
    expect((await call(`${base}/api/1/bind/default?path=/f&dtab=${dtab}`)).body).toBe('{"type":"fail"}\n')
  })

  it('writes union weights as Java doubles', async () => {
    const dtab = enc('/u=>1 * /#/io.l5d.fs/users & 3 * /#/io.l5d.fs/users-v2')
    const body = (await call(`${base}/api/1/bind/default?path=/u&dtab=${dtab}`)).body
    expect(body).toContain('{"weight":1.0,"tree":')
    expect(body).toContain('{"weight":3.0,"tree":')
  })

  it('an invalid path is 400 with the parser message', async () => {
    const r = await call(`${base}/api/1/bind/default?path=invalid`)
    expect(r.status).toBe(400)
    expect(r.body).toBe("Invalid path: invalid / '/' expected but 'i' found at '[i]nvalid'")
  })

  it('an invalid dtab parameter is 400', async () => {
    const r = await call(`${base}/api/1/bind/default?path=/a&dtab=${enc('/a=>')}`)
    expect(r.status).toBe(400)
    expect(r.body).toMatch(/^Invalid dtab: .*expected but end of input found/)
  })

  it('without a namespace is 404 (after the path is checked)', async () => {
    expect((await call(`${base}/api/1/bind?path=/a`)).status).toBe(404)
    expect((await call(`${base}/api/1/bind/?path=/a`)).status).toBe(404)
    expect((await call(`${base}/api/1/bind?path=invalid`)).status).toBe(400)
  })

  it('watch streams a new tree when the dtab changes, not when nothing does', async () => {
    const s = await stream('/api/1/bind/default?path=/svc/users&watch=true')
    expect(await s.next()).toBe(usersLeaf)
    await store.put('default', Dtab.read('/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2'))
    expect(JSON.parse(await s.next()).bound.id).toBe('/#/io.l5d.fs/users-v2')
    await store.put('default', Dtab.read('/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2'))
    await store.put('default', Dtab.read('/svc/users=>/#/io.l5d.fs/users'))
    expect(await s.next()).toBe(usersLeaf)
    expect(s.buffered).toEqual([])
  })
})

describe('GET /api/1/addr/<ns>', () => {
  beforeEach(() => start())

  it('answers the addr of a bound id, for any namespace', async () => {
    expect((await call(`${base}/api/1/addr/whatever?path=/%23/io.l5d.fs/users`)).body).toBe(`${usersAddr}\n`)
  })

  it('strips a transformer prefix', async () => {
    const r = await call(`${base}/api/1/addr/default?path=/%25/io.l5d.port/80/%23/io.l5d.fs/users`)
    expect(r.body).toBe(`${usersAddr}\n`)
  })

  it('neg for a missing id, an empty bound set for /$/nil', async () => {
    expect((await call(`${base}/api/1/addr/default?path=/%23/io.l5d.fs/missing`)).body).toBe(
      '{"type":"neg"}\n',
    )
    expect((await call(`${base}/api/1/addr/default?path=/$/nil`)).body).toBe(
      '{"type":"bound","addrs":[],"meta":{}}\n',
    )
  })

  it('watch streams address changes from the namer', async () => {
    const s = await stream('/api/1/addr/default?path=/%23/io.l5d.fs/users&watch=1')
    expect(await s.next()).toBe(usersAddr)
    await writeFile(join(dir, 'users'), '127.0.0.1 8080\n127.0.0.1 8082\n')
    fs.refresh()
    const next = JSON.parse(await s.next())
    expect(next.addrs.map((a: { port: number }) => a.port).sort()).toEqual([8080, 8082])
  })

  it('an error is written as a line and the stream ends', async () => {
    const s = await stream('/api/1/addr/default?path=/$/fail&watch=true')
    expect(await s.next()).toBe('name tree failed')
    await s.end()
  })
})

describe('GET /api/1/resolve/<ns>', () => {
  beforeEach(() => start())

  it('binds and answers the addr of one concrete id, as JSON', async () => {
    const r = await call(`${base}/api/1/resolve/default?path=/svc/users`)
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.body).toBe(`${usersAddr}\n`)
  })

  it('neg when nothing binds', async () => {
    expect((await call(`${base}/api/1/resolve/default?path=/nothing`)).body).toBe('{"type":"neg"}\n')
  })

  it('picks a union member by weight', async () => {
    const dtab = enc('/u=>0 * /#/io.l5d.fs/users & 1 * /#/io.l5d.fs/users-v2')
    const r = JSON.parse((await call(`${base}/api/1/resolve/default?path=/u&dtab=${dtab}`)).body)
    expect(r.addrs[0].port).toBe(8081)
  })
})

describe('GET /api/1/delegate/<ns>', () => {
  beforeEach(() => start())

  it('explains the delegation as JSON, with no trailing newline', async () => {
    const r = await call(`${base}/api/1/delegate/default?path=/svc/users`)
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.body.endsWith('\n')).toBe(false)
    expect(JSON.parse(r.body)).toEqual({
      type: 'delegate',
      path: '/svc/users',
      delegate: {
        type: 'leaf',
        path: '/#/io.l5d.fs/users',
        dentry: { prefix: '/svc', dst: '/#/io.l5d.fs' },
        bound: {
          addr: { type: 'bound', addrs: [{ ip: '127.0.0.1', port: 8080, meta: {} }], meta: {} },
          id: '/#/io.l5d.fs/users',
          path: '/',
        },
      },
    })
  })

  it('a path nothing matches is a neg root', async () => {
    expect((await call(`${base}/api/1/delegate/default?path=/nothing`)).body).toBe(
      '{"type":"neg","path":"/nothing"}',
    )
  })

  it('the generic delegator: GET with namespace and dtab, POST JSON, 415, 405, 400', async () => {
    const get = await call(`${base}/api/1/delegate?namespace=default&path=/svc/users&dtab=`)
    expect(JSON.parse(get.body).delegate.bound.id).toBe('/#/io.l5d.fs/users')
    const post = await call(`${base}/api/1/delegate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dtab: '/x=>/#/io.l5d.fs/users', path: '/x' }),
    })
    expect(JSON.parse(post.body).delegate.bound.id).toBe('/#/io.l5d.fs/users')
    const wrongType = await call(`${base}/api/1/delegate`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(wrongType.status).toBe(415)
    expect((await call(`${base}/api/1/delegate?path=/a`, { method: 'PUT' })).status).toBe(405)
    const malformed = await call(`${base}/api/1/delegate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"path":"/a"}',
    })
    expect(malformed).toMatchObject({ status: 400, body: 'Malformed delegation request: {"path":"/a"}' })
    const badDtab = await call(`${base}/api/1/delegate?path=/a&dtab=${enc('/a=>')}`)
    expect(badDtab.status).toBe(400)
    expect(badDtab.body).toMatch(/^Invalid dtab: /)
  })
})

describe('GET /api/1/bound-names', () => {
  it('lists the names of enumerating namers', async () => {
    await start()
    const r = await call(`${base}/api/1/bound-names`)
    expect(r.headers['content-type']).toBe('application/json')
    expect(new Set(JSON.parse(r.body))).toEqual(new Set(['/#/io.l5d.fs/users', '/#/io.l5d.fs/users-v2']))
    expect(r.body.endsWith('\n')).toBe(true)
    expect((await call(`${base}/api/1/bound-names`, { method: 'POST' })).status).toBe(404)
  })

  it('with no names answers namerd quirk [""]', async () => {
    await start(false)
    expect((await call(`${base}/api/1/bound-names`)).body).toBe('[""]\n')
  })
})
