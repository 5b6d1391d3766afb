import { Readable } from 'node:stream'
import { Request as UndiciRequest, fetch as undiciFetch, request as undiciRequest } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { NoBrokersAvailableError } from '../../src/balancer/errors.js'
import { Var } from '../../src/core/var.js'
import { retryableRead5xx } from '../../src/http/classifiers.js'
import { type Client, type ClientOptions, createClient } from '../../src/http/client.js'
import { ConnectionFailedError } from '../../src/http/errors.js'
import { path, UnidentifiedError } from '../../src/http/identifiers.js'
import { UnsupportedRequestError } from '../../src/http/interceptor.js'
import { encodeL5dErr, runWithContext } from '../../src/http/propagation.js'
import { Addr } from '../../src/naming/addr.js'
import { Address } from '../../src/naming/address.js'
import { Dtab } from '../../src/naming/dtab.js'
import { delegateTreeJson } from '../../src/naming/json.js'
import { Name } from '../../src/naming/name.js'
import { Namer } from '../../src/naming/namer.js'
import { NameTree } from '../../src/naming/nametree.js'
import { ParseError } from '../../src/naming/parse-error.js'
import { Path } from '../../src/naming/path.js'
import { portTransformer } from '../../src/transformers/port.js'
import { closedPort, readBody, startServer, type TestServer } from './servers.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** A backend that answers with its name and what it saw. */
async function backend(name: string, handle?: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(
    handle ??
      ((req, res) => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ backend: name, url: req.url, headers: req.headers }))
      }),
  )
  cleanup.push(() => s.close())
  return s
}

function client(options: ClientOptions): Client {
  const c = createClient(options)
  cleanup.push(() => c.close())
  return c
}

/** A namer of fixed services: `/#/static/<service>` bound to 127.0.0.1 ports. */
function staticNamer(services: Record<string, number[]>): Namer {
  return Namer.of((p) => {
    const ports = services[p.segments[0] ?? '']
    if (!ports) return NameTree.Neg
    const addr = Addr.bound(ports.map((port) => Address.inet('127.0.0.1', port)))
    return NameTree.leaf(Name.bound(Path.of('#', 'static', p.segments[0]!), addr, p.drop(1)))
  })
}

const inet = (s: TestServer | number) => `/$/inet/127.0.0.1/${typeof s === 'number' ? s : s.port}`

interface Seen {
  backend: string
  url: string
  headers: Record<string, string>
}

async function get(c: Client, url: string, headers: Record<string, string> = {}): Promise<Seen> {
  const rep = await c.request(url, { headers })
  expect(rep.statusCode).toBe(200)
  return (await rep.body.json()) as Seen
}

