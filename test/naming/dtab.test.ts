import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { Dentry, Dtab, NameTree, ParseError, Path, Prefix } from '../../src/naming/index.js'

const lookup = (dtab: string, path: string) => NameTree.show(Dtab.read(dtab).lookup(Path.read(path)))

describe('Dtab text forms', () => {
  it('show joins dentries with ; and no spaces, no trailing ;', () => {
    expect(Dtab.read('/a => /b;\n/c => /d;').show()).toBe('/a=>/b;/c=>/d')
    expect(Dtab.read('/yeezy=>/yeezus').show()).toBe('/yeezy=>/yeezus')
    expect(Dtab.empty.show()).toBe('')
    expect(Dtab.fail.show()).toBe('/=>!')
  })

  it('toString, print and pretty', () => {
    const d = Dtab.read('/foo=>/bar;/foo/bar/baz=>/bah | ~')
    expect(d.toString()).toBe('Dtab(/foo=>/bar;/foo/bar/baz=>/bah | ~)')
    expect(d.print()).toBe('Dtab(2)\n\t/foo => /bar\n\t/foo/bar/baz => /bah | ~\n')
    expect(d.pretty()).toBe('/foo          => /bar ;\n/foo/bar/baz  => /bah | ~ ;\n')
    expect(Dtab.read(d.pretty()).equals(d)).toBe(true)
    expect(Dtab.empty.pretty()).toBe('')
    expect(Dtab.empty.print()).toBe('Dtab(0)\n')
  })

  it('parse returns Either', () => {
    const ok = Dtab.parse('/a=>/b')
    expect(isRight(ok) && ok.right.size).toBe(1)
    const bad = Dtab.parse('/a=>/b;;')
    expect(isLeft(bad) && bad.left).toBeInstanceOf(ParseError)
  })
})

describe('Dtab values', () => {
  const ab = Dtab.read('/a=>/b')
  const cd = Dtab.read('/c=>/d')

  it('append adds one entry; concat appends in order, keeps duplicates, returns this for empty', () => {
    expect(ab.append(Dentry.read('/a=>/c')).show()).toBe('/a=>/b;/a=>/c')
    expect(ab.concat(cd).show()).toBe('/a=>/b;/c=>/d')
    expect(ab.concat(ab).show()).toBe('/a=>/b;/a=>/b')
    expect(ab.concat(Dtab.empty)).toBe(ab)
    expect(Dtab.empty.concat(ab)).toBe(ab)
    expect(ab.size).toBe(1)
  })

  it('is iterable and has size', () => {
    const d = ab.concat(cd)
    expect([...d].map((e) => e.show())).toEqual(['/a=>/b', '/c=>/d'])
    expect(d.size).toBe(2)
    expect(d.isEmpty).toBe(false)
    expect(Dtab.of()).toBe(Dtab.empty)
  })

  it('equality is structural, equiv compares simplified dsts pairwise', () => {
    expect(Dtab.read('/a => /b').equals(ab)).toBe(true)
    expect(Dtab.read('/a=>/b | ~').equals(ab)).toBe(false)
    expect(Dtab.read('/a=>/b | ~').equiv(ab)).toBe(true)
    expect(ab.concat(cd).equals(cd.concat(ab))).toBe(false)
    expect(ab.equiv(ab.concat(cd))).toBe(false)
  })

  it('simplified simplifies every dst and drops the ones that become ~', () => {
    expect(Dtab.read('/a=>~ | ~;/b=>/c | ~;/d=>! & !').simplified().show()).toBe('/b=>/c')
  })
})

describe('Dtab.stripPrefix (surprise 15)', () => {
  const d = Dtab.read('/a=>/b;/c=>/d')

  it('returns the empty dtab for itself and the rest after a structurally equal prefix', () => {
    expect(d.stripPrefix(d)).toBe(Dtab.empty)
    expect(d.stripPrefix(Dtab.read('/a=>/b;/c=>/d')).isEmpty).toBe(true)
    expect(d.stripPrefix(Dtab.read('/a => /b')).show()).toBe('/c=>/d')
    expect(d.stripPrefix(Dtab.empty).show()).toBe(d.show())
  })

  it('returns this when empty, shorter, or on a mismatch (equivalent is not equal)', () => {
    expect(Dtab.empty.stripPrefix(d)).toBe(Dtab.empty)
    expect(Dtab.read('/a=>/b').stripPrefix(d).show()).toBe('/a=>/b')
    expect(d.stripPrefix(Dtab.read('/a=>/b | ~'))).toBe(d)
    expect(d.stripPrefix(Dtab.read('/c=>/d'))).toBe(d)
  })
})

describe('Dtab.lookup (surprise 5)', () => {
  it('gives ~ when nothing matches and the tree itself for one match', () => {
    expect(Dtab.empty.lookup(Path.read('/a'))).toBe(NameTree.Neg)
    expect(lookup('/a=>/b', '/c')).toBe('~')
    expect(lookup('/a=>/b', '/a/c/d')).toBe('/b/c/d')
    expect(lookup('/a=>/b', '/a')).toBe('/b')
  })

  it('tries the last entry first and keeps nested Alts', () => {
    expect(lookup('/a=>/z;/a=>/x | /y', '/a')).toBe('(/x | /y) | /z')
    expect(lookup('/foo/bar=>/xxx;/foo=>/yyy', '/foo/bar/baz')).toBe('/yyy/bar/baz | /xxx/baz')
    expect(lookup('/foo=>/yyy;/foo/bar=>/xxx', '/foo/bar/baz')).toBe('/xxx/baz | /yyy/bar/baz')
  })

  it('keeps duplicates and ~ destinations', () => {
    expect(lookup('/a=>/b;/a=>/b', '/a/c')).toBe('/b/c | /b/c')
    expect(lookup('/a=>/b;/a=>~', '/a')).toBe('~ | /b')
    expect(Dtab.read('/a=>~').lookup(Path.read('/a'))).toBe(NameTree.Neg)
  })

  it('appends the suffix to every leaf, keeping weights', () => {
    expect(lookup('/svc=>1*/canary & 9*/stable | !', '/svc/users')).toBe(
      '/canary/users & 9.00*/stable/users | !',
    )
    expect(lookup('/a=>/', '/a/b')).toBe('/b')
  })

  it('a wildcard consumes one label and is never substituted', () => {
    expect(lookup('/a/*/c => /d', '/a/b/c/e/f')).toBe('/d/e/f')
    expect(lookup('/*=>/x', '/')).toBe('~')
    expect(lookup('/*=>/x', '/y/z')).toBe('/x/z')
    expect(lookup('/srv/*/users=>/users-v2', '/srv/eu/users/42')).toBe('/users-v2/42')
  })

  it('the empty prefix matches every path', () => {
    expect(lookup('/=>/$/inet/1', '/x/y')).toBe('/$/inet/1/x/y')
    expect(lookup('/=>!', '/$/inet/1234')).toBe('!')
  })

  it('matches prefixes built in code', () => {
    const dtab = Dtab.of(new Dentry(Prefix.of('s', Prefix.any), NameTree.read('/t')))
    expect(NameTree.show(dtab.lookup(Path.of('s', 'x', 'y')))).toBe('/t/y')
  })
})
