import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatFixed2, javaDoubleString } from '../../src/naming/weight.js'

describe('formatFixed2 (Java %.2f)', () => {
  it('rounds HALF_UP from the shortest decimal, unlike toFixed', () => {
    expect(formatFixed2(1.005)).toBe('1.01')
    expect((1.005).toFixed(2)).toBe('1.00')
    expect(formatFixed2(2.675)).toBe('2.68')
    expect(formatFixed2(0.125)).toBe('0.13')
    expect(formatFixed2(0.005)).toBe('0.01')
    expect(formatFixed2(0.001)).toBe('0.00')
    expect(formatFixed2(0.0049999)).toBe('0.00')
    expect(formatFixed2(9.995)).toBe('10.00')
  })

  it('handles signs, zero, tiny, huge and non-finite values', () => {
    expect(formatFixed2(0)).toBe('0.00')
    expect(formatFixed2(-0)).toBe('-0.00')
    expect(formatFixed2(-1.005)).toBe('-1.01')
    expect(formatFixed2(-0.001)).toBe('-0.00')
    expect(formatFixed2(5e-324)).toBe('0.00')
    expect(formatFixed2(1e21)).toBe('1000000000000000000000.00')
    expect(formatFixed2(Number.NaN)).toBe('NaN')
    expect(formatFixed2(Number.POSITIVE_INFINITY)).toBe('Infinity')
    expect(formatFixed2(Number.NEGATIVE_INFINITY)).toBe('-Infinity')
  })

  it('equals integer HALF_UP rounding for every value with three decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (k) => {
        const q = Math.floor((k + 5) / 10)
        const expected = `${Math.floor(q / 100)}.${String(q % 100).padStart(2, '0')}`
        expect(formatFixed2(k / 1000)).toBe(expected)
      }),
    )
  })

  it('reads back to the same number when the weight has at most two decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), (k) => {
        expect(Number(formatFixed2(k / 100))).toBe(k / 100)
      }),
    )
  })
})

describe('javaDoubleString (Double.toString)', () => {
  it('matches the JVM forms', () => {
    expect(javaDoubleString(1)).toBe('1.0')
    expect(javaDoubleString(0.5)).toBe('0.5')
    expect(javaDoubleString(0)).toBe('0.0')
    expect(javaDoubleString(-0)).toBe('-0.0')
    expect(javaDoubleString(1e-3)).toBe('0.001')
    expect(javaDoubleString(1e-5)).toBe('1.0E-5')
    expect(javaDoubleString(1.5e-7)).toBe('1.5E-7')
    expect(javaDoubleString(9999999)).toBe('9999999.0')
    expect(javaDoubleString(1e7)).toBe('1.0E7')
    expect(javaDoubleString(-2.5e21)).toBe('-2.5E21')
    expect(javaDoubleString(Number.NaN)).toBe('NaN')
    expect(javaDoubleString(Number.POSITIVE_INFINITY)).toBe('Infinity')
  })
})
