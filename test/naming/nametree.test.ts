import { describe, expect, it } from 'vitest'
import { Addr, Name, NameTree, Path } from '../../src/naming/index.js'

const read = NameTree.read
const show = (t: NameTree<Path>) => NameTree.show(t)
const leaf = (s: string) => NameTree.leaf(Path.read(s))
const w = (weight: number, t: NameTree<Path>) => NameTree.weighted(weight, t)
const { alt, union, Neg, Fail, Empty } = NameTree

describe('NameTree.show', () => {
  it('prints leaves with their show, and ! ~ $', () => {
    expect(show(leaf('/a/b'))).toBe('/a/b')
    expect(show(NameTree.leaf(Path.of('a b')))).toBe('/\\x61\\x20\\x62')
    expect(show(Fail)).toBe('!')
    expect(show(Neg)).toBe('~')
    expect(show(Empty)).toBe('$')
  })

  it('separates with exactly one space around | and &, none around a weight *', () => {
    expect(show(read('/a|/b'))).toBe('/a | /b')
    expect(show(read('/a&/b'))).toBe('/a & /b')
    expect(show(read('2  *  /a & /b'))).toBe('2.00*/a & /b')
  })

  it('parenthesises exactly where precedence needs it', () => {
    // a Union inside an Alt: none
    expect(show(alt(union(w(1, leaf('/a')), w(1, leaf('/b'))), leaf('/c')))).toBe('/a & /b | /c')
    // an Alt inside a Union: yes
    expect(show(union(w(1, leaf('/a')), w(1, alt(leaf('/b'), leaf('/c')))))).toBe('/a & (/b | /c)')
    // an Alt inside an Alt: yes
    expect(show(alt(alt(leaf('/a'), leaf('/b')), leaf('/c')))).toBe('(/a | /b) | /c')
    // a Union inside a Union: yes, with its weight outside
    expect(show(union(w(2, union(w(1, leaf('/a')), w(1, leaf('/b')))), w(1, leaf('/c'))))).toBe(
      '2.00*(/a & /b) & /c',
    )
  })

  it('prints a one-child Alt or Union as its child, wherever it is', () => {
    expect(show(alt(leaf('/a')))).toBe('/a')
    expect(show(union(w(3, leaf('/a'))))).toBe('/a')
    expect(show(alt(alt(leaf('/a')), leaf('/b')))).toBe('/a | /b')
    expect(show(union(w(2, alt(leaf('/a'))), w(1, leaf('/b'))))).toBe('2.00*/a & /b')
    expect(show(union(w(1, union(w(5, alt(leaf('/a'), leaf('/b'))))), w(1, leaf('/c'))))).toBe(
      '(/a | /b) & /c',
    )
  })

  it('prints degenerate empty Alt and Union as Finagle does', () => {
    expect(show(alt())).toBe('')
    expect(show(union())).toBe('')
    expect(show(alt(alt(), leaf('/a')))).toBe('() | /a')
    expect(show(alt(union(), leaf('/a')))).toBe(' | /a')
    expect(show(union(w(1, alt()), w(1, union())))).toBe('() & ()')
  })

  it('formats weights like Java %.2f: HALF_UP from the shortest decimal (surprise 2)', () => {
    const cases: [number, string][] = [
      [2, '2.00*'],
      [0.5, '0.50*'],
      [0, '0.00*'],
      [1.005, '1.01*'],
      [2.675, '2.68*'],
      [0.125, '0.13*'],
      [0.005, '0.01*'],
      [0.001, '0.00*'],
      [9.995, '10.00*'],
      [99.999, '100.00*'],
      [1e-7, '0.00*'],
      [1.5e21, '1500000000000000000000.00*'],
      [123456.789, '123456.79*'],
      [Number.POSITIVE_INFINITY, 'Infinity*'],
    ]
    for (const [weight, prefix] of cases) {
      expect(show(union(w(weight, leaf('/a')), w(1, leaf('/b'))))).toBe(`${prefix}/a & /b`)
    }
  })

  it('leaves out exactly the weight 1.0, and only that', () => {
    expect(show(read('1 * /a & 1.0*/b & 1.00001*/c'))).toBe('/a & /b & 1.00*/c')
  })

  it('takes a leaf printer for other leaf types', () => {
    const t = NameTree.union(NameTree.weighted(1, NameTree.leaf(42)), NameTree.weighted(2, NameTree.leaf(7)))
    expect(NameTree.show(t)).toBe('42 & 2.00*7')
    expect(NameTree.show(t, (n) => `#${n}`)).toBe('#42 & 2.00*#7')
  })

  it('round-trips every shape the parser produces', () => {
    for (const text of [
      '/a',
      '~ | ! | $',
      '/a & /b | /c & /d',
      '(/a | /b) | /c',
      '/a | (/b | /c)',
      '2.00*(/a & /b) & /c',
      '/a & (/b | /c & 0.50*/d)',
      '/#/io.l5d.fs/\\x61\\x20 & 9.00*/$/inet/127.1/8080',
    ]) {
      expect(show(read(text))).toBe(text)
    }
  })
})

