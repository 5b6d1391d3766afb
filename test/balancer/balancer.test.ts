import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AddrLike,
  aperture,
  type BalancerAlgorithm,
  balancer,
  type EndpointAddress,
  heap,
  NoBrokersAvailableError,
  p2c,
  p2cPeakEwma,
  roundRobin,
} from '../../src/balancer/index.js'
import { Activity } from '../../src/core/activity.js'
import { manualClock } from '../../src/core/clock.js'
import { ServiceClosedError } from '../../src/core/errors.js'
import { seededRandom } from '../../src/core/random.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { addresses, fakeEndpoints, flush, keyOf, make } from './helpers.js'

const ALGORITHMS: Array<[string, () => BalancerAlgorithm]> = [
  ['p2c', () => p2c()],
  ['p2cPeakEwma', () => p2cPeakEwma()],
  ['aperture', () => aperture({ minAperture: 3 })],
  ['heap', () => heap()],
  ['roundRobin', () => roundRobin()],
]

describe.each(ALGORITHMS)('%s balancer', (_name, algorithm) => {
  it('dispatches to an endpoint and counts the request on it until it ends', async () => {
    const { lb, eps } = make(algorithm())
    const rep = lb('hello')
    expect(eps.calls).toHaveLength(1)
    const key = eps.calls[0]!.key
    expect(lb.endpoints().find((e) => e.key === key)!.pending).toBe(1)
    await eps.settleAll()
    expect(await rep).toBe(key)
    expect(lb.endpoints().every((e) => e.pending === 0)).toBe(true)
  })

  it('keeps exact outstanding counts under concurrency and after failures', async () => {
    const { lb, eps } = make(algorithm(), 5, 3)
    const reps = Array.from({ length: 200 }, () => lb('x').catch((e: unknown) => e))
    const byKey = new Map<string, number>()
    for (const c of eps.calls) byKey.set(c.key, (byKey.get(c.key) ?? 0) + 1)
    for (const e of lb.endpoints()) expect(e.pending).toBe(byKey.get(e.key) ?? 0)
    // Fail every third call, answer the rest.
    for (const [i, c] of eps.calls.splice(0).entries()) {
      if (i % 3 === 0) c.reject(new Error('boom'))
      else c.resolve(c.key)
    }
    await Promise.all(reps)
    expect(lb.endpoints().map((e) => e.pending)).toEqual([0, 0, 0, 0, 0])
  })

  it('releases the node when the endpoint throws synchronously', async () => {
    const lb = balancer<string, string>({
      addresses: addresses(2),
      connect: () => {
        const f = (() => {
          throw new Error('sync')
        }) as unknown as import('../../src/core/service.js').Service<string, string>
        Object.defineProperty(f, 'status', { get: () => 'open' })
        Object.defineProperty(f, 'close', { value: async () => {} })
        return f
      },
      algorithm: algorithm(),
      random: seededRandom(1),
    })
    await expect(lb('x')).rejects.toThrow('sync')
    expect(lb.endpoints().map((e) => e.pending)).toEqual([0, 0])
  })

  it('skips closed nodes while an open one exists', () => {
    const { lb, eps } = make(algorithm(), 6)
    for (let i = 0; i < 6; i++) if (i !== 4) eps.status.set(keyOf(i), i % 2 === 0 ? 'closed' : 'busy')
    for (let i = 0; i < 300; i++) {
      const lease = lb.acquire()
      expect(`${lease.address.host}:${lease.address.port}`).toBe(keyOf(4))
      if (i % 2 === 0) lease.release()
    }
  })

  it('panics when nothing is open: sends anyway and counts it', async () => {
    const { lb, eps, stats } = make(algorithm(), 4)
    for (let i = 0; i < 4; i++) eps.status.set(keyOf(i), 'busy')
    const reps = Array.from({ length: 10 }, () => lb('x'))
    expect(eps.calls).toHaveLength(10)
    expect(stats.counterValue('loadbalancer/panicked')).toBe(10)
    await eps.settleAll()
    await Promise.all(reps)
    // As soon as one node is open again, it takes every request.
    eps.status.set(keyOf(2), 'open')
    for (let i = 0; i < 20; i++) expect(lb.acquire().address.host).toBe('10.0.0.3')
  })

  it('exports the loadbalancer gauges', () => {
    const { lb, eps, stats } = make(algorithm(), 5)
    eps.status.set(keyOf(0), 'busy')
    eps.status.set(keyOf(1), 'closed')
    expect(stats.gaugeValue('loadbalancer/size')).toBe(5)
    expect(stats.gaugeValue('loadbalancer/available')).toBe(3)
    expect(stats.gaugeValue('loadbalancer/busy')).toBe(1)
    expect(stats.gaugeValue('loadbalancer/closed')).toBe(1)
    expect(stats.counterValue('loadbalancer/rebuilds')).toBe(1)
    expect(stats.counterValue('loadbalancer/adds')).toBe(5)
    const held = [lb.acquire(), lb.acquire()]
    if (_name !== 'p2cPeakEwma') expect(stats.gaugeValue('loadbalancer/load')).toBe(2)
    for (const l of held) l.release()
    expect(stats.gaugeValue('loadbalancer/load')).toBe(0)
    expect(Object.keys(stats.json()).some((k) => k.startsWith('loadbalancer/algorithm/'))).toBe(true)
  })

  it('keeps unchanged nodes and their state across an update', () => {
    const { lb, eps, stats } = make(algorithm(), 3)
    const held = Array.from({ length: 9 }, () => lb.acquire())
    const before = new Map(lb.endpoints().map((e) => [e.key, e.pending]))
    lb.update([...addresses(2), ...addresses(1, 10)]) // drop 10.0.0.3, add 10.0.0.10
    const after = new Map(lb.endpoints().map((e) => [e.key, e.pending]))
    expect([...after.keys()]).toEqual([keyOf(0), keyOf(1), '10.0.0.10:80'])
    expect(after.get(keyOf(0))).toBe(before.get(keyOf(0)))
    expect(after.get(keyOf(1))).toBe(before.get(keyOf(1)))
    expect(after.get('10.0.0.10:80')).toBe(0)
    // Only the new address was connected; nothing was reconnected.
    expect(eps.connected).toEqual([keyOf(0), keyOf(1), keyOf(2), '10.0.0.10:80'])
    expect(stats.counterValue('loadbalancer/removes')).toBe(1)
    expect(stats.counterValue('loadbalancer/updates')).toBe(2)
    for (const l of held) l.release()
  })

  it('sends nothing new to a removed node and closes it after its last request', async () => {
    const { lb, eps } = make(algorithm(), 3)
    const held = Array.from({ length: 30 }, () => lb.acquire())
    const onRemoved = held.filter((l) => l.address.host === '10.0.0.3')
    expect(onRemoved.length).toBeGreaterThan(0)
    lb.update(addresses(2))
    for (let i = 0; i < 100; i++) {
      const l = lb.acquire()
      expect(l.address.host).not.toBe('10.0.0.3')
      l.release()
    }
    for (const l of onRemoved.slice(1)) l.release()
    await flush()
    expect(eps.closed).toEqual([])
    onRemoved[0]!.release()
    await flush()
    expect(eps.closed).toEqual([keyOf(2)])
    for (const l of held) l.release()
  })
})