describe('createClient routing', () => {
  it('routes by Host through the dtab and sends the logical Host with l5d-dst headers', async () => {
    const users = await backend('users')
    const web = await backend('web')
    const c = client({ dtab: `/svc/users => ${inet(users)}; /svc/web => ${inet(web)}` })
    const seen = await get(c, 'http://users/api/42?full=1')
    expect(seen.backend).toBe('users')
    expect(seen.url).toBe('/api/42?full=1')
    expect(seen.headers['host']).toBe('users')
    expect(seen.headers['l5d-dst-service']).toBe('/svc/users')
    expect(seen.headers['l5d-dst-client']).toBe(inet(users))
    expect((await get(c, 'http://web/')).backend).toBe('web')
  })

  it('routes by path with a path identifier, consuming the segment', async () => {
    const users = await backend('users')
    const c = client({ dtab: `/svc/users => ${inet(users)}`, identifier: path({ consume: true }) })
    const seen = await get(c, 'http://anything/users/42?x=1')
    expect(seen.backend).toBe('users')
    expect(seen.url).toBe('/42?x=1')
    expect(seen.headers['host']).toBe('anything')
  })

  it('re-routes the next request when the dtab changes, letting in-flight ones finish', async () => {
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    const v1 = await backend('v1', (req, res) => {
      if (req.url === '/slow') void held.then(() => res.end(JSON.stringify({ backend: 'v1' })))
      else res.end(JSON.stringify({ backend: 'v1' }))
    })
    const v2 = await backend('v2')
    const dtab = Var.value(Dtab.read(`/svc/users => ${inet(v1)}`))
    const c = client({ dtab })
    expect((await get(c, 'http://users/')).backend).toBe('v1')
    const slow = c.request('http://users/slow')
    while (v1.seen.length < 2) await new Promise((r) => setTimeout(r, 2))
    dtab.update(Dtab.read(`/svc/users => ${inet(v2)}`))
    expect((await get(c, 'http://users/')).backend).toBe('v2')
    release()
    expect(await (await slow).body.json()).toEqual({ backend: 'v1' })
  })

  it('fails an unidentified request with UnidentifiedError, from request and fetch', async () => {
    const c = client({ dtab: '/svc => /$/inet/127.0.0.1', identifier: path({ segments: 2 }) })
    const e1 = await c.request('http://x/only-one').catch((e: unknown) => e)
    expect(e1).toBeInstanceOf(UnidentifiedError)
    expect((e1 as UnidentifiedError).reason).toBe('not enough segments in path')
    await expect(c.fetch('http://x/only-one')).rejects.toBeInstanceOf(UnidentifiedError)
  })

  it('fails a name that binds to nothing with NoBrokersAvailableError, naming the dtab', async () => {
    const c = client({ dtab: '/svc/users => /$/inet/127.0.0.1/1' })
    const e = await c.request('http://nobody/').catch((x: unknown) => x)
    expect(e).toBeInstanceOf(NoBrokersAvailableError)
    expect((e as Error).message).toBe(
      'No hosts are available for /svc/nobody, Dtab.base=[/svc/users=>/$/inet/127.0.0.1/1], Dtab.local=[]. Remote Info: Not Available',
    )
  })

  it('rejects https origins instead of sending them in clear text', async () => {
    const c = client({ dtab: '/svc => /$/inet/127.0.0.1/1' })
    await expect(c.request('https://users/')).rejects.toBeInstanceOf(UnsupportedRequestError)
    await expect(c.fetch('https://users/')).rejects.toBeInstanceOf(UnsupportedRequestError)
  })
})

describe('per-request dtabs and context', () => {
  it('l5d-dtab adds rules for that request only and is carried as l5d-ctx-dtab', async () => {
    const stable = await backend('stable')
    const canary = await backend('canary')
    const c = client({ dtab: `/svc/users => ${inet(stable)}; /svc/canary => ${inet(canary)}` })
    const seen = await get(c, 'http://users/', { 'l5d-dtab': '/svc/users => /svc/canary' })
    expect(seen.backend).toBe('canary')
    expect(seen.headers['l5d-ctx-dtab']).toBe('/svc/users=>/svc/canary')
    expect(seen.headers['l5d-dtab']).toBeUndefined()
    expect((await get(c, 'http://users/')).backend).toBe('stable')
  })

  it('a malformed l5d-dtab fails with ParseError before anything is sent', async () => {
    const stable = await backend('stable')
    const c = client({ dtab: `/svc/users => ${inet(stable)}` })
    await expect(c.request('http://users/', { headers: { 'l5d-dtab': '/svc=>' } })).rejects.toBeInstanceOf(
      ParseError,
    )
    await expect(c.fetch('http://users/', { headers: { 'l5d-dtab': '/svc=>' } })).rejects.toBeInstanceOf(
      ParseError,
    )
    expect(stable.seen.length).toBe(0)
  })

  it('runWithContext applies its dtab and deadline to the calls made inside it', async () => {
    const stable = await backend('stable')
    const canary = await backend('canary')
    const c = client({ dtab: `/svc/users => ${inet(stable)}; /svc/canary => ${inet(canary)}` })
    const deadline = `${BigInt(Date.now()) * 1_000_000n} ${BigInt(Date.now() + 60_000) * 1_000_000n}`
    const seen = await runWithContext({ dtab: Dtab.read('/svc/users => /svc/canary') }, () =>
      get(c, 'http://users/', { 'l5d-ctx-deadline': deadline }),
    )
    expect(seen.backend).toBe('canary')
    expect(seen.headers['l5d-ctx-dtab']).toBe('/svc/users=>/svc/canary')
    expect(seen.headers['l5d-ctx-deadline']).toBe(deadline)
  })
})