describe('NameTree.toDebugString', () => {
  it('prints Scala case-class forms with Java doubles', () => {
    expect(NameTree.toDebugString(read('/a | ~'))).toBe('Alt(Leaf(Path(a)),Neg)')
    expect(NameTree.toDebugString(read('/a & 2*/b & 0.00001*$'))).toBe(
      'Union(Weighted(1.0,Leaf(Path(a))),Weighted(2.0,Leaf(Path(b))),Weighted(1.0E-5,Empty))',
    )
    expect(NameTree.toDebugString(Fail)).toBe('Fail')
  })
})

describe('NameTree.map', () => {
  it('rewrites leaves and keeps structure and weights', () => {
    const t = read('/a & 2*(/b | ~) | !')
    const m = NameTree.map(t, (p) => p.concat(Path.read('/x')))
    expect(show(m)).toBe('/a/x & 2.00*(/b/x | ~) | !')
    expect(NameTree.map(Neg, (p: Path) => p)).toBe(Neg)
  })
})

describe('NameTree.simplify', () => {
  const simplified = (text: string) => show(NameTree.simplify(read(text)))

  it('follows the table of the spec', () => {
    expect(NameTree.simplify(alt())).toBe(Neg)
    expect(NameTree.simplify(union())).toBe(Neg)
    expect(show(NameTree.simplify(alt(leaf('/a'))))).toBe('/a')
    expect(show(NameTree.simplify(union(w(3, alt(leaf('/a'), Neg)))))).toBe('/a')
    // Union(W(_, t)) is simplify(t): a lone failed branch stays a Fail (found by the eval property)
    expect(NameTree.simplify(union(w(0, Fail)))).toBe(Fail)
    expect(NameTree.simplify(alt(union(w(0, Fail)), leaf('/a')))).toBe(Fail)
    expect(NameTree.eval(alt(union(w(0, Fail)), leaf('/a')))).toBeUndefined()
    expect(simplified('/a')).toBe('/a')
    expect(simplified('~')).toBe('~')
    expect(simplified('!')).toBe('!')
    expect(simplified('$')).toBe('$')
  })

  it('an Alt drops Neg, stops at Fail, keeps Empty and what follows a Leaf', () => {
    expect(simplified('~ | /ok | !')).toBe('/ok | !')
    expect(simplified('/a | ! | /b')).toBe('/a | !')
    expect(simplified('! | /b')).toBe('!')
    expect(simplified('~ | ~')).toBe('~')
    expect(simplified('$ | /a | /a')).toBe('$ | /a | /a')
    expect(simplified('~ | (~ | /a)')).toBe('/a')
  })

  it('a Union drops Fail and Neg, keeps Empty and the original weights', () => {
    expect(NameTree.simplify(read('! & ! & !'))).toBe(Neg)
    expect(simplified('2*/a & 3*! & 4*$')).toBe('2.00*/a & 4.00*$')
    expect(simplified('2*/a & ~')).toBe('/a')
    expect(simplified('(~|$|/foo) & (/bar|/blah) & ~ & /FOO')).toBe('($ | /foo) & (/bar | /blah) & /FOO')
  })

  it('never flattens, dedups or normalises', () => {
    expect(simplified('(/a | /b) | /a')).toBe('(/a | /b) | /a')
    expect(simplified('2*(/a & /a) & 2*/b')).toBe('2.00*(/a & /a) & 2.00*/b')
  })

  it('is idempotent and equiv is equality after simplify', () => {
    const t = read('~ | (2*/a & !) | $ | !')
    const once = NameTree.simplify(t)
    expect(NameTree.equals(NameTree.simplify(once), once)).toBe(true)
    expect(NameTree.equiv(read('/a | ~'), read('/a'))).toBe(true)
    expect(NameTree.equiv(read('/a | ~'), read('/b'))).toBe(false)
    expect(NameTree.equals(read('/a | ~'), read('/a'))).toBe(false)
  })
})

