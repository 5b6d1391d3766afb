// Black-box tests of namerd's dtab endpoints (spec §1.2-1.5, §1.7, §12), over a real server.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type HttpController, httpController } from '../../src/namerd/http/controller.js'
import { type Listening, listen } from '../../src/namerd/http/listen.js'
import { fileDtabStore } from '../../src/namerd/store/file.js'
import { inMemoryDtabStore } from '../../src/namerd/store/memory.js'
import type { DtabStore } from '../../src/namerd/store/store.js'
import { Dtab } from '../../src/naming/dtab.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { call, type LineStream, sleep, until, watch } from './http-helpers.js'

let server: Listening
let api: HttpController
let store: DtabStore
let base: string
const streams: LineStream[] = []

async function start(options: { authToken?: string; seed?: Record<string, string> } = {}) {
  store = inMemoryDtabStore({
    namespaces: Object.fromEntries(Object.entries(options.seed ?? {}).map(([k, v]) => [k, Dtab.read(v)])),
  })
  api = httpController({ store, authToken: options.authToken, stats: inMemoryStats() })
  server = await listen(api.handler, '127.0.0.1', 0)
  base = server.url
}

async function stream(path: string, headers: Record<string, string> = {}) {
  const s = await watch(`${base}${path}`, headers)
  streams.push(s)
  return s
}

afterEach(async () => {
  for (const s of streams.splice(0)) s.close()
  api.close()
  await server.close()
  await store.close()
})

const dtabText = { 'content-type': 'application/dtab' }

describe('GET /api/1/dtabs (list)', () => {
  beforeEach(() => start({ seed: { yeezus: '/yeezy=>/yeezus', tlop: '/tlop=>/life' } }))

  it('lists namespaces sorted, as JSON with a trailing newline', async () => {
    const r = await call(`${base}/api/1/dtabs`)
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.body).toBe('["tlop","yeezus"]\n')
  })

  it('answers on /api/1/dtabs/ and for any method', async () => {
    expect((await call(`${base}/api/1/dtabs/`)).body).toBe('["tlop","yeezus"]\n')
    expect((await call(`${base}/api/1/dtabs`, { method: 'POST' })).body).toBe('["tlop","yeezus"]\n')
  })

  it('lists only namespaces that exist', async () => {
    await call(`${base}/api/1/dtabs/tlop`, { method: 'DELETE' })
    expect((await call(`${base}/api/1/dtabs`)).body).toBe('["yeezus"]\n')
  })

  it('an unknown path is 404 with an empty body', async () => {
    const r = await call(`${base}/api/1/dtabsexpialidocious`)
    expect(r.status).toBe(404)
    expect(r.body).toBe('')
    expect((await call(`${base}/api/2/dtabs`)).status).toBe(404)
  })

  it('watch streams the list on every change', async () => {
    const s = await stream('/api/1/dtabs?watch=true')
    expect(s.status).toBe(200)
    expect(s.headers['transfer-encoding']).toBe('chunked')
    expect(s.headers['content-type']).toBe('application/json')
    expect(new Set(JSON.parse(await s.next()))).toEqual(new Set(['tlop', 'yeezus']))
    await call(`${base}/api/1/dtabs/new`, { method: 'POST', headers: dtabText, body: '/a=>/b' })
    expect(new Set(JSON.parse(await s.next()))).toEqual(new Set(['new', 'tlop', 'yeezus']))
    await call(`${base}/api/1/dtabs/tlop`, { method: 'DELETE' })
    expect(new Set(JSON.parse(await s.next()))).toEqual(new Set(['new', 'yeezus']))
  })
})

