import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ipv6Groups } from '../../src/naming/ip.js'

describe('ipv6Groups', () => {
  it('reads every form of an address back to its eight groups (WHATWG URL compresses them)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), (groups) => {
        const full = groups.map((g) => g.toString(16)).join(':')
        const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1)
        expect(ipv6Groups(full)).toEqual(groups)
        expect(ipv6Groups(compressed)).toEqual(groups)
        expect(ipv6Groups(`${compressed}%eth0`)).toEqual(groups)
      }),
    )
  })

  it('folds a dotted IPv4 tail into the last two groups', () => {
    expect(ipv6Groups('::ffff:10.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001])
    expect(ipv6Groups('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1])
  })
})
