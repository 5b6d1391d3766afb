import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Path } from '../../src/naming/path.js'
import { InvalidPathPatternError, PathMatcher } from '../../src/naming/path-matcher.js'

const m = (pattern: string, path: string) => PathMatcher.read(pattern).match(Path.read(path))

describe('PathMatcher', () => {
  it('matches prefixes segment by segment', () => {
    expect(m('/svc', '/svc/users')).toEqual({})
    expect(m('/svc/users', '/svc/users')).toEqual({})
    expect(m('/svc/users', '/svc')).toBeUndefined()
    expect(m('/svc/users', '/svc/usersx')).toBeUndefined()
    expect(m('/', '/anything/at/all')).toEqual({})
    expect(m('/', '/')).toEqual({})
  })
  it('* matches any one segment', () => {
    expect(m('/#/*/users', '/#/io.l5d.fs/users')).toEqual({})
    expect(m('/#/*/users', '/#/io.l5d.fs/web')).toBeUndefined()
  })
  it('captures variables, greedily, searched within the segment', () => {
    expect(m('/#/io.l5d.fs/{service}', '/#/io.l5d.fs/users/v2')).toEqual({ service: 'users' })
    expect(m('/svc/{A}-{B}', '/svc/foo-bar-baz')).toEqual({ A: 'foo-bar', B: 'baz' })
    expect(m('/svc/{A}-{B}', '/svc/foobar')).toBeUndefined()
    expect(m('/svc/v{n}', '/svc/xv2')).toEqual({ n: '2' })
    expect(m('/$/inet/{ip}/{port}', '/$/inet/127.0.0.1/8080')).toEqual({ ip: '127.0.0.1', port: '8080' })
  })
  it('treats regex characters outside captures literally', () => {
    expect(m('/svc/{a}.b', '/svc/xyb')).toBeUndefined()
    expect(m('/svc/{a}.b', '/svc/x.b')).toEqual({ a: 'x' })
  })
  it('substitutes variables into templates', () => {
    expect(PathMatcher.substitute('{service}.{zone}.internal', { service: 'users', zone: 'eu' })).toBe(
      'users.eu.internal',
    )
    expect(PathMatcher.substitute('{missing}', {})).toBe('{missing}')
  })
  it('ignores trailing slashes in a pattern, as linkerd does', () => {
    expect(PathMatcher.read('/svc/').match(Path.read('/svc/users'))).toEqual({})
    expect(PathMatcher.read('/svc/{name}//').match(Path.read('/svc/users'))).toEqual({ name: 'users' })
    expect(PathMatcher.read('/svc/').matches(Path.read('/other'))).toBe(false)
  })
  it('rejects malformed patterns, naming the problem', () => {
    for (const bad of ['svc', '//a', '/a//b', '/svc/{', '/svc/{}', '/svc/a}', '/svc/{a b}']) {
      expect(() => PathMatcher.read(bad)).toThrow(InvalidPathPatternError)
    }
  })
  it('a literal pattern matches exactly the paths it prefixes (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9.:_-]{1,5}$/)
    fc.assert(
      fc.property(fc.array(label, { maxLength: 4 }), fc.array(label, { maxLength: 4 }), (pat, path) => {
        const matcher = PathMatcher.read(`/${pat.join('/')}`)
        expect(matcher.matches(Path.from(path))).toBe(Path.from(path).startsWith(Path.from(pat)))
        expect(PathMatcher.read(matcher.show()).matches(Path.from(path))).toBe(
          matcher.matches(Path.from(path)),
        )
      }),
    )
  })
})