describe('GET and HEAD /api/1/dtabs/<ns>', () => {
  beforeEach(() => start({ seed: { yeezus: '/yeezy=>/yeezus' } }))

  it('defaults to JSON, with the version as an unquoted base64 ETag', async () => {
    const r = await call(`${base}/api/1/dtabs/yeezus`)
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.headers.etag).toBe('AAAAAAAAAAE=')
    expect(r.body).toBe('[{"prefix":"/yeezy","dst":"/yeezus"}]\n')
  })

  it('serves the dtab text form for application/dtab and text/plain', async () => {
    for (const type of ['application/dtab', 'text/plain']) {
      const r = await call(`${base}/api/1/dtabs/yeezus`, { headers: { accept: type } })
      expect(r.headers['content-type']).toBe(type)
      expect(r.body).toBe('/yeezy=>/yeezus\n')
    }
  })

  it('negotiates the first recognised Accept entry in header order, ignoring q-values', async () => {
    const pick = async (accept: string) =>
      (await call(`${base}/api/1/dtabs/yeezus`, { headers: { accept } })).headers['content-type']
    expect(await pick('text/html, text/plain;q=0.1, application/json')).toBe('text/plain')
    expect(await pick('application/json;q=0.1, application/dtab')).toBe('application/json')
    expect(await pick('APPLICATION/DTAB;charset=utf-8')).toBe('application/dtab')
    expect(await pick('*/*')).toBe('application/json')
    expect(await pick('text/html')).toBe('application/json')
  })

  it('prints canonical Finagle text: no spaces around =>, no trailing ;, %.2f weights', async () => {
    await call(`${base}/api/1/dtabs/w`, {
      method: 'PUT',
      headers: dtabText,
      body: '/a => /b ; /c => 1 * /d & 2 * /e | /f ;',
    })
    const r = await call(`${base}/api/1/dtabs/w`, { headers: { accept: 'application/dtab' } })
    expect(r.body).toBe('/a=>/b;/c=>/d & 2.00*/e | /f\n')
    const j = await call(`${base}/api/1/dtabs/w`)
    expect(j.body).toBe('[{"prefix":"/a","dst":"/b"},{"prefix":"/c","dst":"/d & 2.00*/e | /f"}]\n')
  })

  it('a missing namespace is 404 with an empty body', async () => {
    const r = await call(`${base}/api/1/dtabs/nope`)
    expect(r.status).toBe(404)
    expect(r.body).toBe('')
  })

  it('HEAD answers the ETag and no body; 404 when missing', async () => {
    const r = await call(`${base}/api/1/dtabs/yeezus`, { method: 'HEAD' })
    expect(r.status).toBe(200)
    expect(r.headers.etag).toBe('AAAAAAAAAAE=')
    expect(r.body).toBe('')
    expect((await call(`${base}/api/1/dtabs/nope`, { method: 'HEAD' })).status).toBe(404)
  })

  it('other methods are 404', async () => {
    expect((await call(`${base}/api/1/dtabs/yeezus`, { method: 'PATCH' })).status).toBe(404)
    expect((await call(`${base}/api/1/dtabs/yeezus`, { method: 'OPTIONS' })).status).toBe(404)
  })

  it('a bad namespace name is 400 naming the problem', async () => {
    const r = await call(`${base}/api/1/dtabs/a/b`)
    expect(r.status).toBe(400)
    expect(r.body).toBe('invalid dtab namespace "a/b": it contains "/"\n')
    const dots = await call(base, {
      rawPath: '/api/1/dtabs/..',
      method: 'PUT',
      headers: dtabText,
      body: '/a=>/b',
    })
    expect(dots).toMatchObject({ status: 400, body: 'invalid dtab namespace "..": it contains ".."\n' })
  })
})

