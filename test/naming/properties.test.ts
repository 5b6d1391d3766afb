import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  Dentry,
  Dtab,
  NameTree,
  ParseError,
  Path,
  Prefix,
  type PrefixElem,
  type Weighted,
} from '../../src/naming/index.js'

const SHOWABLE = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_:.#$%-'

// Labels: mostly plain, sometimes any code point, sometimes any UTF-16 unit (lone surrogates).
const label = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(...SHOWABLE), minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 3,
    }),
  },
)
const path = fc.array(label, { maxLength: 4 }).map((labels) => Path.from(labels))

// Weights the text form can carry exactly: at most two decimals.
const weight = fc.oneof(
  fc.constant(1),
  fc.integer({ min: 0, max: 100_000 }).map((k) => k / 100),
)

/** Trees the parser can produce: no empty or one-child Alt/Union, weights with two decimals. */
const { tree: readableTree } = fc.letrec<{ tree: NameTree<Path> }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    path.map((p) => NameTree.leaf(p)),
    fc.constantFrom(NameTree.Neg, NameTree.Fail, NameTree.Empty),
    fc.array(tie('tree'), { minLength: 2, maxLength: 4 }).map((trees) => ({ kind: 'alt' as const, trees })),
    fc
      .array(
        fc.record({ weight, tree: tie('tree') }).map((w): Weighted<Path> => w),
        { minLength: 2, maxLength: 4 },
      )
      .map((trees) => ({ kind: 'union' as const, trees })),
  ),
}))

/** Any tree at all, degenerate nodes and odd weights included. */
const { tree: anyTree } = fc.letrec<{ tree: NameTree<string> }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b', 'c', 'd').map((v) => NameTree.leaf(v)),
    fc.constantFrom(NameTree.Neg, NameTree.Fail, NameTree.Empty),
    fc.array(tie('tree'), { maxLength: 4 }).map((trees) => ({ kind: 'alt' as const, trees })),
    fc
      .array(fc.record({ weight: fc.double({ noNaN: true }), tree: tie('tree') }), { maxLength: 4 })
      .map((trees) => ({ kind: 'union' as const, trees })),
  ),
}))

const prefixElem: fc.Arbitrary<PrefixElem> = fc.oneof(
  { weight: 4, arbitrary: label.map((l) => Prefix.label(l)) },
  { weight: 1, arbitrary: fc.constant(Prefix.any) },
)
const prefix = fc.array(prefixElem, { maxLength: 4 }).map((elems) => Prefix.from(elems))
const dentry = fc.tuple(prefix, readableTree).map(([p, t]) => new Dentry(p, t))
const dtab = fc.array(dentry, { maxLength: 6 }).map((entries) => Dtab.of(...entries))

const evalKey = (t: NameTree<string>) => {
  const s = NameTree.eval(t)
  return s === undefined ? undefined : [...s].sort()
}