describe('balancer', () => {
  it('closes a removed idle node at once', async () => {
    const { lb, eps } = make(p2c(), 3)
    lb.update(addresses(2))
    await flush()
    expect(eps.closed).toEqual([keyOf(2)])
  })

  it('a node removed and added back while draining keeps its state and is not closed', async () => {
    const { lb, eps } = make(roundRobin(), 2)
    const held = [lb.acquire(), lb.acquire()]
    lb.update(addresses(1))
    lb.update(addresses(2))
    expect(lb.endpoints().map((e) => e.pending)).toEqual([1, 1])
    for (const l of held) l.release()
    await flush()
    expect(eps.closed).toEqual([])
    expect(eps.connected).toHaveLength(2)
  })

  it('fails with NoBrokersAvailableError when there are no endpoints', async () => {
    const lb = balancer({ addresses: [], connect: fakeEndpoints().connect })
    await expect(lb('x')).rejects.toBeInstanceOf(NoBrokersAvailableError)
    await expect(lb('x')).rejects.toMatchObject({ code: 'NoBrokersAvailable' })
    expect(lb.status).toBe('closed')
  })

  it('follows an Activity of an Addr: waits while pending, keeps the last set through failures, empties on neg', async () => {
    const [addr, witness] = Activity.mutable<AddrLike<EndpointAddress>>()
    const eps = fakeEndpoints()
    const lb = balancer({ addresses: addr, connect: eps.connect, random: seededRandom(1) })
    expect(lb.status).toBe('busy')
    const early = lb('x')
    await flush()
    expect(eps.calls).toHaveLength(0)
    witness.ok({ kind: 'bound', addresses: new Set(addresses(2)) })
    await flush()
    expect(eps.calls).toHaveLength(1)
    await eps.settleAll()
    expect(await early).toMatch(/^10\.0\.0\.[12]:80$/)
    witness.fail(new Error('zk down'))
    witness.ok({ kind: 'failed', error: new Error('dns') })
    witness.ok({ kind: 'pending' })
    expect(lb.size).toBe(2)
    witness.ok({ kind: 'neg' })
    expect(lb.size).toBe(0)
    await expect(lb('y')).rejects.toBeInstanceOf(NoBrokersAvailableError)
    await lb.close()
  })

  it('an Activity that fails before any set rejects waiting requests with the cause', async () => {
    const [addr, witness] = Activity.mutable<readonly EndpointAddress[]>()
    const lb = balancer({ addresses: addr, connect: fakeEndpoints().connect })
    const early = lb('x')
    witness.fail(new Error('no such service'))
    await expect(early).rejects.toMatchObject({
      code: 'NoBrokersAvailable',
      cause: new Error('no such service'),
    })
  })

  it('a waiting request honours its abort signal', async () => {
    const [addr] = Activity.mutable<readonly EndpointAddress[]>()
    const lb = balancer({ addresses: addr, connect: fakeEndpoints().connect })
    const ac = new AbortController()
    const early = lb('x', ac.signal)
    ac.abort(new Error('gave up'))
    await expect(early).rejects.toThrow('gave up')
  })

  it('close() closes every endpoint, drops its gauges, and rejects later calls', async () => {
    const { lb, eps, stats } = make(p2c(), 3)
    await lb.close()
    expect(eps.closed.sort()).toEqual([keyOf(0), keyOf(1), keyOf(2)])
    expect(stats.gaugeValue('loadbalancer/size')).toBeUndefined()
    await expect(lb('x')).rejects.toBeInstanceOf(ServiceClosedError)
    expect(lb.status).toBe('closed')
  })

  it('an address whose connect throws becomes a closed node that others are preferred to', () => {
    const lb = balancer<string, string>({
      addresses: addresses(2),
      connect: (a) => {
        if (a.host === '10.0.0.1') throw new Error('bad address')
        return fakeEndpoints().connect(a)
      },
      random: seededRandom(2),
    })
    expect(lb.endpoints().map((e) => e.status)).toEqual(['closed', 'open'])
    for (let i = 0; i < 20; i++) expect(lb.acquire().address.host).toBe('10.0.0.2')
  })

  it('status is the best of the endpoint statuses', () => {
    const { lb, eps } = make(p2c(), 2)
    expect(lb.status).toBe('open')
    eps.status.set(keyOf(0), 'busy')
    expect(lb.status).toBe('open')
    eps.status.set(keyOf(1), 'closed')
    expect(lb.status).toBe('busy')
  })

  it('weight classes: traffic ∝ weight × class size', () => {
    const eps = fakeEndpoints()
    const stats = inMemoryStats()
    const lb = balancer({
      addresses: [
        { host: 'a', port: 1, weight: 3 },
        { host: 'b', port: 1, metadata: { endpoint_addr_weight: 1 } },
        { host: 'c', port: 1 },
      ],
      connect: eps.connect,
      algorithm: p2c(),
      random: seededRandom(5),
      stats,
    })
    const counts = new Map<string, number>()
    const N = 20_000
    for (let i = 0; i < N; i++) {
      const l = lb.acquire()
      counts.set(l.address.host, (counts.get(l.address.host) ?? 0) + 1)
      l.release()
    }
    // Classes: weight 3 × 1 node, weight 1 × 2 nodes → 3 : 2.
    expect(counts.get('a')! / N).toBeCloseTo(0.6, 1)
    expect((counts.get('b')! + counts.get('c')!) / N).toBeCloseTo(0.4, 1)
    expect(stats.gaugeValue('loadbalancer/num_weight_classes')).toBe(2)
    expect(stats.gaugeValue('loadbalancer/meanweight')).toBeCloseTo(5 / 3, 6)
  })

  it('weight classes: an unhealthy class is walked past', () => {
    const eps = fakeEndpoints()
    const stats = inMemoryStats()
    const lb = balancer({
      addresses: [
        { host: 'a', port: 1, weight: 100 },
        { host: 'b', port: 1, weight: 1 },
      ],
      connect: eps.connect,
      random: seededRandom(5),
      stats,
    })
    eps.status.set('a:1', 'busy')
    for (let i = 0; i < 50; i++) expect(lb.acquire().address.host).toBe('b')
    expect(stats.counterValue('loadbalancer/busy_weight_classes')).toBeGreaterThan(40)
    expect(stats.counterValue('loadbalancer/panicked')).toBe(0)
  })

  it('a weight change updates the node in place', () => {
    const { lb } = make(p2c(), 2)
    const held = lb.acquire()
    const key = `${held.address.host}:${held.address.port}`
    lb.update(addresses(2).map((a) => (`${a.host}:${a.port}` === key ? { ...a, weight: 2 } : a)))
    const e = lb.endpoints().find((x) => x.key === key)!
    expect(e.weight).toBe(2)
    expect(e.pending).toBe(1)
    held.release()
  })

  it('releasing a lease twice counts once', () => {
    const { lb } = make(p2c(), 2)
    const a = lb.acquire()
    const b = lb.acquire()
    a.release()
    a.release()
    expect(lb.endpoints().reduce((s, e) => s + e.pending, 0)).toBe(1)
    b.release()
  })

  it('is reproducible from its seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const picks = () => {
          const { lb } = make(p2c(), 7, seed)
          const out: string[] = []
          const held = []
          for (let i = 0; i < 30; i++) {
            const l = lb.acquire()
            out.push(l.address.host)
            if (i % 3 === 0) held.push(l)
            else l.release()
          }
          return out
        }
        expect(picks()).toEqual(picks())
      }),
      { numRuns: 20 },
    )
  })
})
