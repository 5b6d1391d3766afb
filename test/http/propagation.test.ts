import fc from 'fast-check'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionFailedError } from '../../src/http/errors.js'
import { UnidentifiedError } from '../../src/http/identifiers.js'
import {
  currentContext,
  encodeL5dErr,
  L5dHeaders,
  l5dErrorResponse,
  readDeadlineHeaders,
  readDtabHeaders,
  readRequestContext,
  runWithContext,
  withL5dContext,
} from '../../src/http/propagation.js'
import { Deadline } from '../../src/limits/deadline.js'
import { Dtab } from '../../src/naming/dtab.js'
import { ParseError } from '../../src/naming/parse-error.js'
import { startServer, type TestServer } from './servers.js'

const servers: TestServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

describe('dtab headers', () => {
  it('appends l5d-dtab after l5d-ctx-dtab, each possibly repeated', () => {
    const dtab = readDtabHeaders({
      'l5d-ctx-dtab': ['/a=>/b', '/c=>/d'],
      'l5d-dtab': '/e=>/f;/g=>/h',
    })
    expect(dtab.show()).toBe('/a=>/b;/c=>/d;/e=>/f;/g=>/h')
  })
  it('is empty without headers', () => {
    expect(readDtabHeaders({}).isEmpty).toBe(true)
  })
  it('throws the ParseError of a malformed dtab', () => {
    expect(() => readDtabHeaders({ 'l5d-dtab': '/a=>' })).toThrow(ParseError)
    const r = readRequestContext({ 'l5d-dtab': '/a=>' })
    expect(r._tag).toBe('Left')
  })
})

describe('deadline headers', () => {
  it('reads ns timestamps into ms, keeping the strictest of several and ignoring garbage', () => {
    const d = readDeadlineHeaders({ 'l5d-ctx-deadline': ['1000000 9000000', '2000000 5000000', 'garbage'] })
    expect(d?.equals(new Deadline(2, 5))).toBe(true)
    expect(readDeadlineHeaders({})).toBeUndefined()
    expect(readDeadlineHeaders({ 'l5d-ctx-deadline': '1 2 3' })).toBeUndefined()
  })
  it('round-trips through the header text (property)', () => {
    const ms = fc.integer({ min: 0, max: 4_102_444_800_000 })
    fc.assert(
      fc.property(ms, ms, (timestamp, deadline) => {
        const d = new Deadline(timestamp, deadline)
        expect(readDeadlineHeaders({ 'l5d-ctx-deadline': d.show() })?.equals(d)).toBe(true)
      }),
    )
  })
})

describe('runWithContext', () => {
  it('nests: dtabs append, the stricter deadline wins, and it ends with the call', async () => {
    expect(currentContext().dtab.isEmpty).toBe(true)
    const seen = await runWithContext({ dtab: Dtab.read('/a=>/b'), deadline: new Deadline(1, 100) }, () =>
      runWithContext({ dtab: Dtab.read('/c=>/d'), deadline: new Deadline(2, 200) }, async () => {
        await new Promise((r) => setTimeout(r, 1))
        return currentContext()
      }),
    )
    expect(seen.dtab.show()).toBe('/a=>/b;/c=>/d')
    expect(seen.deadline?.equals(new Deadline(2, 100))).toBe(true)
    expect(currentContext().dtab.isEmpty).toBe(true)
  })
})

describe('error responses', () => {
  it('encodes l5d-err as Java URLEncoder does', () => {
    expect(encodeL5dErr('Unknown destination: Request("GET /") / Host header is absent')).toBe(
      'Unknown+destination%3A+Request%28%22GET+%2F%22%29+%2F+Host+header+is+absent',
    )
    expect(encodeL5dErr('a.b-c*d_e~é€')).toBe('a.b-c*d_e%7E%E9%3F')
  })
  it('answers 400 for unidentified requests and bad dtabs, 502 otherwise', () => {
    const unidentified = l5dErrorResponse(
      new UnidentifiedError({ method: 'GET', path: '/' }, 'Host header is absent'),
    )
    expect(unidentified.status).toBe(400)
    expect(unidentified.body).toBe('Unknown destination: Request("GET /") / Host header is absent')
    expect(unidentified.headers[L5dHeaders.retryable]).toBeUndefined()
    expect(
      l5dErrorResponse(new ParseError({ input: 'x', offset: 0, expected: "'/'", found: "'x'" })).status,
    ).toBe(400)
    const refused = l5dErrorResponse(new ConnectionFailedError('127.0.0.1:1', new Error('ECONNREFUSED')))
    expect(refused.status).toBe(502)
    expect(refused.headers[L5dHeaders.retryable]).toBe('true')
    expect(refused.headers[L5dHeaders.err]).toBe(encodeL5dErr(refused.body))
  })
})

describe('withL5dContext', () => {
  it('runs the handler in the request context and answers 400 for a bad dtab', async () => {
    const s = await startServer(
      withL5dContext((_req, res) => {
        const ctx = currentContext()
        res.end(JSON.stringify({ dtab: ctx.dtab.show(), deadline: ctx.deadline?.show() ?? null }))
      }),
    )
    servers.push(s)
    const url = `http://127.0.0.1:${s.port}/`
    const ok = await request(url, {
      headers: { 'l5d-ctx-dtab': '/a=>/b', 'l5d-dtab': '/c=>/d', 'l5d-ctx-deadline': '1000000 3000000' },
    })
    expect(await ok.body.json()).toEqual({ dtab: '/a=>/b;/c=>/d', deadline: '1000000 3000000' })
    const bad = await request(url, { headers: { 'l5d-dtab': '/a=>' } })
    expect(bad.statusCode).toBe(400)
    const message = await bad.body.text()
    const parsed = Dtab.parse('/a=>')
    expect(parsed._tag === 'Left' && parsed.left.message).toBe(message)
    expect(bad.headers['l5d-err']).toBe(encodeL5dErr(message))
  })
})
