import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../src/core/errors.js'
import {
  header,
  headerToken,
  type Identification,
  Identified,
  type Identifier,
  identifiers,
  identify,
  methodAndHost,
  path,
  staticIdentifier,
  Unidentified,
  UnidentifiedError,
} from '../../src/http/identifiers.js'
import type { HttpHeaders, HttpRequest } from '../../src/http/request.js'
import { ParseError } from '../../src/naming/parse-error.js'
import { Path } from '../../src/naming/path.js'

function req(over: Partial<HttpRequest> & { headers?: HttpHeaders } = {}): HttpRequest {
  return { method: 'GET', path: '/', version: '1.1', headers: { host: 'users' }, body: null, ...over }
}

function shown(id: Identification): string {
  if (id instanceof Path) return id.show()
  if (id.kind === 'identified') return id.dst.show()
  return `unidentified: ${id.reason}`
}

describe('headerToken (io.l5d.header.token)', () => {
  it('names by the raw Host as one segment, case and port kept', () => {
    expect(shown(headerToken()(req({ headers: { host: 'Users:8080' } })))).toBe('/svc/Users:8080')
  })
  it('is unidentified when the header is missing or empty', () => {
    expect(shown(headerToken()(req({ headers: {} })))).toBe('unidentified: Host header is absent')
    expect(shown(headerToken()(req({ headers: { host: '' } })))).toBe('unidentified: Host header is absent')
    expect(shown(headerToken({ header: 'X-Svc' })(req({ headers: {} })))).toBe(
      'unidentified: X-Svc header is absent',
    )
  })
  it('reads another header and prefix', () => {
    const id = headerToken({ header: 'X-Svc', prefix: '/http' })
    expect(shown(id(req({ headers: { 'x-svc': 'a/b' } })))).toBe('/http/\\x61\\x2f\\x62')
  })
  it('keeps any value as exactly one label (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (value) => {
        const p = headerToken()(req({ headers: { host: value } })) as Path
        expect(p.size).toBe(2)
        expect(p.take(1).show()).toBe('/svc')
        expect(p.equals(Path.of('svc', value))).toBe(true)
        // the text form reads back to the same name
        expect(Path.read(p.show()).equals(p)).toBe(true)
      }),
    )
  })
})

describe('header (io.l5d.header)', () => {
  it('reads the l5d-name header as a path', () => {
    expect(shown(header()(req({ headers: { 'l5d-name': '/users/v2' } })))).toBe('/svc/users/v2')
  })
  it('is unidentified when missing or empty', () => {
    expect(shown(header()(req({ headers: {} })))).toBe('unidentified: l5d-name header is absent')
    expect(shown(header()(req({ headers: { 'l5d-name': '' } })))).toBe(
      'unidentified: l5d-name header is absent',
    )
  })
  it('throws the parse error for a value that is not a path', () => {
    expect(() => header()(req({ headers: { 'l5d-name': 'users' } }))).toThrow(ParseError)
  })
})

describe('methodAndHost (io.l5d.methodAndHost)', () => {
  it('names HTTP/1.1 by version, method and lower-cased host, port kept', () => {
    expect(shown(methodAndHost()(req({ method: 'POST', headers: { host: 'Users:8080' } })))).toBe(
      '/svc/1.1/POST/users:8080',
    )
  })
  it('names HTTP/1.0 without a host', () => {
    expect(shown(methodAndHost()(req({ version: '1.0', headers: { host: 'users' } })))).toBe('/svc/1.0/GET')
  })
  it('is unidentified for HTTP/1.1 without a host, and for other versions', () => {
    expect(shown(methodAndHost()(req({ headers: {} })))).toBe(
      'unidentified: HTTP/1.1 request missing hostname',
    )
    expect(shown(methodAndHost()(req({ headers: { host: '' } })))).toBe(
      'unidentified: HTTP/1.1 request missing hostname',
    )
    expect(shown(methodAndHost()(req({ version: '2' })))).toBe('unidentified: Unknown HTTP version HTTP/2')
  })
  it('appends the URI path with httpUriInDst, query excluded', () => {
    const id = methodAndHost({ httpUriInDst: true })
    expect(shown(id(req({ path: '/api/42?x=1' })))).toBe('/svc/1.1/GET/users/api/42')
    expect(shown(id(req({ path: '/' })))).toBe('/svc/1.1/GET/users')
    expect(shown(id(req({ version: '1.0', path: '/a' })))).toBe('/svc/1.0/GET/a')
  })
  it('fails for a URI with a trailing slash or characters outside the path alphabet', () => {
    const id = methodAndHost({ httpUriInDst: true })
    expect(() => id(req({ path: '/api/' }))).toThrow(ParseError)
    expect(() => id(req({ path: '/a b' }))).toThrow(ParseError)
  })
})

