import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { Dentry, InvalidLabelError, NameTree, ParseError, Path, Prefix } from '../../src/naming/index.js'

describe('Prefix', () => {
  it('reads labels and wildcards, shows them back', () => {
    const p = Prefix.read('/svc/*/users')
    expect(p.size).toBe(3)
    expect(p.show()).toBe('/svc/*/users')
    expect(p.toString()).toBe('Prefix(svc,*,users)')
    expect(Prefix.read('/')).toBe(Prefix.empty)
    expect(Prefix.empty.show()).toBe('/')
    expect(Prefix.empty.toString()).toBe('Prefix()')
  })

  it('builds from labels and Prefix.any; a string * is a literal label', () => {
    expect(Prefix.of('a', Prefix.any, 'b').equals(Prefix.read('/a/*/b'))).toBe(true)
    expect(Prefix.of('*').show()).toBe('/\\x2a')
    expect(Prefix.of('*').equals(Prefix.read('/*'))).toBe(false)
    expect(Prefix.fromPath(Path.read('/a/b')).equals(Prefix.read('/a/b'))).toBe(true)
    expect(Prefix.fromPath(Path.empty)).toBe(Prefix.empty)
    expect(() => Prefix.of('a', '')).toThrow(InvalidLabelError)
  })

  it('matches whole labels byte for byte, * matching any one label', () => {
    const p = Prefix.read('/a/*/c')
    expect(p.matches(Path.read('/a/b/c'))).toBe(true)
    expect(p.matches(Path.read('/a/x/c/d/e'))).toBe(true)
    expect(p.matches(Path.read('/a/b'))).toBe(false)
    expect(p.matches(Path.read('/a/b/C'))).toBe(false)
    expect(Prefix.read('/foo').matches(Path.read('/foobar'))).toBe(false)
    expect(Prefix.read('/\\x66oo').matches(Path.read('/foo'))).toBe(true)
    expect(Prefix.read('/*').matches(Path.empty)).toBe(false)
  })

  it('the empty prefix matches every path, system paths included (surprise 5)', () => {
    for (const p of ['/', '/a', '/$/inet/127.1/8080', '/#/io.l5d.fs/x']) {
      expect(Prefix.empty.matches(Path.read(p))).toBe(true)
    }
  })

  it('parse returns Either', () => {
    expect(isRight(Prefix.parse('/a/*'))).toBe(true)
    const bad = Prefix.parse('/a*')
    expect(isLeft(bad) && bad.left).toBeInstanceOf(ParseError)
  })
})

describe('Dentry', () => {
  it('shows as prefix=>dst with no spaces around =>', () => {
    const d = Dentry.read('/svc  =>  /#/io.l5d.consul/dc1 | ~')
    expect(d.show()).toBe('/svc=>/#/io.l5d.consul/dc1 | ~')
    expect(d.toString()).toBe('Dentry(/svc=>/#/io.l5d.consul/dc1 | ~)')
    expect(Dentry.read('/=>!').show()).toBe('/=>!')
    expect(Dentry.read('/a/*=>1*/b & 3 * /c').show()).toBe('/a/*=>/b & 3.00*/c')
  })

  it('builds from a prefix and a tree', () => {
    const d = new Dentry(Prefix.read('/a'), NameTree.read('/b'))
    expect(d.equals(Dentry.read('/a=>/b'))).toBe(true)
    expect(d.prefix.show()).toBe('/a')
    expect(NameTree.show(d.dst)).toBe('/b')
  })

  it('nop is the label "/" pointing to ~, shown escaped', () => {
    expect(Dentry.nop.show()).toBe('/\\x2f=>~')
    expect(Dentry.nop.prefix.elems).toEqual([{ kind: 'label', label: '/' }])
    expect(Dentry.read(Dentry.nop.show()).equals(Dentry.nop)).toBe(true)
  })

  it('equals is structural, equiv compares simplified dsts', () => {
    expect(Dentry.read('/a => /b').equals(Dentry.read('/a=>/b'))).toBe(true)
    expect(Dentry.read('/a=>/b | ~').equals(Dentry.read('/a=>/b'))).toBe(false)
    expect(Dentry.read('/a=>/b | ~').equiv(Dentry.read('/a=>/b'))).toBe(true)
    expect(Dentry.read('/a=>/b').equiv(Dentry.read('/x=>/b'))).toBe(false)
  })

  it('parse returns Either', () => {
    expect(isRight(Dentry.parse('/a=>/b'))).toBe(true)
    const bad = Dentry.parse('/a=>')
    expect(isLeft(bad) && bad.left.message).toBe("simple expected but end of input found at '/a=>[]'")
  })
})