describe('round trips (show → read)', () => {
  it('Path', () => {
    fc.assert(
      fc.property(path, (p) => {
        expect(Path.read(p.show()).equals(p)).toBe(true)
      }),
    )
  })

  it('Prefix', () => {
    fc.assert(
      fc.property(prefix, (p) => {
        expect(Prefix.read(p.show()).equals(p)).toBe(true)
      }),
    )
  })

  it('NameTree', () => {
    fc.assert(
      fc.property(readableTree, (t) => {
        const back = NameTree.read(NameTree.show(t))
        expect(NameTree.equals(back, t)).toBe(true)
        expect(NameTree.show(back)).toBe(NameTree.show(t))
      }),
    )
  })

  it('Dentry and Dtab, compact and pretty', () => {
    fc.assert(
      fc.property(dtab, (d) => {
        expect(Dtab.read(d.show()).equals(d)).toBe(true)
        expect(Dtab.read(d.pretty()).equals(d)).toBe(true)
        for (const e of d) expect(Dentry.read(e.show()).equals(e)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })
})

describe('algebraic laws', () => {
  it('simplify is idempotent', () => {
    fc.assert(
      fc.property(anyTree, (t) => {
        const once = NameTree.simplify(t)
        expect(NameTree.equals(NameTree.simplify(once), once)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('eval(simplify(t)) equals eval(t)', () => {
    fc.assert(
      fc.property(anyTree, (t) => {
        expect(evalKey(NameTree.simplify(t))).toEqual(evalKey(t))
        expect(NameTree.equiv(NameTree.simplify(t), t)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('map with the identity changes nothing; map composes', () => {
    fc.assert(
      fc.property(anyTree, (t) => {
        expect(
          NameTree.equals(
            NameTree.map(t, (v) => v),
            t,
          ),
        ).toBe(true)
        const f = (v: string) => `${v}1`
        const g = (v: string) => `${v}2`
        expect(
          NameTree.equals(
            NameTree.map(NameTree.map(t, f), g),
            NameTree.map(t, (v) => g(f(v))),
          ),
        ).toBe(true)
      }),
    )
  })

  it('lookup yields one alternative per matching entry, last entry first', () => {
    fc.assert(
      fc.property(dtab, path, (d, p) => {
        const matching = d.entries.filter((e) => e.prefix.matches(p)).reverse()
        const result = d.lookup(p)
        const alternatives = matching.length === 1 ? [result] : result.kind === 'alt' ? result.trees : []
        expect(alternatives.length).toBe(matching.length === 0 ? 0 : matching.length)
        if (matching.length === 0) expect(result).toBe(NameTree.Neg)
        alternatives.forEach((alt, i) => {
          const e = matching[i]!
          const suffix = p.drop(e.prefix.size)
          expect(
            NameTree.equals(
              alt,
              NameTree.map(e.dst, (q) => q.concat(suffix)),
            ),
          ).toBe(true)
        })
      }),
      { numRuns: 200 },
    )
  })
})

describe('parser robustness: returns or throws ParseError, never anything else', () => {
  const readers: ((text: string) => unknown)[] = [
    Path.read,
    Prefix.read,
    NameTree.read,
    Dentry.read,
    Dtab.read,
  ]

  const onlyParseErrors = (text: string) => {
    for (const read of readers) {
      try {
        read(text)
      } catch (e) {
        if (!(e instanceof ParseError)) throw e
        expect(e.offset).toBeGreaterThanOrEqual(0)
        expect(e.offset).toBeLessThanOrEqual(text.length)
      }
    }
  }

  it('on random text from the grammar alphabet', () => {
    const unit = fc.constantFrom(...'/ab*\\x0f9.&|()!~$#;=> \n\t\u00a0\uffff'.split(''))
    fc.assert(fc.property(fc.string({ unit, maxLength: 40 }), onlyParseErrors), { numRuns: 1000 })
  })

  it('on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), onlyParseErrors), { numRuns: 300 })
  })

  it('on random mutations of valid dtabs', () => {
    const alphabet = '/ab*\\x0f9.&|()!~$#;=> \n'
    const mutation = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('insert', 'delete', 'replace'),
      ch: fc.constantFrom(...alphabet.split('')),
    })
    fc.assert(
      fc.property(dtab, fc.array(mutation, { minLength: 1, maxLength: 4 }), (d, mutations) => {
        let text = d.pretty()
        for (const { at, op, ch } of mutations) {
          const i = text.length === 0 ? 0 : at % (text.length + 1)
          if (op === 'insert') text = text.slice(0, i) + ch + text.slice(i)
          else if (op === 'delete') text = text.slice(0, i) + text.slice(i + 1)
          else text = text.slice(0, i) + ch + text.slice(i + 1)
        }
        onlyParseErrors(text)
      }),
      { numRuns: 300 },
    )
  })
})

describe('extreme weights: everything show prints reads back', () => {
  // Any finite weight the parser can produce: huge, tiny, denormal, with many digits.
  const extremeWeight = fc.oneof(
    fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }),
    fc.double({ min: 0, max: 1e-2, noNaN: true }),
    fc.constantFrom(0, 5e-324, 0.005, 0.0049999, 0.995, 1.0000001, 9.995, 1e21, 1.7976931348623157e308),
  )
  const weightedTree = fc
    .array(fc.tuple(extremeWeight, path), { minLength: 2, maxLength: 5 })
    .map((ws) => NameTree.union(...ws.map(([w, p]) => NameTree.weighted(w, NameTree.leaf(p)))))

  const weightsOf = (t: NameTree<Path>): number[] => (t.kind === 'union' ? t.trees.map((w) => w.weight) : [])

  it('show(t) reads back, each weight within the %.2f rounding, and the text is then a fixed point', () => {
    fc.assert(
      fc.property(weightedTree, (t) => {
        const text = NameTree.show(t)
        const back = NameTree.read(text)
        const before = weightsOf(t)
        const after = weightsOf(back)
        expect(after).toHaveLength(before.length)
        before.forEach((w, i) => {
          expect(Number.isFinite(after[i])).toBe(true)
          expect(Math.abs(after[i]! - w)).toBeLessThanOrEqual(0.005 + w * 1e-15)
        })
        const again = NameTree.show(back)
        expect(NameTree.show(NameTree.read(again))).toBe(again)
      }),
      { numRuns: 500 },
    )
  })

  it('a weight of any digit string either reads (and its show reads back) or is a finite-weight ParseError', () => {
    const digits = fc.stringMatching(/^[0-9]{1,400}(\.[0-9]{0,400})?$/)
    fc.assert(
      fc.property(digits, (w) => {
        const text = `/a & ${w}*/b`
        const r = NameTree.parse(text)
        if (r._tag === 'Left') {
          expect(r.left.message).toMatch(/^finite weight expected but '\d' found at /)
          expect(Number.isFinite(Number(w))).toBe(false)
          return
        }
        // show prints weights with two decimals and leaves out a weight of exactly 1 (Finagle), so a
        // weight such as 1.001 shows as `1.00*`, which reads back as 1 and then shows with no weight:
        // what show prints always reads, and one round trip reaches a fixed point.
        const shown = NameTree.show(r.right)
        expect(shown).not.toMatch(/Infinity|NaN/)
        const again = NameTree.show(NameTree.read(shown))
        expect(NameTree.show(NameTree.read(again))).toBe(again)
        const dtab = Dtab.read(`/x=>${text}`)
        const dtabAgain = Dtab.read(dtab.show()).show()
        expect(Dtab.read(dtabAgain).show()).toBe(dtabAgain)
      }),
      { numRuns: 300 },
    )
  })
})