describe('POST /api/1/dtabs/<ns> (create)', () => {
  beforeEach(() => start({ seed: { yeezus: '/yeezy=>/yeezus' } }))

  it('creates with 204 and no ETag, at version 1', async () => {
    const r = await call(`${base}/api/1/dtabs/tlop`, {
      method: 'POST',
      headers: dtabText,
      body: '/tlop=>/life',
    })
    expect(r.status).toBe(204)
    expect(r.headers.etag).toBeUndefined()
    const g = await call(`${base}/api/1/dtabs/tlop`, { headers: { accept: 'application/dtab' } })
    expect(g.body).toBe('/tlop=>/life\n')
    expect(g.headers.etag).toBe('AAAAAAAAAAE=')
  })

  it('accepts JSON, with Content-Type parameters ignored', async () => {
    const r = await call(`${base}/api/1/dtabs/j`, {
      method: 'POST',
      headers: { 'content-type': 'application/json;charset=UTF-8' },
      body: '[{"prefix":"/a","dst":"/b | /c"}]',
    })
    expect(r.status).toBe(204)
    expect((await call(`${base}/api/1/dtabs/j`)).body).toBe('[{"prefix":"/a","dst":"/b | /c"}]\n')
  })

  it('an existing namespace is 409', async () => {
    const r = await call(`${base}/api/1/dtabs/yeezus`, { method: 'POST', headers: dtabText, body: '/a=>/b' })
    expect(r.status).toBe(409)
    expect((await call(`${base}/api/1/dtabs/yeezus`, { headers: { accept: 'text/plain' } })).body).toBe(
      '/yeezy=>/yeezus\n',
    )
  })

  it('a missing or unknown Content-Type is 400 with an empty body', async () => {
    expect(await call(`${base}/api/1/dtabs/x`, { method: 'POST', body: '/a=>/b' })).toMatchObject({
      status: 400,
      body: '',
    })
    expect(
      await call(`${base}/api/1/dtabs/x`, {
        method: 'POST',
        headers: { 'content-type': 'text/html' },
        body: '/a=>/b',
      }),
    ).toMatchObject({ status: 400, body: '' })
  })

  it('a JSON null dentry is 400 with namerd message', async () => {
    const r = await call(`${base}/api/1/dtabs/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[null]',
    })
    expect(r.status).toBe(400)
    expect(r.body).toBe('The dtab contains invalid dentries: [null]')
  })

  it('malformed bodies are 400 with the parse error, and nothing is created', async () => {
    const text = await call(`${base}/api/1/dtabs/x`, { method: 'POST', headers: dtabText, body: '/a=>' })
    expect(text.status).toBe(400)
    expect(text.body).toMatch(/expected but end of input found at '\/a=>\[\]'/)
    for (const body of [
      'not json',
      '{}',
      '[{"prefix":"/a"}]',
      '[{"prefix":"/a","dst":"/b","x":1}]',
      '[{"prefix":"a","dst":"/b"}]',
    ]) {
      const r = await call(`${base}/api/1/dtabs/x`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      expect(r.status).toBe(400)
    }
    expect((await call(`${base}/api/1/dtabs/x`)).status).toBe(404)
  })
})

describe('PUT /api/1/dtabs/<ns> (update, upsert)', () => {
  beforeEach(() => start({ seed: { yeezus: '/yeezy=>/yeezus' } }))

  it('with a matching If-Match: 204, no ETag, and the version moves on', async () => {
    const r = await call(`${base}/api/1/dtabs/yeezus`, {
      method: 'PUT',
      headers: { ...dtabText, 'if-match': 'AAAAAAAAAAE=' },
      body: '/yeezy=>/kanye',
    })
    expect(r.status).toBe(204)
    expect(r.headers.etag).toBeUndefined()
    const g = await call(`${base}/api/1/dtabs/yeezus`, { headers: { accept: 'application/dtab' } })
    expect(g.body).toBe('/yeezy=>/kanye\n')
    expect(g.headers.etag).toBe('AAAAAAAAAAI=')
  })

  it('with a stale or garbage If-Match: 412 and nothing changes', async () => {
    for (const ifMatch of ['AAAAAAAAAAI=', 'yolo', '']) {
      const r = await call(`${base}/api/1/dtabs/yeezus`, {
        method: 'PUT',
        headers: { ...dtabText, 'if-match': ifMatch },
        body: '/yeezy=>/kanye',
      })
      expect(r.status).toBe(412)
    }
    expect((await call(`${base}/api/1/dtabs/yeezus`, { headers: { accept: 'text/plain' } })).body).toBe(
      '/yeezy=>/yeezus\n',
    )
  })

  it('a quoted ETag still matches (lenient base64)', async () => {
    const r = await call(`${base}/api/1/dtabs/yeezus`, {
      method: 'PUT',
      headers: { ...dtabText, 'if-match': '"AAAAAAAAAAE="' },
      body: '/yeezy=>/kanye',
    })
    expect(r.status).toBe(204)
  })

  it('with If-Match on a missing namespace: 404', async () => {
    const r = await call(`${base}/api/1/dtabs/nope`, {
      method: 'PUT',
      headers: { ...dtabText, 'if-match': 'AAAAAAAAAAE=' },
      body: '/a=>/b',
    })
    expect(r.status).toBe(404)
  })

  it('without If-Match: an unconditional upsert, creating a missing namespace', async () => {
    expect(
      (await call(`${base}/api/1/dtabs/new`, { method: 'PUT', headers: dtabText, body: '/a=>/b' })).status,
    ).toBe(204)
    expect((await call(`${base}/api/1/dtabs/new`)).headers.etag).toBe('AAAAAAAAAAE=')
    expect(
      (await call(`${base}/api/1/dtabs/yeezus`, { method: 'PUT', headers: dtabText, body: '/a=>/c' })).status,
    ).toBe(204)
    expect((await call(`${base}/api/1/dtabs/yeezus`)).headers.etag).toBe('AAAAAAAAAAI=')
  })

  it('a missing or unknown Content-Type is 400 with namerd message (and its trailing space)', async () => {
    const none = await call(`${base}/api/1/dtabs/yeezus`, { method: 'PUT', body: '/a=>/b' })
    expect(none).toMatchObject({ status: 400, body: 'Invalid Content-Type "". ' })
    const html = await call(`${base}/api/1/dtabs/yeezus`, {
      method: 'PUT',
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: '/a=>/b',
    })
    expect(html).toMatchObject({ status: 400, body: 'Invalid Content-Type "text/html; charset=utf-8". ' })
  })

  it('a malformed dtab is 400 with the parser message', async () => {
    const r = await call(`${base}/api/1/dtabs/yeezus`, { method: 'PUT', headers: dtabText, body: 'invalid' })
    expect(r.status).toBe(400)
    expect(r.body).toBe("'/' expected but 'i' found at '[i]nvalid'")
  })

  it('a body over 1 MiB is 413 and nothing changes', async () => {
    const big = `/a=>/${'b'.repeat(1024 * 1024)}`
    const r = await call(`${base}/api/1/dtabs/yeezus`, { method: 'PUT', headers: dtabText, body: big })
    expect(r.status).toBe(413)
    expect((await call(`${base}/api/1/dtabs/yeezus`)).headers.etag).toBe('AAAAAAAAAAE=')
  })

  it('of 50 concurrent PUTs with the same If-Match, exactly one wins and its dtab is stored', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(`${base}/api/1/dtabs/yeezus`, {
          method: 'PUT',
          headers: { ...dtabText, 'if-match': 'AAAAAAAAAAE=' },
          body: `/yeezy=>/v${i}`,
        }),
      ),
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 204)).toHaveLength(1)
    expect(statuses.filter((s) => s === 412)).toHaveLength(49)
    const winner = statuses.indexOf(204)
    const g = await call(`${base}/api/1/dtabs/yeezus`, { headers: { accept: 'application/dtab' } })
    expect(g.body).toBe(`/yeezy=>/v${winner}\n`)
    expect(g.headers.etag).toBe('AAAAAAAAAAI=')
  })
})

describe('DELETE /api/1/dtabs/<ns>', () => {
  beforeEach(() => start({ seed: { yeezus: '/yeezy=>/yeezus' } }))

  it('deletes with 204; a missing namespace is 404', async () => {
    expect((await call(`${base}/api/1/dtabs/yeezus`, { method: 'DELETE' })).status).toBe(204)
    expect((await call(`${base}/api/1/dtabs/yeezus`)).status).toBe(404)
    expect((await call(`${base}/api/1/dtabs/yeezus`, { method: 'DELETE' })).status).toBe(404)
  })
})

describe('bearer token for writes (beyond namerd)', () => {
  beforeEach(() => start({ authToken: 's3cret', seed: { yeezus: '/yeezy=>/yeezus' } }))

  it('writes without the token are 401; reads stay open', async () => {
    for (const method of ['PUT', 'POST', 'DELETE']) {
      const r = await call(`${base}/api/1/dtabs/yeezus`, { method, headers: dtabText, body: '/a=>/b' })
      expect(r.status).toBe(401)
      expect(r.headers['www-authenticate']).toBe('Bearer realm="namerd"')
    }
    const wrong = await call(`${base}/api/1/dtabs/yeezus`, {
      method: 'PUT',
      headers: { ...dtabText, authorization: 'Bearer nope' },
      body: '/a=>/b',
    })
    expect(wrong.status).toBe(401)
    expect((await call(`${base}/api/1/dtabs/yeezus`)).status).toBe(200)
    expect((await call(`${base}/api/1/dtabs`)).status).toBe(200)
  })

  it('writes with the token go through', async () => {
    const r = await call(`${base}/api/1/dtabs/yeezus`, {
      method: 'PUT',
      headers: { ...dtabText, authorization: 'Bearer s3cret' },
      body: '/a=>/b',
    })
    expect(r.status).toBe(204)
  })
})

describe('watch=true on /api/1/dtabs/<ns>', () => {
  beforeEach(() => start({ seed: { yeezus: '/yeezy=>/yeezus' } }))

  it('accepts true, 1 and t in any case; other values are a plain GET', async () => {
    for (const v of ['true', '1', 't', 'TRUE', 'T']) {
      const s = await stream(`/api/1/dtabs/yeezus?watch=${v}`)
      expect(s.headers['transfer-encoding']).toBe('chunked')
      expect(s.headers.etag).toBeUndefined()
      expect(await s.next()).toBe('[{"prefix":"/yeezy","dst":"/yeezus"}]')
    }
    const plain = await call(`${base}/api/1/dtabs/yeezus?watch=false`)
    expect(plain.headers.etag).toBe('AAAAAAAAAAE=')
  })

  it('an update reaches a watcher, in the negotiated type; duplicates are dropped', async () => {
    const s = await stream('/api/1/dtabs/yeezus?watch=true', { accept: 'application/dtab' })
    expect(s.headers['content-type']).toBe('application/dtab')
    expect(await s.next()).toBe('/yeezy=>/yeezus')
    await call(`${base}/api/1/dtabs/yeezus`, { method: 'PUT', headers: dtabText, body: '/yeezy=>/yeezus' })
    await call(`${base}/api/1/dtabs/yeezus`, { method: 'PUT', headers: dtabText, body: '/yeezy=>/kanye' })
    expect(await s.next()).toBe('/yeezy=>/kanye')
    expect(s.buffered).toEqual([])
  })

  it('a missing namespace emits nothing until created; a deleted one goes quiet and resumes on re-create', async () => {
    const s = await stream('/api/1/dtabs/later?watch=1', { accept: 'text/plain' })
    await sleep(50)
    expect(s.buffered).toEqual([])
    await call(`${base}/api/1/dtabs/later`, { method: 'POST', headers: dtabText, body: '/a=>/b' })
    expect(await s.next()).toBe('/a=>/b')
    await call(`${base}/api/1/dtabs/later`, { method: 'DELETE' })
    await sleep(50)
    expect(s.buffered).toEqual([])
    expect(s.ended).toBe(false)
    await call(`${base}/api/1/dtabs/later`, { method: 'POST', headers: dtabText, body: '/a=>/b' })
    expect(await s.next()).toBe('/a=>/b')
  })

  it('a client that disconnects leaves no watcher behind', async () => {
    let observers = 0
    const counting: DtabStore = {
      ...store,
      observe: (ns) => {
        const a = store.observe(ns)
        return {
          ...a,
          observe: (f: Parameters<typeof a.observe>[0]) => {
            observers++
            const d = a.observe(f)
            return () => {
              observers--
              d()
            }
          },
        } as typeof a
      },
    }
    api.close()
    await server.close()
    api = httpController({ store: counting })
    server = await listen(api.handler, '127.0.0.1', 0)
    base = server.url
    const s = await stream('/api/1/dtabs/yeezus?watch=true')
    await s.next()
    expect(api.watches.size).toBe(1)
    expect(observers).toBe(1)
    s.close()
    await until(() => api.watches.size === 0 && observers === 0, 5000, 'the watch to be released')
  })
})

describe('request body limit', () => {
  beforeEach(() => start({ seed: { yeezus: '/yeezy=>/yeezus' } }))

  it('a chunked body (no Content-Length) over the limit is cut off with 413', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${base}/api/1/dtabs/yeezus`)
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'PUT',
          headers: { 'content-type': 'application/dtab' },
          agent: false,
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      const chunk = `/a=>/${'b'.repeat(64 * 1024)};`
      const pump = (n: number): void => {
        if (n === 0) req.end()
        else if (!req.destroyed) req.write(chunk, () => pump(n - 1))
      }
      pump(20)
    })
    expect(status).toBe(413)
    expect((await call(`${base}/api/1/dtabs/yeezus`)).headers.etag).toBe('AAAAAAAAAAE=')
  })
})

