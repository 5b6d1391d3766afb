import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { InvalidLabelError, ParseError, Path } from '../../src/naming/index.js'

function parseMessage(text: string): string {
  try {
    Path.read(text)
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError)
    return (e as ParseError).message
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`)
}

describe('Path', () => {
  it('reads labels and shows them back', () => {
    const p = Path.read('/foo/bar')
    expect(p.segments).toEqual(['foo', 'bar'])
    expect(p.show()).toBe('/foo/bar')
    expect(p.toString()).toBe('Path(foo,bar)')
    expect(p.size).toBe(2)
  })

  it('/ is the empty path', () => {
    expect(Path.read('/')).toBe(Path.empty)
    expect(Path.empty.show()).toBe('/')
    expect(Path.empty.toString()).toBe('Path()')
    expect(Path.empty.isEmpty).toBe(true)
    expect(Path.of()).toBe(Path.empty)
  })

  it('accepts every showable character literally', () => {
    const all = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_:.#$%-'
    expect(Path.read(`/${all}`).segments).toEqual([all])
    expect(Path.of(all).show()).toBe(`/${all}`)
  })

  it('reads \\x escapes with hex digits of either case (surprise 3)', () => {
    expect(Path.read('/\\x66\\x6f\\x6F').equals(Path.of('foo'))).toBe(true)
    expect(Path.read('/\\xc3\\xa9').segments).toEqual(['é'])
    expect(Path.read('/a\\x2fb').segments).toEqual(['a/b'])
  })

  it('escapes every byte of a label that has any unshowable byte, in lowercase hex (surprise 3)', () => {
    expect(Path.of('a b').show()).toBe('/\\x61\\x20\\x62')
    expect(Path.of('é').show()).toBe('/\\xc3\\xa9')
    for (const c of ['*', '~', '!', '@', '+', '=', ',', '(', ')', '\\', '/', ' ']) {
      const hex = c.charCodeAt(0).toString(16).padStart(2, '0')
      expect(Path.of(c).show()).toBe(`/\\x${hex}`)
    }
    expect(Path.of('ok', 'n*o').show()).toBe('/ok/\\x6e\\x2a\\x6f')
  })

  it('keeps bytes that are not UTF-8 through read and show', () => {
    const p = Path.read('/\\xff\\xfe')
    expect(p.show()).toBe('/\\xff\\xfe')
    expect(Path.read(p.show()).equals(p)).toBe(true)
    expect(Path.read('/\\x00').show()).toBe('/\\x00')
  })

  it('maps bytes that are not UTF-8 to U+DC80..U+DCFF and back', () => {
    expect(Path.read('/\\xff').segments).toEqual(['\udcff'])
    expect(Path.read('/a\\xc3').segments).toEqual(['a\udcc3'])
    expect(Path.read('/\\xed\\xa0\\x80').segments).toEqual(['\udced\udca0\udc80']) // an encoded surrogate is not UTF-8
    expect(Path.read('/\\xc0\\xaf').segments).toEqual(['\udcc0\udcaf']) // nor is an overlong '/'
    expect(Path.read('/\\xf0\\x9f\\x98\\x80').segments).toEqual(['\u{1f600}'])
    expect(Path.of('\u{1f600}').show()).toBe('/\\xf0\\x9f\\x98\\x80')
  })

  it('canonicalises labels built in code, so equal bytes mean equal paths', () => {
    expect(Path.of('\udcc3\udca9').equals(Path.of('é'))).toBe(true)
    expect(Path.of('\ud800').segments).toEqual(['\ufffd'])
    expect(Path.of('\ud800').show()).toBe('/\\xef\\xbf\\xbd')
    expect(Path.from(['a', 'b']).equals(Path.read('/a/b'))).toBe(true)
    expect(Path.from(new Set(['a'])).show()).toBe('/a')
  })

  it('rejects an empty label built in code', () => {
    expect(() => Path.of('a', '')).toThrow(InvalidLabelError)
    expect(() => Path.of('')).toThrow('requirement failed')
  })

  it('take, drop, startsWith and concat work on whole labels', () => {
    const p = Path.read('/a/b/c')
    expect(p.take(2).show()).toBe('/a/b')
    expect(p.take(9)).toBe(p)
    expect(p.take(-1)).toBe(Path.empty)
    expect(p.drop(1).show()).toBe('/b/c')
    expect(p.drop(5)).toBe(Path.empty)
    expect(p.drop(0)).toBe(p)
    expect(p.startsWith(Path.read('/a/b'))).toBe(true)
    expect(p.startsWith(Path.empty)).toBe(true)
    expect(Path.read('/ab').startsWith(Path.read('/a'))).toBe(false)
    expect(Path.read('/a').startsWith(p)).toBe(false)
    expect(p.concat(Path.empty)).toBe(p)
    expect(Path.empty.concat(p)).toBe(p)
    expect(Path.read('/a').concat(Path.read('/b/c')).equals(p)).toBe(true)
  })

  it('equality is label by label and case-sensitive', () => {
    expect(Path.read('/a/b').equals(Path.of('a', 'b'))).toBe(true)
    expect(Path.read('/a/b').equals(Path.read('/a/B'))).toBe(false)
    expect(Path.read('/a/b').equals(Path.read('/a'))).toBe(false)
  })

  it('allows whitespace and comments around the path, never inside', () => {
    expect(Path.read('  /a/b \n\t').show()).toBe('/a/b')
    expect(Path.read('/a # a comment').show()).toBe('/a')
    expect(parseMessage('/ foo')).toBe("end of input expected but 'f' found at '/ [f]oo'")
    expect(parseMessage('/a /b')).toBe("end of input expected but '/' found at '/a [/]b'")
  })

  it('reports parse errors in Finagle form', () => {
    expect(parseMessage('/foo^bar')).toBe("end of input expected but '^' found at '/foo[^]bar'")
    expect(parseMessage('/foo/bar/')).toBe("label char expected but end of input found at '/foo/bar/[]'")
    expect(parseMessage('invalid')).toBe("'/' expected but 'i' found at '[i]nvalid'")
    expect(parseMessage('')).toBe("'/' expected but end of input found at '[]'")
    expect(parseMessage('//')).toBe("end of input expected but '/' found at '/[/]'")
    expect(parseMessage('/a//b')).toBe("label char expected but '/' found at '/a/[/]b'")
    expect(parseMessage('/{}')).toBe("end of input expected but '{' found at '/[{]}'")
    expect(parseMessage('/a\\y')).toBe("'x' expected but 'y' found at '/a\\[y]'")
    expect(parseMessage('/a\\x4g')).toBe("hex char expected but 'g' found at '/a\\x4[g]'")
    expect(parseMessage('/a\\X41')).toBe("'x' expected but 'X' found at '/a\\[X]41'")
    expect(parseMessage('/é')).toBe("end of input expected but 'é' found at '/[é]'")
  })

  it('parse returns Either', () => {
    const ok = Path.parse('/a')
    expect(isRight(ok) && ok.right.show()).toBe('/a')
    const bad = Path.parse('a')
    expect(isLeft(bad) && bad.left).toBeInstanceOf(ParseError)
    expect(isLeft(bad) && bad.left.offset).toBe(0)
    expect(isLeft(bad) && bad.left.code).toBe('ParseError')
  })
})