describe('entry points', () => {
  it('the dispatcher works with undici.request, undici.fetch and the global fetch', async () => {
    const users = await backend('users')
    const c = client({ dtab: `/svc/users => ${inet(users)}` })
    const viaRequest = await undiciRequest('http://users/r', { dispatcher: c.dispatcher })
    expect(((await viaRequest.body.json()) as Seen).url).toBe('/r')
    const viaFetch = await undiciFetch('http://users/f', { dispatcher: c.dispatcher })
    expect(((await viaFetch.json()) as Seen).url).toBe('/f')
    const viaGlobal = await fetch('http://users/g', { dispatcher: c.dispatcher } as unknown as RequestInit)
    expect(((await viaGlobal.json()) as Seen).url).toBe('/g')
    const seenHosts = users.seen.map((r) => r.headers.host)
    expect(seenHosts).toEqual(['users', 'users', 'users'])
  })

  it('fetch takes a Request object (global or undici), body and headers included', async () => {
    const echo = await backend('echo', async (req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          tag: req.headers['x-tag'] ?? null,
          body: await readBody(req),
        }),
      )
    })
    const c = client({ dtab: `/svc/echo => ${inet(echo)}` })
    const viaGlobal = await c.fetch(
      new Request('http://echo/submit?x=1', {
        method: 'POST',
        headers: { 'x-tag': 'global' },
        body: 'hello',
      }),
    )
    expect(await viaGlobal.json()).toEqual({
      method: 'POST',
      url: '/submit?x=1',
      tag: 'global',
      body: 'hello',
    })
    const viaUndici = await c.fetch(
      new UndiciRequest('http://echo/u', { method: 'PUT', body: 'from undici' }),
    )
    expect(await viaUndici.json()).toEqual({ method: 'PUT', url: '/u', tag: null, body: 'from undici' })
    // init overrides the request's fields, as in new Request(request, init).
    const overridden = await c.fetch(new Request('http://echo/o', { method: 'POST', body: 'original' }), {
      body: 'replaced',
      headers: { 'x-tag': 'init' },
    })
    expect(await overridden.json()).toEqual({ method: 'POST', url: '/o', tag: 'init', body: 'replaced' })
    const get = await c.fetch(new Request('http://echo/g'))
    expect(await get.json()).toEqual({ method: 'GET', url: '/g', tag: null, body: '' })
    expect(echo.seen.map((r) => r.headers.host)).toEqual(['echo', 'echo', 'echo', 'echo'])
  })

  it('fetch sends a body and reads a streamed response', async () => {
    const echo = await backend('echo', async (req, res) => {
      res.write('you said: ')
      setTimeout(async () => res.end(await readBody(req)), 5)
    })
    const c = client({ dtab: `/svc/echo => ${inet(echo)}` })
    const rep = await c.fetch('http://echo/', { method: 'POST', body: 'hello' })
    expect(await rep.text()).toBe('you said: hello')
  })

  it('aborting a fetch aborts the backend request', async () => {
    let sawClose!: () => void
    const closed = new Promise<void>((r) => {
      sawClose = r
    })
    const hang = await backend('hang', (req) => req.socket.on('close', sawClose))
    const c = client({ dtab: `/svc/hang => ${inet(hang)}` })
    const ac = new AbortController()
    const p = c.fetch('http://hang/', { signal: ac.signal })
    while (hang.seen.length === 0) await new Promise((r) => setTimeout(r, 2))
    ac.abort()
    await expect(p).rejects.toThrow(/abort/i)
    await closed
  })

  it('aborting client.request aborts the backend request, before and after the head', async () => {
    let closes = 0
    const hang = await backend('hang', (req, res) => {
      req.socket.on('close', () => closes++)
      if (req.url === '/head') res.write('partial')
    })
    const c = client({ dtab: `/svc/hang => ${inet(hang)}` })
    const before = new AbortController()
    const p = c.request('http://hang/', { signal: before.signal })
    while (hang.seen.length === 0) await new Promise((r) => setTimeout(r, 2))
    before.abort(new Error('gave up'))
    await expect(p).rejects.toThrow('gave up')
    const after = new AbortController()
    const rep = await c.request('http://hang/head', { signal: after.signal })
    const text = rep.body.text()
    after.abort(new Error('enough'))
    await expect(text).rejects.toThrow('enough')
    while (closes < 2) await new Promise((r) => setTimeout(r, 2))
  })
})