describe('path (io.l5d.path)', () => {
  it('names by the first segments', () => {
    expect(shown(path()(req({ path: '/users/42' })))).toBe('/svc/users')
    expect(shown(path({ segments: 2 })(req({ path: '/api/users/42?x' })))).toBe('/svc/api/users')
  })
  it('ignores trailing empty pieces and is unidentified when too short', () => {
    expect(shown(path({ segments: 2 })(req({ path: '/users//' })))).toBe(
      'unidentified: not enough segments in path',
    )
    expect(shown(path()(req({ path: '/' })))).toBe('unidentified: not enough segments in path')
    expect(shown(path()(req({ path: '/users/' })))).toBe('/svc/users')
  })
  it('consumes the segments, keeping a trailing slash and the query', () => {
    const id = path({ segments: 1, consume: true })
    const sent = (p: string) => {
      const out = id(req({ path: p }))
      if (out instanceof Path || out.kind !== 'identified') throw new Error('expected identified')
      return out.request?.path
    }
    expect(sent('/users/42')).toBe('/42')
    expect(sent('/users/42/')).toBe('/42/')
    expect(sent('/users/42?full=1')).toBe('/42?full=1')
    expect(sent('/users')).toBe('/')
    expect(sent('/users/')).toBe('/')
    expect(sent('/users?x=1')).toBe('/?x=1')
  })
  it('consume splits a path into name and rest (property)', () => {
    const seg = fc.stringMatching(/^[a-z0-9]{1,6}$/)
    fc.assert(
      fc.property(
        fc.array(seg, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        (segs, n) => {
          fc.pre(n <= segs.length)
          const out = path({ segments: n, consume: true })(req({ path: `/${segs.join('/')}` }))
          if (out instanceof Path || out.kind !== 'identified') throw new Error('expected identified')
          expect(out.dst.segments).toEqual(['svc', ...segs.slice(0, n)])
          expect(out.request?.path).toBe(`/${segs.slice(n).join('/')}`)
        },
      ),
    )
  })
  it('rejects a segment count below 1', () => {
    expect(() => path({ segments: 0 })).toThrow(InvalidOptionError)
  })
})

describe('static (io.l5d.static)', () => {
  it('names every request the same', () => {
    expect(shown(staticIdentifier({ path: '/users' })(req()))).toBe('/svc/users')
    expect(shown(identifiers.static({ path: '/users', prefix: '/' })(req()))).toBe('/users')
  })
  it('rejects a path that does not parse', () => {
    expect(() => staticIdentifier({ path: 'users' })).toThrow(InvalidOptionError)
  })
})

describe('identify', () => {
  const never: Identifier = () => Unidentified.of('first says no')
  it('tries identifiers in order; the first that names the request wins', () => {
    const out = identify([never, headerToken()], req())
    expect(out.dst.show()).toBe('/svc/users')
  })
  it('accepts a bare Path and an Identified with a new request', () => {
    const moved = req({ path: '/moved' })
    expect(identify([() => Path.read('/a')], req()).dst.show()).toBe('/a')
    expect(identify([() => Identified.of(Path.read('/b'), moved)], req()).request).toBe(moved)
  })
  it('fails with the last reason when nobody names it', () => {
    const e = (() => {
      try {
        identify([headerToken(), never], req({ method: 'PUT', path: '/x?y', headers: {} }))
      } catch (error) {
        return error
      }
      return undefined
    })()
    expect(e).toBeInstanceOf(UnidentifiedError)
    expect((e as UnidentifiedError).reason).toBe('first says no')
    expect((e as UnidentifiedError).message).toBe('Unknown destination: Request("PUT /x?y") / first says no')
    expect((e as UnidentifiedError).code).toBe('Unidentified')
    expect((e as UnidentifiedError).status).toBe(400)
  })
  it('stops the chain at an identifier that throws', () => {
    let tried = false
    const later: Identifier = () => {
      tried = true
      return Path.read('/x')
    }
    expect(() => identify([header(), later], req({ headers: { 'l5d-name': 'bad' } }))).toThrow(
      UnidentifiedError,
    )
    expect(tried).toBe(false)
  })
})
