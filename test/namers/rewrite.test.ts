import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { decodeConfig } from '../../src/config/decode.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { rewriteNamer } from '../../src/namers/rewrite.js'
import {
  Dtab,
  defaultInterpreter,
  InvalidPathPatternError,
  NamerRegistry,
  NameTree,
  ParseError,
  Path,
} from '../../src/naming/index.js'

const lookupText = (namer: ReturnType<typeof rewriteNamer>, path: string) => {
  const s = namer.lookup(Path.read(path)).state()
  return s.kind === 'ok' ? NameTree.show(s.value) : s.kind
}

describe('io.l5d.rewrite', () => {
  const namer = rewriteNamer({ pattern: '/{service}/api', name: '/srv/{service}' })

  it('gives the name with the captures substituted, dropping the unmatched rest of the path', () => {
    expect(lookupText(namer, '/users/api')).toBe('/srv/users')
    expect(lookupText(namer, '/users/api/v1/x')).toBe('/srv/users')
  })

  it('gives Neg when the pattern does not match (shorter path, other literal)', () => {
    expect(lookupText(namer, '/users')).toBe('~')
    expect(lookupText(namer, '/users/web')).toBe('~')
    expect(lookupText(namer, '/')).toBe('~')
  })

  it('matches * as any one label and captures greedily inside a label', () => {
    const n = rewriteNamer({ pattern: '/*/{a}-{b}', name: '/x/{b}/{a}' })
    expect(lookupText(n, '/any/foo-bar-baz/rest')).toBe('/x/baz/foo-bar')
  })

  it('keeps a captured value as the same bytes, whatever characters it holds', () => {
    const s = namer.lookup(Path.read('/a\\x20b/api')).state()
    expect(s.kind === 'ok' && s.value.kind === 'leaf' && s.value.value.kind === 'path').toBe(true)
    if (s.kind === 'ok' && s.value.kind === 'leaf' && s.value.value.kind === 'path') {
      expect(s.value.value.path.equals(Path.of('srv', 'a b'))).toBe(true)
    }
  })

  it('fails the lookup with the ParseError when an empty capture leaves an empty label', () => {
    const n = rewriteNamer({ pattern: '/x{a}', name: '/y/{a}' })
    const s = n.lookup(Path.read('/x')).state()
    expect(s.kind).toBe('failed')
    expect(s.kind === 'failed' && s.error).toBeInstanceOf(ParseError)
  })

  it('refuses, at configuration time, a name that uses an uncaptured variable or is not a path', () => {
    expect(() => rewriteNamer({ pattern: '/{a}', name: '/x/{b}' })).toThrow(InvalidPathPatternError)
    expect(() => rewriteNamer({ pattern: '/{a}', name: 'x/{a}' })).toThrow(InvalidPathPatternError)
    expect(() => rewriteNamer({ pattern: '/{a}', name: '/x//{a}' })).toThrow(InvalidPathPatternError)
  })

  it('binds through the dtab: the rewritten path is looked up again', () => {
    const namers = NamerRegistry.create().mount('/#/io.l5d.rewrite', namer)
    const tree = defaultInterpreter({ namers })
      .bind(Dtab.read('/svc => /#/io.l5d.rewrite; /srv => /$/inet/127.0.0.1'), Path.read('/svc/8080/api'))
      .sample()
    expect(NameTree.show(tree)).toBe('/$/inet/127.0.0.1/8080')
  })
})

describe('io.l5d.rewrite in namerd configuration', () => {
  const decode = (namers: unknown) =>
    decodeConfig(namerdConfigCodec(), {
      storage: { kind: 'io.l5d.inMemory' },
      interfaces: [{ kind: 'io.l5d.httpController' }],
      namers,
    })

  it('mounts at /#/<prefix>', () => {
    const r = decode([{ kind: 'io.l5d.rewrite', prefix: '/rw', pattern: '/{s}', name: '/srv/{s}' }])
    if (!isRight(r)) throw r.left
    expect(r.right.namers.map((n) => n.prefix.show())).toEqual(['/#/rw'])
  })

  it('requires prefix, pattern and name (the prefix has no default)', () => {
    const r = decode([{ kind: 'io.l5d.rewrite' }])
    if (!isLeft(r)) throw new Error('expected a ConfigError')
    const fields = r.left.problems.map((p) => p.path)
    expect(fields).toEqual(['namers[0].prefix', 'namers[0].pattern', 'namers[0].name'])
  })

  it('reports a bad name template', () => {
    const r = decode([{ kind: 'io.l5d.rewrite', prefix: 'rw', pattern: '/{s}', name: '/srv/{t}' }])
    if (!isLeft(r)) throw new Error('expected a ConfigError')
    expect(r.left.message).toContain('{t} is not captured by /{s}')
  })
})