describe('retries and requeues', () => {
  it('retries a GET answered 503 on another attempt with retryableRead5xx', async () => {
    let calls = 0
    const flaky = await backend('flaky', (_req, res) => {
      calls++
      res.statusCode = calls === 1 ? 503 : 200
      res.end(calls === 1 ? 'busy' : 'ok')
    })
    const c = client({ dtab: `/svc/flaky => ${inet(flaky)}`, responseClassifier: retryableRead5xx })
    const rep = await c.request('http://flaky/')
    expect(rep.statusCode).toBe(200)
    expect(await rep.body.text()).toBe('ok')
    expect(calls).toBe(2)
    expect(c.stats.counterValue('rt/service/svc/flaky/retries')).toBe(1)
  })

  it('never retries a POST answered 503, nor one whose connection closed', async () => {
    const busy = await backend('busy', (_req, res) => {
      res.statusCode = 503
      res.end('busy')
    })
    const reset = await backend('reset', (req) => req.socket.destroy())
    const c = client({
      dtab: `/svc/busy => ${inet(busy)}; /svc/reset => ${inet(reset)}`,
      responseClassifier: retryableRead5xx,
    })
    expect((await c.request('http://busy/', { method: 'POST', body: 'x' })).statusCode).toBe(503)
    await expect(c.request('http://reset/', { method: 'POST', body: 'x' })).rejects.toThrow()
    expect(busy.seen.length).toBe(1)
    expect(reset.seen.length).toBe(1)
  })

  it('requeues a POST with a string body refused by a dead endpoint; never one with a stream body', async () => {
    const live = await backend('live', async (req, res) => res.end(await readBody(req)))
    const dead = await closedPort()
    // One bound name with two endpoints: the balancer picks per attempt; the dead one refuses connections.
    const c = client({
      dtab: '/svc => /#/static',
      namers: [{ prefix: '/#/static', namer: staticNamer({ orders: [dead, live.port] }) }],
      failureAccrual: null,
    })
    for (let i = 0; i < 20; i++) {
      const rep = await c.request('http://orders/', { method: 'POST', body: `order ${i}` })
      expect(await rep.body.text()).toBe(`order ${i}`)
    }
    expect(live.seen.length).toBe(20)
    const streams = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        c.request('http://orders/', { method: 'POST', body: Readable.from([`stream ${i}`]) }).then(
          async (rep) => rep.body.text(),
          (e: unknown) => e,
        ),
      ),
    )
    const refused = streams.filter((x) => x instanceof ConnectionFailedError)
    expect(refused.length).toBeGreaterThan(0)
    expect(live.seen.length).toBe(20 + (20 - refused.length))
  })
})

describe('transformers and delegation', () => {
  it('interpreter transformers change where requests go, and delegate shows each step', async () => {
    const users = await backend('users')
    // The dtab names a port nothing listens on; the port transformer sends it to the backend.
    const c = client({
      dtab: '/svc/users => /$/inet/127.0.0.1/1',
      transformers: [portTransformer({ port: users.port })],
    })
    const seen = await get(c, 'http://users/')
    expect(seen.backend).toBe('users')
    expect(seen.headers['l5d-dst-client']).toBe(`/%/io.l5d.port/${users.port}/$/inet/127.0.0.1/1`)
    const tree = await c.delegate('/svc/users')
    const json = delegateTreeJson(tree)
    expect(json).toContain('"type":"transformation"')
    expect(json).toContain('"name":"PortTransformer"')
    expect(json).toContain(`"path":"/%/io.l5d.port/${users.port}/$/inet/127.0.0.1/1"`)
    // local rules, as an l5d-dtab header would add
    expect(delegateTreeJson(await c.delegate('/svc/users', '/svc/users => /$/inet/127.0.0.1/2'))).toContain(
      '/$/inet/127.0.0.1/2',
    )
  })
})

