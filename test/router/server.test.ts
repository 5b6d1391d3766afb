import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRouter, type Router, type RouterServerOptions } from '../../src/router/index.js'
import { call } from '../integration/http-helpers.js'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

let backend: Server
let backendPort = 0
const seen: Seen[] = []

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  )
}

async function proxy(
  dtab: string,
  server: RouterServerOptions = {},
  extra = '',
): Promise<{ url: string; router: Router; close(): Promise<void> }> {
  const router = createRouter(`dtab: ${JSON.stringify(dtab)}\nbindingTimeoutMs: 300\n${extra}`, { server })
  const s = createServer({ requireHostHeader: false }, router)
  const port = await listen(s)
  return {
    url: `http://127.0.0.1:${port}`,
    router,
    async close() {
      s.closeAllConnections()
      await new Promise<void>((r) => s.close(() => r()))
      await router.close()
    },
  }
}

beforeAll(async () => {
  backend = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      })
      if (req.url === '/hop') {
        res.writeHead(200, { connection: 'x-private', 'x-private': '1', 'x-public': '2' })
        res.end('hop')
        return
      }
      if (req.url === '/fail') {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('boom')
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'l5d-custom': 'x' })
      res.end(`ok ${req.method} ${req.url}`)
    })
  })
  backendPort = await listen(backend)
})

afterAll(async () => {
  backend.closeAllConnections()
  await new Promise<void>((r) => backend.close(() => r()))
})

const last = () => seen[seen.length - 1]!

describe('createRouter: forwarding', () => {
  it('forwards with Host kept and exactly linkerd l5d headers (pinned e2e set)', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`)
    try {
      const rep = await call(`${p.url}/path?q=1`, {
        headers: {
          host: 'test',
          'l5d-dtab': '/foo=>/bar',
          'l5d-ctx-thing': 'yoooooo',
          'dtab-local': '/x=>/y',
        },
      })
      expect(rep.status).toBe(200)
      expect(rep.body).toBe('ok GET /path?q=1')
      const h = last().headers
      expect(h.host).toBe('test')
      const l5d = Object.keys(h)
        .filter((k) => k.startsWith('l5d-'))
        .sort()
      expect(l5d).toEqual(['l5d-ctx-dtab', 'l5d-ctx-thing', 'l5d-dst-client', 'l5d-dst-service'])
      expect(h['l5d-ctx-dtab']).toBe('/foo=>/bar')
      expect(h['l5d-dst-service']).toBe('/svc/test')
      expect(h['l5d-dst-client']).toBe(`/$/inet/127.1/${backendPort}`)
      expect(h['dtab-local']).toBe('/x=>/y')
      expect(h.via).toBe('1.1 linkerd')
      expect(rep.headers.via).toBe('1.1 linkerd')
      expect(rep.headers['l5d-success-class']).toBe('1.0')
      expect(rep.headers['l5d-custom']).toBe('x')
    } finally {
      await p.close()
    }
  })

  it('marks a 5XX with l5d-success-class 0.0 and passes it through without l5d-err', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`)
    try {
      const rep = await call(`${p.url}/fail`, { headers: { host: 'test' } })
      expect(rep.status).toBe(500)
      expect(rep.body).toBe('boom')
      expect(rep.headers['l5d-success-class']).toBe('0.0')
      expect(rep.headers['l5d-err']).toBeUndefined()
      expect(p.router.stats.counterValue('rt/http/server/default/failures')).toBe(1)
      expect(p.router.stats.counterValue('rt/http/server/default/status/500')).toBe(1)
    } finally {
      await p.close()
    }
  })

  it('strips hop-by-hop headers both ways, including those named in Connection', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`)
    try {
      const rep = await call(`${p.url}/hop`, {
        headers: {
          host: 'test',
          connection: 'keep-alive, x-secret',
          'x-secret': 's',
          'proxy-authorization': 'p',
          te: 'trailers',
        },
      })
      expect(rep.status).toBe(200)
      const h = last().headers
      expect(h['x-secret']).toBeUndefined()
      expect(h['proxy-authorization']).toBeUndefined()
      expect(h['te']).toBeUndefined()
      expect(rep.headers['x-private']).toBeUndefined()
      expect(rep.headers['x-public']).toBe('2')
    } finally {
      await p.close()
    }
  })

  it('turns an absolute-form request into origin-form with Host = authority', async () => {
    const p = await proxy(`/svc/web.example:8080 => /$/inet/127.1/${backendPort}`)
    try {
      const rep = await call(p.url, {
        headers: { host: 'ignored' },
        rawPath: 'http://web.example:8080/a/%2Fb?x=1',
      })
      expect(rep.status).toBe(200)
      expect(last().url).toBe('/a/%2Fb?x=1')
      expect(last().headers.host).toBe('web.example:8080')
    } finally {
      await p.close()
    }
  })

  it('answers 100-continue and forwards the body without the Expect header', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`)
    try {
      const u = new URL(p.url)
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: u.hostname,
            port: u.port,
            method: 'POST',
            path: '/up',
            headers: { host: 'test', expect: '100-continue', 'content-length': '5' },
          },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode!))
          },
        )
        req.on('continue', () => req.end('hello'))
        req.on('error', reject)
      })
      expect(status).toBe(200)
      expect(last().body).toBe('hello')
      expect(last().headers.expect).toBeUndefined()
    } finally {
      await p.close()
    }
  })

  it('clearContext strips inbound l5d-* and outbound l5d-* response headers', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`, { clearContext: true })
    try {
      const rep = await call(`${p.url}/`, {
        headers: { host: 'test', 'l5d-dtab': '/svc/test=>/$/nil', 'l5d-ctx-thing': 'y' },
      })
      expect(rep.status).toBe(200)
      const l5d = Object.keys(last().headers)
        .filter((k) => k.startsWith('l5d-'))
        .sort()
      expect(l5d).toEqual(['l5d-dst-client', 'l5d-dst-service'])
      expect(Object.keys(rep.headers).filter((k) => k.startsWith('l5d-'))).toEqual([])
      const err = await call(`${p.url}/`, { headers: { host: 'nobody' } })
      expect(err.status).toBe(502)
      expect(err.body).toBe('')
      expect(err.headers['l5d-err']).toBeUndefined()
    } finally {
      await p.close()
    }
  })

  it('adds Forwarded and a timestamp header when configured', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`, {
      addForwardedHeader: { by: { kind: 'router' }, for: { kind: 'ip' } },
      timestampHeader: 'x-ts',
    })
    try {
      await call(`${p.url}/`, { headers: { host: 'test' } })
      expect(last().headers.forwarded).toBe('by=_http;for=127.0.0.1;host=test')
      expect(Number(last().headers['x-ts'])).toBeGreaterThan(1_600_000_000_000)
    } finally {
      await p.close()
    }
  })
})

