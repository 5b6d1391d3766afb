import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError, seededRandom } from '../../src/core/index.js'
import { Backoff } from '../../src/retry/index.js'

const first = (b: Backoff, n: number) => [...b.take(n)]

describe('Backoff: deterministic schedules', () => {
  it('constant, linear and exponential, with caps', () => {
    expect(first(Backoff.constant(7), 3)).toEqual([7, 7, 7])
    expect(first(Backoff.linear(10, 5), 4)).toEqual([10, 15, 20, 25])
    expect(first(Backoff.linear(10, 5, 22), 5)).toEqual([10, 15, 20, 22, 22])
    expect(first(Backoff.linear(10, 0), 3)).toEqual([10, 10, 10])
    expect(first(Backoff.exponential(100, 3, 1000), 5)).toEqual([100, 300, 900, 1000, 1000])
    expect(first(Backoff.exponential(100), 4)).toEqual([100, 200, 400, 800])
    expect(first(Backoff.exponential(100, 1), 3)).toEqual([100, 100, 100])
    expect(first(Backoff.exponential(500, 2, 200), 2)).toEqual([200, 200])
  })

  it('an uncapped exponential saturates at Infinity instead of failing', () => {
    const delays = first(Backoff.exponential(1, 10), 400)
    expect(delays.at(-1)).toBe(Number.POSITIVE_INFINITY)
    expect(delays.every((d, i) => i === 0 || d >= delays[i - 1]!)).toBe(true)
  })

  it('take, takeUntil, concat, padded, of, fromFunction, empty', () => {
    expect([...Backoff.empty]).toEqual([])
    expect([...Backoff.constant(1).take(0)]).toEqual([])
    expect([...Backoff.of(1, 2, 3).take(10)]).toEqual([1, 2, 3])
    expect([...Backoff.constant(40).takeUntil(100)]).toEqual([40, 40])
    expect([...Backoff.constant(50).takeUntil(100)]).toEqual([50, 50])
    expect([...Backoff.of(1, 2).concat(Backoff.of(3)).concat(Backoff.empty)]).toEqual([1, 2, 3])
    expect(first(Backoff.of(1).padded(300_000), 3)).toEqual([1, 300_000, 300_000])
    expect([...Backoff.fromFunction((k) => (k < 3 ? 100 * (k + 1) ** 2 : -1))]).toEqual([100, 400, 900])
    expect(first(Backoff.exponential(1).take(2).concat(Backoff.constant(9)), 4)).toEqual([1, 2, 9, 9])
  })

  it('is an immutable value: every walk starts from the beginning', () => {
    const b = Backoff.linear(1, 1).take(3)
    expect([...b]).toEqual([1, 2, 3])
    expect([...b]).toEqual([1, 2, 3])
    const walk = b[Symbol.iterator]()
    walk.next()
    expect([...b]).toEqual([1, 2, 3])
    expect(walk.next().value).toBe(2)
  })

  it('take and takeUntil are consistent with slicing the infinite schedule', () => {
    fc.assert(
      fc.property(fc.nat(50), fc.nat(1000), fc.nat(50), (start, step, n) => {
        const full = first(Backoff.linear(start, step), n)
        expect([...Backoff.linear(start, step).take(n)]).toEqual(full)
        const total = full.reduce((a, b) => a + b, 0)
        expect([...Backoff.linear(start, step).take(n).takeUntil(total)]).toEqual(full)
      }),
    )
  })

  it('rejects bad options eagerly, naming them', () => {
    expect(() => Backoff.constant(-1)).toThrow(InvalidOptionError)
    expect(() => Backoff.exponential(10, 0.5)).toThrow(
      'Backoff.exponential: multiplier must be a number >= 1, got 0.5',
    )
    expect(() => Backoff.equalJitter(100, 50)).toThrow('capMs')
    expect(() => Backoff.fullJitter(Number.NaN, 50)).toThrow('baseMs')
    expect(() => Backoff.constant(1).take(1.5)).toThrow('n must be an integer >= 0, got 1.5')
    expect(() => Backoff.of(1, -2)).toThrow('delaysMs[1]')
  })
})

describe('Backoff: jittered schedules', () => {
  const DRAWS = 10_000
  const params = fc.record({
    seed: fc.integer(),
    base: fc.integer({ min: 1, max: 10_000 }),
    capFactor: fc.integer({ min: 1, max: 1000 }),
  })

  it('full jitter: the k-th delay is in [0, min(cap, base·2^k)) for 10,000 seeded draws', () => {
    fc.assert(
      fc.property(params, ({ seed, base, capFactor }) => {
        const cap = base * capFactor
        let k = 0
        for (const d of Backoff.fullJitter(base, cap, seededRandom(seed)).take(DRAWS / 100)) {
          expect(d).toBeGreaterThanOrEqual(0)
          expect(d).toBeLessThan(Math.min(cap, base * 2 ** k))
          k++
        }
      }),
      { numRuns: 100 },
    )
  })

  it('equal jitter: with t = min(cap, base·2^k), the k-th delay is in [t/2, t)', () => {
    fc.assert(
      fc.property(params, ({ seed, base, capFactor }) => {
        const cap = base * capFactor
        let k = 0
        for (const d of Backoff.equalJitter(base, cap, seededRandom(seed)).take(DRAWS / 100)) {
          const t = Math.min(cap, base * 2 ** k)
          expect(d).toBeGreaterThanOrEqual(t / 2)
          expect(d).toBeLessThan(t)
          k++
        }
      }),
      { numRuns: 100 },
    )
  })

  it('decorrelated jitter: every delay is in [base, cap] and below 3× the previous one', () => {
    fc.assert(
      fc.property(params, ({ seed, base, capFactor }) => {
        const cap = base * capFactor
        let prev = base
        for (const d of Backoff.decorrelatedJitter(base, cap, seededRandom(seed)).take(DRAWS / 100)) {
          expect(d).toBeGreaterThanOrEqual(base)
          expect(d).toBeLessThanOrEqual(cap)
          if (d < cap) expect(d).toBeLessThan(3 * prev)
          prev = d
        }
      }),
      { numRuns: 100 },
    )
  })

  it('uses the whole jitter range (the bounds are tight, not just respected)', () => {
    const r = seededRandom(11)
    const draws = [...Backoff.fullJitter(1000, 1000, r).take(DRAWS)]
    expect(Math.min(...draws)).toBeLessThan(10)
    expect(Math.max(...draws)).toBeGreaterThan(990)
    const mean = draws.reduce((a, b) => a + b, 0) / DRAWS
    expect(mean).toBeGreaterThan(480)
    expect(mean).toBeLessThan(520)
    const equal = [...Backoff.equalJitter(1000, 1000, r).take(DRAWS)]
    expect(Math.min(...equal)).toBeLessThan(505)
    expect(Math.max(...equal)).toBeGreaterThan(995)
  })

  it('is reproducible from a seed, and two walks of one schedule get independent jitter', () => {
    const a = [...Backoff.decorrelatedJitter(5, 200, seededRandom(42)).take(20)]
    const b = [...Backoff.decorrelatedJitter(5, 200, seededRandom(42)).take(20)]
    expect(a).toEqual(b)
    const shared = Backoff.equalJitter(100, 10_000, seededRandom(42))
    expect([...shared.take(5)]).not.toEqual([...shared.take(5)])
  })
})