describe('the file store behind the API (the embedded default)', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-api-file-'))
    store = await fileDtabStore({ dir, pollIntervalMs: 0 })
    await store.create('yeezus', Dtab.read('/yeezy=>/yeezus'))
    api = httpController({ store })
    server = await listen(api.handler, '127.0.0.1', 0)
    base = server.url
    return () => rm(dir, { recursive: true, force: true })
  })

  it('of 50 concurrent PUTs with the same If-Match, exactly one wins and its dtab is stored', async () => {
    const etag = (await call(`${base}/api/1/dtabs/yeezus`)).headers.etag as string
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(`${base}/api/1/dtabs/yeezus`, {
          method: 'PUT',
          headers: { ...dtabText, 'if-match': etag },
          body: `/yeezy=>/v${i}`,
        }),
      ),
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 204)).toHaveLength(1)
    expect(statuses.filter((s) => s === 412)).toHaveLength(49)
    const winner = statuses.indexOf(204)
    const g = await call(`${base}/api/1/dtabs/yeezus`, { headers: { accept: 'application/dtab' } })
    expect(g.body).toBe(`/yeezy=>/v${winner}\n`)
    expect(g.headers.etag).not.toBe(etag)
    expect(await readFile(join(dir, 'yeezus.dtab'), 'utf8')).toBe(`# version 2\n/yeezy=>/v${winner};\n`)
  })
})
