import fc from 'fast-check'
import { isLeft } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { Deadline, InvalidDeadlineError } from '../../src/limits/index.js'

// Epoch times with microsecond precision (the precision of the wire form), up to the year 2286.
const micros = fc.integer({ min: 0, max: 10_000_000_000_000 }).map((us) => us / 1000)
const deadline = fc.tuple(micros, micros).map(([a, b]) => new Deadline(a, b))

describe('Deadline', () => {
  it('combined is commutative, associative and idempotent, and keeps the strictest deadline', () => {
    fc.assert(
      fc.property(deadline, deadline, deadline, (a, b, c) => {
        expect(Deadline.combined(a, b).equals(Deadline.combined(b, a))).toBe(true)
        expect(
          Deadline.combined(Deadline.combined(a, b), c).equals(Deadline.combined(a, Deadline.combined(b, c))),
        ).toBe(true)
        expect(Deadline.combined(a, a).equals(a)).toBe(true)
        const ab = Deadline.combined(a, b)
        expect(ab.deadline).toBe(Math.min(a.deadline, b.deadline))
        expect(ab.timestamp).toBe(Math.max(a.timestamp, b.timestamp))
      }),
    )
  })

  it('remaining and isExpired follow Finagle (expired only strictly after the deadline)', () => {
    const d = Deadline.ofTimeout(1000, 200)
    expect(d.remaining(1100)).toBe(100)
    expect(d.isExpired(1200)).toBe(false)
    expect(d.isExpired(1200.5)).toBe(true)
    expect(d.remaining(1300)).toBe(-100)
  })

  it('shows the wire form in nanoseconds, and read(show(d)) is d', () => {
    expect(new Deadline(1_700_000_000_000, 1_700_000_000_200.5).show()).toBe(
      '1700000000000000000 1700000000200500000',
    )
    fc.assert(
      fc.property(deadline, (d) => {
        expect(Deadline.read(d.show()).equals(d)).toBe(true)
      }),
    )
  })

  it('show(read(s)) is s for wire text with microsecond precision (until 2096)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 4n * 10n ** 18n }),
        fc.bigInt({ min: 0n, max: 4n * 10n ** 18n }),
        (a, b) => {
          const text = `${(a / 1000n) * 1000n} ${(b / 1000n) * 1000n}`
          expect(Deadline.read(text).show()).toBe(text)
        },
      ),
    )
  })

  it('rejects anything else with an error that quotes the input', () => {
    for (const bad of ['', 'soon', '1', '1 2 3', '1,2', '1.5 2', 'a b']) {
      const r = Deadline.parse(bad)
      expect(isLeft(r)).toBe(true)
    }
    expect(() => Deadline.read('soon')).toThrow(InvalidDeadlineError)
    expect(() => Deadline.read('soon')).toThrow(
      'deadline must be two integers (ns since the epoch) separated by a space, got "soon"',
    )
  })
})
