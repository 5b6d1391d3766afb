import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Var } from '../../src/core/var.js'
import {
  Addr,
  Address,
  AddrFailedError,
  InvalidAddressError,
  Name,
  NameBound,
  Path,
} from '../../src/naming/index.js'

const a1 = Address.read('10.0.0.1:8080')
const a2 = Address.read('10.0.0.2:8080')

describe('Address', () => {
  it('reads and shows host:port, with brackets for IPv6', () => {
    expect(a1.host).toBe('10.0.0.1')
    expect(a1.port).toBe(8080)
    expect(Address.read('[::1]:80').host).toBe('::1')
    expect(Address.read('[::1]:80').show()).toBe('[::1]:80')
    expect(Address.read('users.internal:0').show()).toBe('users.internal:0')
  })

  it('rejects what is not host:port with an InvalidAddressError naming what was found', () => {
    expect(() => Address.read('10.0.0.1')).toThrow("'host:port' expected but '10.0.0.1' found")
    expect(() => Address.read('a:b')).toThrow("port expected but 'b' found in 'a:b'")
    expect(() => Address.read('a:70000')).toThrow('port (an integer 0..65535) expected but 70000 found')
    expect(() => Address.read(':80')).toThrow(InvalidAddressError)
    expect(() => Address.read('[::1:80')).toThrow("'[ipv6]:port' expected")
    expect(() => Address.inet('h', 1.5)).toThrow(InvalidAddressError)
  })

  it('read(show(a)) gives an equal address (property)', () => {
    const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain())
    fc.assert(
      fc.property(host, fc.integer({ min: 0, max: 65535 }), (h, p) => {
        const a = Address.inet(h, p)
        expect(Address.read(a.show()).equals(a)).toBe(true)
      }),
    )
  })

  it('equality covers metadata', () => {
    expect(a1.equals(Address.read('10.0.0.1:8080'))).toBe(true)
    expect(a1.equals(a1.withMetadata({ [Address.WeightKey]: 2 }))).toBe(false)
    expect(a1.withMetadata({ x: { y: [1] } }).equals(a1.withMetadata({ x: { y: [1] } }))).toBe(true)
  })
})

describe('Addr', () => {
  it('bound keeps each equal address once and compares as a set', () => {
    expect(Addr.bound([a1, a2, Address.read('10.0.0.1:8080')]).addresses).toHaveLength(2)
    expect(Addr.equals(Addr.bound([a1, a2]), Addr.bound([a2, a1]))).toBe(true)
    expect(Addr.equals(Addr.bound([a1]), Addr.bound([a1], { zone: 'a' }))).toBe(false)
    expect(Addr.equals(Addr.bound([a1]), Addr.bound([a1, a2]))).toBe(false)
    expect(Addr.equals(Addr.Neg, Addr.Neg)).toBe(true)
    expect(Addr.equals(Addr.Neg, Addr.Pending)).toBe(false)
  })

  it('failed wraps a message in an AddrFailedError; equal failures are errors of one class and message', () => {
    const f = Addr.failed('no quorum')
    expect(f.kind).toBe('failed')
    expect(f.kind === 'failed' && f.cause).toBeInstanceOf(AddrFailedError)
    expect(Addr.show(f)).toBe('Failed(no quorum)')
    expect(Addr.equals(Addr.failed(new Error('x')), Addr.failed(new Error('x')))).toBe(true)
    expect(Addr.equals(Addr.failed(new Error('x')), Addr.failed(new TypeError('x')))).toBe(false)
    expect(Addr.equals(Addr.failed(new Error('x')), Addr.failed(new Error('y')))).toBe(false)
  })

  it('shows each state', () => {
    expect(Addr.show(Addr.bound([a1, a2]))).toBe('Bound(10.0.0.1:8080,10.0.0.2:8080)')
    expect(Addr.show(Addr.bound([a1], { w: 1 }))).toBe('Bound(10.0.0.1:8080;{"w":1})')
    expect(Addr.show(Addr.Neg)).toBe('Neg')
    expect(Addr.show(Addr.Pending)).toBe('Pending')
  })

  it('withMetadata adds to a bound addr only', () => {
    expect(Addr.withMetadata(Addr.bound([a1]), Addr.WeightKey, 2)).toEqual(
      Addr.bound([a1], { namer_nametree_weight: 2 }),
    )
    expect(Addr.withMetadata(Addr.Neg, Addr.WeightKey, 2)).toBe(Addr.Neg)
  })
})