describe('createRouter: error responses (spec router §4, byte for byte)', () => {
  it('400 for an unidentified request', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`)
    try {
      const u = new URL(p.url)
      const { status, headers, body, localPort } = await new Promise<{
        status: number
        headers: IncomingMessage['headers']
        body: string
        localPort: number
      }>((resolve, reject) => {
        const req = httpRequest(
          { host: u.hostname, port: u.port, path: '/', setHost: false, agent: false },
          (res) => {
            const chunks: Buffer[] = []
            res.on('data', (c: Buffer) => chunks.push(c))
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                headers: res.headers,
                body: Buffer.concat(chunks).toString(),
                localPort: req.socket!.localPort!,
              }),
            )
          },
        )
        req.on('error', reject)
        req.end()
      })
      const message = `Unknown destination: Request("GET /", from /127.0.0.1:${localPort}) / Host header is absent`
      expect(status).toBe(400)
      expect(body).toBe(message)
      expect(headers['content-type']).toBe('text/plain')
      expect(headers['content-length']).toBe(String(message.length))
      expect(headers['l5d-err']).toBe(
        encodeURIComponent(message)
          .replace(/%20/g, '+')
          .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
      )
      expect(headers.via).toBeUndefined()
    } finally {
      await p.close()
    }
  })

  it('400 for a malformed l5d-dtab', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`)
    try {
      const rep = await call(`${p.url}/`, { headers: { host: 'test', 'l5d-dtab': '/a=>' } })
      expect(rep.status).toBe(400)
      expect(rep.headers['l5d-err']).toBeDefined()
      expect(decodeURIComponent(String(rep.headers['l5d-err']).replace(/\+/g, ' '))).toBe(rep.body)
    } finally {
      await p.close()
    }
  })

  it('400 for a Via chain longer than maxCallDepth', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort}`, { maxCallDepth: 2 })
    try {
      const rep = await call(`${p.url}/`, { headers: { host: 'test', via: 'hop1, hop2, hop3' } })
      expect(rep.status).toBe(400)
      expect(rep.body).toBe('Maximum number of calls (2) has been exceeded. Please check for proxy loops.')
      expect(rep.headers['l5d-err']).toBe(
        'Maximum+number+of+calls+%282%29+has+been+exceeded.+Please+check+for+proxy+loops.',
      )
    } finally {
      await p.close()
    }
  })

  it('502 "Unable to route request!" for a name with no brokers', async () => {
    const p = await proxy(`/svc/test => /$/inet/127.1/${backendPort};/svc/gone => /$/nil`)
    try {
      const rep = await call(`${p.url}/`, { headers: { host: 'gone', 'l5d-dtab': '/a=>/b' } })
      expect(rep.status).toBe(502)
      const message = `Unable to route request!\n\nservice name: /svc/gone\ndtab:\n\nbase dtab:\n  /svc/test => /$/inet/127.1/${backendPort}\n  /svc/gone => /$/nil\noverride dtab:\n  /a => /b\n`
      expect(rep.body).toBe(message)
      expect(rep.headers['l5d-err']).not.toMatch(/\n/)
      expect(rep.headers['l5d-err']).toContain('%0A')
      expect(rep.headers['l5d-err']).toBe(
        `Unable+to+route+request%21%0A%0Aservice+name%3A+%2Fsvc%2Fgone%0Adtab%3A%0A%0Abase+dtab%3A%0A++%2Fsvc%2Ftest+%3D%3E+%2F%24%2Finet%2F127.1%2F${backendPort}%0A++%2Fsvc%2Fgone+%3D%3E+%2F%24%2Fnil%0Aoverride+dtab%3A%0A++%2Fa+%3D%3E+%2Fb%0A`,
      )
    } finally {
      await p.close()
    }
  })

  it('502 "Unable to establish connection" when the endpoint refuses', async () => {
    const dead = createServer()
    const deadPort = await listen(dead)
    await new Promise<void>((r) => dead.close(() => r()))
    const p = await proxy(
      `/svc/dead => /$/inet/127.0.0.1/${deadPort}`,
      {},
      'client:\n  failureAccrual:\n    kind: none\n',
    )
    try {
      const rep = await call(`${p.url}/`, { headers: { host: 'dead' } })
      expect(rep.status).toBe(502)
      expect(rep.body).toBe(
        `Unable to establish connection to 127.0.0.1:${deadPort}.\n\nservice name: /svc/dead\nclient name: /$/inet/127.0.0.1/${deadPort}\naddresses: [127.0.0.1:${deadPort}]\nselected address: 127.0.0.1:${deadPort}\n`,
      )
      expect(rep.headers['l5d-retryable']).toBe('true')
    } finally {
      await p.close()
    }
  })

  it('502 "Unable to route request!" for a name under an unknown namer prefix (a negative binding)', async () => {
    const p = await proxy('/svc/slow => /#/io.l5d.nowhere/slow', {}, '')
    try {
      const rep = await call(`${p.url}/`, { headers: { host: 'slow' } })
      // An unknown namer prefix is a negative binding, not a pending one: linkerd answers 502 no brokers.
      expect(rep.status).toBe(502)
      expect(rep.body.startsWith('Unable to route request!\n\nservice name: /svc/slow\n')).toBe(true)
    } finally {
      await p.close()
    }
  })

  it('503 with linkerd wording when totalTimeoutMs is exceeded', async () => {
    const slow = createServer((_req, res) => {
      setTimeout(() => res.end('late'), 2000)
    })
    const slowPort = await listen(slow)
    const p = await proxy(`/svc/slow => /$/inet/127.1/${slowPort}`, {}, 'service:\n  totalTimeoutMs: 200\n')
    try {
      const rep = await call(`${p.url}/`, { headers: { host: 'slow' } })
      expect(rep.status).toBe(503)
      expect(rep.body).toBe(
        'exceeded 200.milliseconds to unspecified while waiting for a response for the request, including retries (if applicable). Remote Info: Not Available',
      )
    } finally {
      await p.close()
      slow.closeAllConnections()
      await new Promise<void>((r) => slow.close(() => r()))
    }
  })

  it('503 at once beyond maxConcurrentRequests', async () => {
    const slow = createServer((_req, res) => {
      setTimeout(() => res.end('late'), 500)
    })
    const slowPort = await listen(slow)
    const p = await proxy(`/svc/slow => /$/inet/127.1/${slowPort}`, { maxConcurrentRequests: 1 })
    try {
      const [a, b] = await Promise.all([
        call(`${p.url}/`, { headers: { host: 'slow' } }),
        new Promise((r) => setTimeout(r, 100)).then(() => call(`${p.url}/`, { headers: { host: 'slow' } })),
      ])
      expect(a.status).toBe(200)
      expect(b.status).toBe(503)
      expect(b.headers['l5d-retryable']).toBe('true')
    } finally {
      await p.close()
      slow.closeAllConnections()
      await new Promise<void>((r) => slow.close(() => r()))
    }
  })
})
