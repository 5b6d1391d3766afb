import { describe, expect, it } from 'vitest'
import { NameTree, Path } from '../../src/naming/index.js'

const show = (text: string) => NameTree.show(NameTree.read(text))

describe('NameTree', () => {
  it('reads the leaf and the three empty cases', () => {
    expect(NameTree.read('/a')).toEqual(NameTree.leaf(Path.of('a')))
    expect(NameTree.read('~')).toBe(NameTree.Neg)
    expect(NameTree.read('!')).toBe(NameTree.Fail)
    expect(NameTree.read('$')).toBe(NameTree.Empty)
  })

  it('& binds tighter than |', () => {
    const t = NameTree.read('/a & /b | /c & /d')
    const l = (s: string) => NameTree.leaf(Path.of(s))
    const w = (s: string) => NameTree.weighted(1, l(s))
    expect(
      NameTree.equals(t, NameTree.alt(NameTree.union(w('a'), w('b')), NameTree.union(w('c'), w('d')))),
    ).toBe(true)
    expect(NameTree.show(t)).toBe('/a & /b | /c & /d')
  })

  it('shows weights with two decimals, leaving out exactly 1.0 (surprise 2)', () => {
    expect(show('1 * /canary & 9 * /stable')).toBe('/canary & 9.00*/stable')
    expect(show('1.005*/a & 2.675*/b & 0.125*/c & 0.005*/d & 0.001*/e')).toBe(
      '1.01*/a & 2.68*/b & 0.13*/c & 0.01*/d & 0.00*/e',
    )
  })

  it('drops the weight of a single & term (surprise 1)', () => {
    expect(NameTree.read('3 * /foo')).toEqual(NameTree.leaf(Path.of('foo')))
    expect(NameTree.read('2 * (3 * /foo)')).toEqual(NameTree.leaf(Path.of('foo')))
  })

  it('simplify and eval follow Finagle', () => {
    expect(NameTree.simplify(NameTree.read('! & ! & !'))).toBe(NameTree.Neg)
    expect(NameTree.show(NameTree.simplify(NameTree.read('~ | /ok | !')))).toBe('/ok | !')
    expect(NameTree.eval(NameTree.read('! | /ok'))).toBeUndefined()
    expect([...(NameTree.eval(NameTree.read('/ok & !')) ?? [])].map(String)).toEqual(['Path(ok)'])
    expect(NameTree.eval(NameTree.read('~ | $ | /blah'))?.size).toBe(0)
  })
})
