import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/core/errors.js'
import { isRequeueable } from '../../src/core/failure.js'
import { httpEndpoint } from '../../src/http/endpoint.js'
import { ChannelClosedError, ConnectionFailedError, TooManyWaitersError } from '../../src/http/errors.js'
import type { HttpRequest } from '../../src/http/request.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { closedPort, readBody, startServer, type TestServer } from './servers.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args)
  cleanup.push(() => s.close())
  return s
}

function endpointFor(port: number, options: Parameters<typeof httpEndpoint>[1] = {}) {
  const e = httpEndpoint({ host: '127.0.0.1', port }, options)
  cleanup.push(() => e.close())
  return e
}

function get(path = '/', host = 'users'): HttpRequest {
  return { method: 'GET', path, version: '1.1', headers: { host }, body: null }
}

describe('httpEndpoint', () => {
  it('sends the request with the logical Host and streams the response back', async () => {
    const s = await server((req, res) => {
      res.setHeader('x-seen-host', req.headers.host ?? '')
      res.end(`hello ${req.url}`)
    })
    const e = endpointFor(s.port)
    const rep = await e(get('/a?b=1'))
    expect(rep.statusCode).toBe(200)
    expect(rep.headers['x-seen-host']).toBe('users')
    expect(await rep.body.text()).toBe('hello /a?b=1')
    expect(e.address).toBe(`127.0.0.1:${s.port}`)
    expect(e.pending).toBe(0)
  })

  it('sends string and stream bodies', async () => {
    const s = await server(async (req, res) => res.end(`got ${await readBody(req)}`))
    const e = endpointFor(s.port)
    const post = (body: HttpRequest['body']) => e({ ...get(), method: 'POST', body })
    expect(await (await post('text')).body.text()).toBe('got text')
    expect(await (await post(Readable.from(['a', 'b', 'c']))).body.text()).toBe('got abc')
  })

  it('fails with a requeue-safe ConnectionFailedError when nothing listens', async () => {
    const e = endpointFor(await closedPort())
    const error = await e(get()).catch((x: unknown) => x)
    expect(error).toBeInstanceOf(ConnectionFailedError)
    expect(isRequeueable(error)).toBe(true)
    expect(e.pending).toBe(0)
  })

  it('fails with a ChannelClosedError, not requeue-safe, when the server drops the connection', async () => {
    const s = await server((req) => req.socket.destroy())
    const e = endpointFor(s.port)
    const error = await e(get()).catch((x: unknown) => x)
    expect(error).toBeInstanceOf(ChannelClosedError)
    expect(isRequeueable(error)).toBe(false)
  })

  it('aborting the signal aborts the request on the wire', async () => {
    let serverSawClose!: () => void
    const closed = new Promise<void>((r) => {
      serverSawClose = r
    })
    const s = await server((req) => req.socket.on('close', serverSawClose))
    const e = endpointFor(s.port)
    const ac = new AbortController()
    const p = e(get(), ac.signal)
    while (s.seen.length === 0) await new Promise((r) => setTimeout(r, 2))
    ac.abort(new Error('caller gave up'))
    await expect(p).rejects.toThrow('caller gave up')
    await closed
  })

  it('aborting a streaming body closes the connection and fails the body', async () => {
    const s = await server((_req, res) => {
      res.write('first')
    })
    const e = endpointFor(s.port)
    const ac = new AbortController()
    const rep = await e(get(), ac.signal)
    const text = rep.body.text()
    ac.abort(new Error('stop'))
    await expect(text).rejects.toThrow('stop')
  })

  it('rejects at once when the signal is already aborted', async () => {
    const s = await server()
    const e = endpointFor(s.port)
    const ac = new AbortController()
    ac.abort(new Error('already'))
    await expect(e(get(), ac.signal)).rejects.toThrow('already')
    expect(s.seen.length).toBe(0)
  })

  it('a discarded body frees the connection for the next request', async () => {
    const s = await server((_req, res) => res.end('x'.repeat(100_000)))
    const e = endpointFor(s.port, { maxSize: 1 })
    for (let i = 0; i < 3; i++) (await e(get())).body.discard()
    expect(await (await e(get())).body.text()).toHaveLength(100_000)
    expect(e.connections).toBe(1)
  })

  it('rejects with TooManyWaitersError beyond maxWaiters', async () => {
    const s = await server((_req, res) => setTimeout(() => res.end('late'), 50))
    const e = endpointFor(s.port, { maxSize: 1, maxWaiters: 1 })
    const first = e(get())
    await new Promise((r) => setTimeout(r, 10))
    const second = e(get())
    const third = await e(get()).catch((x: unknown) => x)
    expect(third).toBeInstanceOf(TooManyWaitersError)
    expect(isRequeueable(third)).toBe(true)
    expect(await (await first).body.text()).toBe('late')
    expect(await (await second).body.text()).toBe('late')
  })

  it('reports connections and pending as gauges', async () => {
    const stats = inMemoryStats()
    const s = await server((_req, res) => setTimeout(() => res.end('ok'), 30))
    const e = endpointFor(s.port, { stats })
    const p = e(get())
    await new Promise((r) => setTimeout(r, 10))
    expect(stats.gaugeValue('pending')).toBe(1)
    await (await p).body.text()
    expect(stats.gaugeValue('pending')).toBe(0)
    expect(stats.gaugeValue('connections')).toBe(1)
  })

  it('close() closes every connection and further calls fail', async () => {
    const s = await server()
    const e = httpEndpoint(s.address)
    await (await e(get())).body.text()
    expect(e.connections).toBe(1)
    await e.close()
    expect(e.status).toBe('closed')
    expect(e.connections).toBe(0)
    await expect(e(get())).rejects.toThrow('service is closed')
  })

  it('rejects bad pool options', () => {
    expect(() => httpEndpoint({ host: '127.0.0.1', port: 1 }, { maxSize: 0 })).toThrow(InvalidOptionError)
    expect(() => httpEndpoint({ host: '127.0.0.1', port: 1 }, { maxWaiters: -1 })).toThrow(InvalidOptionError)
  })
})