describe('Name', () => {
  it('a bound name equals another with the same id only (surprise 12)', () => {
    const x = Name.bound(Path.read('/#/a'), Addr.bound([a1]), Path.read('/r1'))
    const y = Name.bound(Path.read('/#/a'), Addr.Neg, Path.read('/r2'))
    const z = Name.bound(Path.read('/#/b'), Addr.bound([a1]))
    expect(x.equals(y)).toBe(true)
    expect(x.equals(z)).toBe(false)
    expect(x.equals(Name.path('/#/a'))).toBe(false)
    expect(x.show()).toBe('/#/a')
    expect(new NameBound(Var.constant(Addr.Neg), 'svc-1').idStr).toBe('svc-1')
  })

  it('Name.all of nothing is the empty bound set; of one name, that name with its metadata (surprise 11)', () => {
    expect(Name.all([]).addr.sample()).toEqual(Addr.bound([]))
    const weighted = Name.bound(Path.read('/a'), Addr.bound([a1], { [Addr.WeightKey]: 3 }))
    expect(Name.all([weighted])).toBe(weighted)
    // Two names with the same id are one name.
    expect(Name.all([weighted, Name.bound(Path.read('/a'), Addr.Neg)])).toBe(weighted)
  })

  it('Name.all of several names unions bound sets and drops metadata (surprise 11)', () => {
    const x = Name.bound(Path.read('/a'), Addr.bound([a1], { [Addr.WeightKey]: 3 }))
    const y = Name.bound(Path.read('/b'), Addr.bound([a2], { [Addr.WeightKey]: 1 }))
    const n = Name.bound(Path.read('/c'), Addr.Neg)
    expect(Name.all([x, y, n]).addr.sample()).toEqual(Addr.bound([a1, a2]))
  })

  it('Name.all: all neg is neg, all failed is a message-less failure, neg with failed is pending (surprise 11)', () => {
    const neg = (id: string) => Name.bound(Path.read(id), Addr.Neg)
    const failed = (id: string) => Name.bound(Path.read(id), Addr.failed('boom'))
    expect(Name.all([neg('/a'), neg('/b')]).addr.sample()).toBe(Addr.Neg)
    const allFailed = Name.all([failed('/a'), failed('/b')]).addr.sample()
    expect(allFailed.kind === 'failed' && (allFailed.cause as Error).message).toBe('')
    expect(Name.all([neg('/a'), failed('/b')]).addr.sample()).toBe(Addr.Pending)
    expect(Name.all([neg('/a'), Name.bound(Path.read('/p'), Addr.Pending)]).addr.sample()).toBe(Addr.Pending)
  })

  it('Name.all follows its names live', () => {
    const live = Var.value<Addr>(Addr.Pending)
    const all = Name.all([Name.bound(Path.read('/a'), live), Name.bound(Path.read('/b'), Addr.Neg)])
    const seen: string[] = []
    const stop = all.addr.observe((a) => seen.push(Addr.show(a)))
    live.update(Addr.bound([a1]))
    live.update(Addr.Neg)
    stop()
    expect(seen).toEqual(['Pending', 'Bound(10.0.0.1:8080)', 'Neg'])
  })

  it('a weight goes into a bound addr only', () => {
    const live = Var.value<Addr>(Addr.Pending)
    const w = Name.bound(Path.read('/a'), live).withWeight(2)
    expect(w.addr.sample()).toBe(Addr.Pending)
    live.update(Addr.bound([a1]))
    expect(w.addr.sample()).toEqual(Addr.bound([a1], { namer_nametree_weight: 2 }))
  })
})