describe('NameTree.eval', () => {
  const evals = (text: string) => {
    const s = NameTree.eval(read(text))
    return s === undefined ? undefined : [...s].map((p) => p.show()).sort()
  }

  it('gives the set of leaves, or undefined for Neg and Fail', () => {
    const cases: [string, string[] | undefined][] = [
      ['~', undefined],
      ['!', undefined],
      ['$', []],
      ['/ok', ['/ok']],
      ['~ | /ok', ['/ok']],
      ['! | /ok', undefined],
      ['/ok | !', ['/ok']],
      ['~ | ~', undefined],
      ['/ok & !', ['/ok']],
      ['/a & /b', ['/a', '/b']],
      ['~ | $ | /blah', []],
      ['$ & $ & $', []],
      ['$ | /a', []],
      ['~ & $', []],
      ['~ & ! & ~', undefined],
      ['/a & (~ | /b) & (! | /c)', ['/a', '/b']],
      ['/a & /a', ['/a']],
    ]
    for (const [text, expected] of cases) {
      expect(evals(text), text).toEqual(expected)
      expect(NameTree.eval(NameTree.simplify(read(text))) === undefined, text).toBe(expected === undefined)
    }
  })

  it('counts equal names once: a Name.Bound by its id alone, a Name.Path by its path (surprise 12)', () => {
    const wn = (weight: number, t: NameTree<Name>) => NameTree.weighted(weight, t)
    const bound = (id: string, residual: string, addr: Addr): NameTree<Name> =>
      NameTree.leaf(Name.bound(Path.read(id), addr, Path.read(residual)))
    const sameId = NameTree.union(
      wn(1, bound('/$/inet/1', '/', Addr.bound([]))),
      wn(2, bound('/$/inet/1', '/x', Addr.Neg)),
    )
    const set = NameTree.eval(sameId)
    expect(set?.size).toBe(1)
    const first = [...(set ?? [])][0]
    expect(first?.kind === 'bound' && first.path.isEmpty).toBe(true)
    const twoIds = NameTree.union(
      wn(1, bound('/$/inet/1', '/', Addr.Neg)),
      wn(1, bound('/$/inet/2', '/', Addr.Neg)),
    )
    expect(NameTree.eval(twoIds)?.size).toBe(2)
    const paths = NameTree.union(wn(1, NameTree.leaf(Name.path('/a'))), wn(1, NameTree.leaf(Name.path('/a'))))
    expect(NameTree.eval(paths)?.size).toBe(1)
  })

  it('weights play no part; degenerate nodes are Neg', () => {
    expect(evals('0*/a & 5*/b')).toEqual(['/a', '/b'])
    expect(NameTree.eval(alt())).toBeUndefined()
    expect(NameTree.eval(union())).toBeUndefined()
    expect(NameTree.eval(union(w(1, Fail)))).toBeUndefined()
  })

  it('counts values with the same key once', () => {
    const t = NameTree.union(
      NameTree.weighted(1, NameTree.leaf({ id: 1 })),
      NameTree.weighted(1, NameTree.leaf({ id: 1 })),
    )
    expect(NameTree.eval(t)?.size).toBe(2)
    expect(NameTree.eval(t, (v) => v.id)?.size).toBe(1)
  })
})

describe('NameTree.equals', () => {
  it('compares structure, weights and leaves', () => {
    expect(NameTree.equals(read('/a & 2*/b'), read('/a & 2.0*/b'))).toBe(true)
    expect(NameTree.equals(read('/a & 2*/b'), read('/a & 3*/b'))).toBe(false)
    expect(NameTree.equals(read('/a | /b'), read('/a & /b'))).toBe(false)
    expect(NameTree.equals(read('/a | /b'), read('/a | /b | /c'))).toBe(false)
    expect(NameTree.equals(Neg, Fail)).toBe(false)
    expect(NameTree.equals(NameTree.leaf(1), NameTree.leaf(2), (a, b) => a % 2 === b % 2)).toBe(false)
    expect(NameTree.equals(NameTree.leaf(1), NameTree.leaf(3), (a, b) => a % 2 === b % 2)).toBe(true)
  })
})