describe('errorResponses', () => {
  it("answers the stack's failures as linkerd does: 400 unidentified, 502 otherwise, with l5d-err", async () => {
    const dead = await closedPort()
    const c = client({
      dtab: `/svc/gone => ${inet(dead)}`,
      identifier: path(),
      errorResponses: true,
      failureAccrual: null,
    })
    const unidentified = await c.request('http://x/')
    expect(unidentified.statusCode).toBe(400)
    const message = await unidentified.body.text()
    expect(message).toBe('Unknown destination: Request("GET /") / not enough segments in path')
    expect(unidentified.headers['l5d-err']).toBe(encodeL5dErr(message))
    const refused = await c.fetch('http://x/gone')
    expect(refused.status).toBe(502)
    // requeued until the per-request limit, then flagged NonRetryable: not marked retryable
    expect(refused.headers.get('l5d-retryable')).toBeNull()
    expect(await refused.text()).toContain('ECONNREFUSED')
  })
})

describe('stats', () => {
  it('counts per service and per bound client, exported as Prometheus text and JSON', async () => {
    const users = await backend('users')
    const c = client({ dtab: `/svc/users => ${inet(users)}` })
    for (let i = 0; i < 5; i++) await get(c, 'http://users/')
    const client5 = `rt/client/$/inet/127.0.0.1/${users.port}`
    expect(c.stats.counterValue('rt/service/svc/users/requests')).toBe(5)
    expect(c.stats.counterValue('rt/service/svc/users/success')).toBe(5)
    expect(c.stats.counterValue(`${client5}/requests`)).toBe(5)
    expect(c.stats.counterValue(`${client5}/status/2XX`)).toBe(5)
    expect(c.stats.gaugeValue(`${client5}/connections`)).toBeGreaterThanOrEqual(1)
    expect(c.stats.gaugeValue('rt/service/svc/users/pending')).toBe(0)
    expect(c.stats.statSummary('rt/service/svc/users/request_latency_ms')?.count).toBe(5)
    const prom = c.stats.prometheus()
    expect(prom).toContain('rt_service_requests_total{service="svc/users"} 5')
    expect(prom).toContain(`rt_client_requests_total{client="$/inet/127.0.0.1/${users.port}"} 5`)
    expect(prom).toContain('rt_service_request_latency_seconds_bucket{service="svc/users",le="+Inf"} 5')
    expect(prom).toContain('rt_service_request_latency_seconds_count{service="svc/users"} 5')
    expect(c.stats.json()['rt/service/svc/users/request_latency_ms.p50']).toBeTypeOf('number')
  })

  it('counts failures by class', async () => {
    const c = client({ dtab: `/svc/gone => ${inet(await closedPort())}`, failureAccrual: null })
    await expect(c.request('http://gone/')).rejects.toBeInstanceOf(ConnectionFailedError)
    expect(c.stats.counterValue('rt/service/svc/gone/failures/ConnectionFailed')).toBe(1)
  })
})

describe('close', () => {
  it('leaves no handle open', async () => {
    const users = await backend('users')
    const count = (rs: string[]) => rs.filter((r) => r === 'TCPSocketWrap' || r === 'Timeout').length
    const before = count(process.getActiveResourcesInfo())
    const c = createClient({ dtab: `/svc/users => ${inet(users)}` })
    await get(c, 'http://users/')
    await (await c.fetch('http://users/')).text()
    expect(count(process.getActiveResourcesInfo())).toBeGreaterThan(before)
    await c.close()
    users.server.closeAllConnections()
    // Sockets are released on the next turns of the event loop.
    for (let i = 0; i < 50 && count(process.getActiveResourcesInfo()) > before; i++)
      await new Promise((r) => setImmediate(r))
    // (sockets of earlier tests may close meanwhile, so the count can only go down)
    expect(count(process.getActiveResourcesInfo())).toBeLessThanOrEqual(before)
  })
})
