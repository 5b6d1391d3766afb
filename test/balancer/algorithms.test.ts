import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AlgorithmContext,
  aperture,
  type BalancerAlgorithm,
  balancer,
  Ema,
  heap,
  type Lease,
  PanicMode,
  PEAK_EWMA_PENALTY_MS,
  type PickNode,
  p2c,
  p2cPeakEwma,
  peakEwma,
  roundRobin,
} from '../../src/balancer/index.js'
import { manualClock } from '../../src/core/clock.js'
import { InvalidOptionError } from '../../src/core/errors.js'
import { seededRandom } from '../../src/core/random.js'
import type { Status } from '../../src/core/status.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { addresses, fakeEndpoints, keyOf, make } from './helpers.js'

interface FakeNode extends PickNode {
  reads: number
  loadValue: number
  statusValue: Status
}

function fakeNodes(n: number, load: (i: number) => number = () => 0): FakeNode[] {
  return Array.from({ length: n }, (_, i) => {
    const node: FakeNode = {
      key: `n${i}`,
      weight: 1,
      token: i,
      pending: 0,
      slot: -1,
      mark: 0,
      reads: 0,
      loadValue: load(i),
      statusValue: 'open',
      get status() {
        return node.statusValue
      },
      load() {
        node.reads++
        return node.loadValue
      },
    }
    return node
  })
}

function context(seed = 1): AlgorithmContext {
  const stats = inMemoryStats()
  return { clock: manualClock(), random: seededRandom(seed), stats, p2cZero: stats.counter('p2c/zero') }
}

describe('p2c', () => {
  it('never compares a node with itself, and takes the less loaded of the pair (ties to the first)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.integer(), (n, seed) => {
        const nodes = fakeNodes(n, (i) => (i * 7919) % 5)
        const dist = p2c().instantiate(context(seed)).build(nodes)
        for (let k = 0; k < 100; k++) {
          for (const x of nodes) x.reads = 0
          const picked = dist.pick()
          const read = nodes.filter((x) => x.reads > 0)
          const [a, b] = read
          if (read.length !== 2 || a!.reads !== 1 || b!.reads !== 1) return false
          if (picked !== a && picked !== b) return false
          if (picked.loadValue !== Math.min(a!.loadValue, b!.loadValue)) return false
        }
        return true
      }),
      { numRuns: 40 },
    )
  })

  it('samples every node equally often', () => {
    const nodes = fakeNodes(5)
    const ctx = context(9)
    const dist = p2c().instantiate(ctx).build(nodes)
    for (let k = 0; k < 50_000; k++) dist.pick()
    // Every pick reads two distinct nodes: each node is in 2/5 of the pairs.
    for (const x of nodes) expect(x.reads / 50_000).toBeCloseTo(0.4, 1)
    // All loads were 0: every comparison was uninformative.
    expect((ctx.stats as ReturnType<typeof inMemoryStats>).counterValue('p2c/zero')).toBe(50_000)
  })

  it('compares status before load', () => {
    const nodes = fakeNodes(2, (i) => (i === 0 ? 100 : 0))
    nodes[1]!.statusValue = 'busy'
    const dist = p2c().instantiate(context()).build(nodes)
    for (let k = 0; k < 20; k++) expect(dist.pick().key).toBe('n0')
    expect(nodes[0]!.reads + nodes[1]!.reads).toBe(0)
  })

  it('Finagle P2CSuite: 100 nodes × 100 000 requests, every load within ±10 of the mean', () => {
    const { lb } = make(p2c(), 100, 4)
    for (let k = 0; k < 100_000; k++) lb.acquire()
    const loads = lb.endpoints().map((e) => e.pending)
    for (const l of loads) expect(Math.abs(l - 1000)).toBeLessThanOrEqual(10)
  })

  it('maxEffort 0 (Paranoid) panics on every request', () => {
    const { lb, stats } = make(p2c({ maxEffort: 0 }), 3)
    for (let k = 0; k < 5; k++) lb.acquire()
    expect(stats.counterValue('loadbalancer/panicked')).toBe(5)
  })

  it('PanicMode: maxEffort 1..5 at 10/30/40/50/>50 % unhealthy is the smallest k with (u²)^k ≤ 1 %', () => {
    const smallest = (u: number) => {
      let k = 1
      while ((u * u) ** k > 0.01 + 1e-9) k++ // (u²)^k ≤ 1 %
      return k
    }
    expect(PanicMode.Paranoid).toBe(0)
    expect(PanicMode.TenPercentUnhealthy).toBe(smallest(0.1))
    expect(PanicMode.ThirtyPercentUnhealthy).toBe(smallest(0.3))
    expect(PanicMode.FortyPercentUnhealthy).toBe(smallest(0.4))
    expect(PanicMode.FiftyPercentUnhealthy).toBe(smallest(0.5))
    expect(PanicMode.MajorityUnhealthy).toBe(5)
    expect(p2c().maxEffort).toBe(PanicMode.FiftyPercentUnhealthy)
    expect(roundRobin().maxEffort).toBe(PanicMode.MajorityUnhealthy)
  })

  it('PanicMode: at its threshold a preset panics on at most about 1 % of requests', () => {
    for (const [u, maxEffort] of [
      [0.1, PanicMode.TenPercentUnhealthy],
      [0.3, PanicMode.ThirtyPercentUnhealthy],
      [0.5, PanicMode.FiftyPercentUnhealthy],
    ] as const) {
      const { lb, eps, stats } = make(p2c({ maxEffort }), 100, 7)
      for (let i = 0; i < 100 * u; i++) eps.status.set(keyOf(i), 'busy')
      const n = 20_000
      for (let k = 0; k < n; k++) lb.acquire().release()
      expect(stats.counterValue('loadbalancer/panicked') / n).toBeLessThan(0.0125)
    }
  })

  it('rejects a bad maxEffort', () => {
    expect(() => p2c({ maxEffort: -1 })).toThrow(InvalidOptionError)
    expect(() => roundRobin({ maxEffort: 1.5 })).toThrow(
      'roundRobin: maxEffort must be an integer ≥ 0, got 1.5',
    )
  })
})

describe('Ema', () => {
  it('the first sample sets the value; later ones mix with weight 1 − e^(−Δt/τ)', () => {
    const e = new Ema(1000)
    expect(e.update(0, 10)).toBe(10)
    expect(e.update(1000, 0)).toBeCloseTo(10 * Math.exp(-1), 12)
    expect(e.update(1000, 50)).toBeCloseTo(10 * Math.exp(-1), 12) // same instant: weight 0
    e.reset()
    expect(e.update(2000, 7)).toBe(7)
  })
})

describe('peakEwma load', () => {
  const tau = 1000
  // One node's metric with its outstanding count kept as the balancer keeps it.
  const ewmaNode = (clock: ReturnType<typeof manualClock>) => {
    const meter = peakEwma({ decayTimeMs: tau }).create(clock)
    const state = { pending: 0, metricSlot: 0 }
    meter.init(state)
    return {
      start: () => {
        state.pending++
        return meter.start(state)
      },
      end: (stamp: number) => {
        state.pending--
        meter.end(state, stamp)
      },
      load: () => meter.load(state),
    }
  }

  it('jumps up to a slower sample at once and decays with time constant τ', () => {
    const clock = manualClock()
    const l = ewmaNode(clock)
    expect(l.load()).toBe(0)
    let s = l.start()
    clock.advance(100)
    l.end(s)
    expect(l.load()).toBeCloseTo(100, 9)
    s = l.start()
    clock.advance(500)
    l.end(s)
    expect(l.load()).toBe(500) // the peak is adopted at once, not averaged
    clock.advance(tau)
    expect(l.load()).toBeCloseTo(500 * Math.exp(-1), 9)
    clock.advance(tau * Math.log(2))
    expect(l.load()).toBeCloseTo(250 * Math.exp(-1), 9) // half-life τ·ln 2
  })

  it('decay composes: reading in between does not change where it ends', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 10 }), (gaps) => {
        const clock = manualClock()
        const l = ewmaNode(clock)
        const s = l.start()
        clock.advance(400)
        l.end(s)
        let total = 0
        for (const g of gaps) {
          clock.advance(g)
          total += g
          l.load()
        }
        expect(l.load()).toBeCloseTo(400 * Math.exp(-total / tau), 6)
      }),
    )
  })

  it('a faster sample only pulls the average down', () => {
    const clock = manualClock()
    const l = ewmaNode(clock)
    let s = l.start()
    clock.advance(300)
    l.end(s)
    s = l.start()
    clock.advance(100)
    l.end(s)
    // cost = 100·(1 − w) + 300·w, w = e^(−100/τ) (the last observation was 100 ms earlier)
    const w = Math.exp(-100 / tau)
    expect(l.load()).toBeCloseTo(100 * (1 - w) + 300 * w, 9)
  })

  it('costs (outstanding + 1) × rtt, and a huge penalty while a node has requests but no sample', () => {
    const clock = manualClock()
    const l = ewmaNode(clock)
    l.start()
    l.start()
    expect(l.load()).toBe(PEAK_EWMA_PENALTY_MS + 2)
    const s = l.start()
    clock.advance(50)
    l.end(s)
    expect(l.load()).toBeCloseTo(50 * 3, 9)
  })

  it('rejects a bad decay time', () => {
    expect(() => peakEwma({ decayTimeMs: 0 })).toThrow(InvalidOptionError)
    expect(() => p2cPeakEwma({ decayTimeMs: Number.NaN })).toThrow('peakEwma: decayTimeMs')
  })
})

describe('p2cPeakEwma balancer', () => {
  it('probes a node without latency history at most once', () => {
    const { lb, clock } = make(p2cPeakEwma(), 10, 2)
    // Give every node a history of 10 ms.
    for (let k = 0; k < 100; k++) {
      const l = lb.acquire()
      clock.advance(10)
      l.release()
    }
    lb.update([...addresses(10), { host: 'new', port: 80 }])
    const held: Lease<string, string>[] = []
    for (let k = 0; k < 1000; k++) held.push(lb.acquire())
    expect(lb.endpoints().find((e) => e.key === 'new:80')!.pending).toBe(1)
  })

  it('a node that replaces a removed one starts without history', () => {
    const { lb, clock } = make(p2cPeakEwma(), 3, 2)
    for (let k = 0; k < 30; k++) {
      const l = lb.acquire()
      clock.advance(10)
      l.release()
    }
    expect(lb.endpoints().every((e) => e.load > 0)).toBe(true)
    for (let round = 0; round < 20; round++) {
      // Replace the last node by a new one, again and again: state never leaks from the old one.
      lb.update([...addresses(2), { host: `new-${round}`, port: 80 }])
      const fresh = lb.endpoints()[2]!
      expect(fresh.load).toBe(0)
      expect(lb.endpoints()[0]!.load).toBeGreaterThan(0)
      const held = lb.acquire()
      clock.advance(10)
      held.release()
    }
  })

  it('a node with twice the latency receives about half the load', () => {
    const { lb, clock } = make(p2cPeakEwma({ decayTimeMs: 10_000 }), 10, 3)
    const counts = new Map<string, number>()
    for (let t = 0; t < 30_000; t++) {
      clock.advanceTo(t)
      const l = lb.acquire()
      const slow = l.address.host === '10.0.0.1'
      counts.set(l.address.host, (counts.get(l.address.host) ?? 0) + 1)
      clock.setTimeout(() => l.release(), slow ? 20 : 10)
    }
    const slow = counts.get('10.0.0.1')!
    const others =
      ([...counts.entries()].filter(([h]) => h !== '10.0.0.1').reduce((a, [, c]) => a + c, 0) / 9) | 0
    expect(slow / others).toBeGreaterThan(0.3)
    expect(slow / others).toBeLessThan(0.7)
  })
})

describe('heap', () => {
  it('always takes a least-loaded open node, whatever the sequence of picks, releases and status changes', () => {
    type Op =
      | { kind: 'acquire' }
      | { kind: 'release'; index: number }
      | { kind: 'status'; node: number; s: Status }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.constant<Op>({ kind: 'acquire' }),
      fc.constant<Op>({ kind: 'acquire' }),
      fc.nat().map<Op>((index) => ({ kind: 'release', index })),
      fc
        .record({ node: fc.nat({ max: 7 }), s: fc.constantFrom<Status>('open', 'open', 'busy', 'closed') })
        .map<Op>(({ node, s }) => ({ kind: 'status', node, s })),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(op, { maxLength: 120 }),
        fc.integer(),
        (n, ops, seed) => {
          const { lb, eps } = make(heap(), n, seed)
          const held: Lease<string, string>[] = []
          for (const o of ops) {
            if (o.kind === 'acquire') {
              const before = lb.endpoints()
              const open = before.filter((e) => e.status === 'open')
              const l = lb.acquire()
              const key = `${l.address.host}:${l.address.port}`
              if (open.length > 0) {
                const min = Math.min(...open.map((e) => e.pending))
                const chosen = before.find((e) => e.key === key)!
                expect(chosen.status).toBe('open')
                expect(chosen.pending).toBe(min)
              }
              held.push(l)
            } else if (o.kind === 'release' && held.length > 0) {
              held.splice(o.index % held.length, 1)[0]!.release()
            } else if (o.kind === 'status' && o.node < n) {
              eps.status.set(keyOf(o.node), o.s)
            }
          }
          for (const l of held) l.release()
          expect(lb.endpoints().every((e) => e.pending === 0)).toBe(true)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('spreads picks over idle nodes instead of returning to one', () => {
    const { lb } = make(heap(), 4, 1)
    const seen = new Set<string>()
    for (let k = 0; k < 100; k++) {
      const l = lb.acquire()
      seen.add(l.address.host)
      l.release()
    }
    expect(seen.size).toBe(4)
  })
})

describe('roundRobin', () => {
  it('takes the open nodes in turn, drops a node that goes down and takes it back when it returns', () => {
    const { lb, eps } = make(roundRobin(), 3)
    const take = (k: number) => Array.from({ length: k }, () => lb.acquire().address.host)
    const first = take(6)
    expect(new Set(first.slice(0, 3)).size).toBe(3)
    expect(first.slice(3)).toEqual(first.slice(0, 3))
    eps.status.set(keyOf(1), 'busy')
    expect(take(10)).not.toContain('10.0.0.2')
    eps.status.set(keyOf(1), 'open')
    take(1) // notices the node came back and rebuilds
    expect(take(6)).toContain('10.0.0.2')
  })
})

describe('aperture', () => {
  it('widens to about concurrency ÷ highLoad, narrows when load falls, never below minAperture', () => {
    const { lb, clock, stats } = make(aperture({ minAperture: 2, smoothWinMs: 500 }), 20, 5)
    const logical = () => stats.gaugeValue('loadbalancer/logical_aperture')!
    expect(logical()).toBe(2)
    const held: Lease<string, string>[] = []
    const steady = (concurrency: number, ms: number, watch: (l: number) => void) => {
      for (let t = 0; t < ms; t++) {
        clock.advance(1)
        while (held.length >= concurrency) held.shift()!.release()
        while (held.length < concurrency) held.push(lb.acquire())
        watch(logical())
      }
    }
    let max = 0
    steady(8, 10_000, (l) => {
      max = Math.max(max, l)
    })
    // 8 outstanding: stable where 8 / aperture is inside the band (0.875, 1.125): 8 or 9.
    expect(logical()).toBeGreaterThanOrEqual(7)
    expect(logical()).toBeLessThanOrEqual(9)
    expect(stats.counterValue('loadbalancer/loadband/widen')).toBeGreaterThan(0)
    let min = Number.POSITIVE_INFINITY
    steady(1, 10_000, (l) => {
      min = Math.min(min, l)
    })
    expect(logical()).toBe(2)
    expect(min).toBe(2)
    expect(stats.counterValue('loadbalancer/loadband/narrow')).toBeGreaterThan(0)
    expect(stats.gaugeValue('loadbalancer/use_deterministic_ordering')).toBe(0)
  })

  it('random aperture sends only to nodes inside the aperture', () => {
    const { lb, stats } = make(aperture({ minAperture: 3 }), 12, 8)
    const seen = new Set<string>()
    for (let k = 0; k < 500; k++) {
      const l = lb.acquire()
      seen.add(l.address.host)
      l.release()
    }
    expect(stats.gaugeValue('loadbalancer/logical_aperture')).toBe(3)
    expect(seen.size).toBe(3)
  })

  it('deterministic aperture: 100 clients × 30 servers use 12–13 servers each and load every server evenly', () => {
    const perServer = new Map<string, number>()
    let connections = 0
    for (let id = 0; id < 100; id++) {
      const { lb, stats } = make(aperture({ coordinate: { instanceId: id, totalInstances: 100 } }), 30, id)
      const physical = stats.gaugeValue('loadbalancer/physical_aperture')!
      expect(physical).toBeGreaterThanOrEqual(12)
      expect(physical).toBeLessThanOrEqual(13)
      connections += physical
      for (let k = 0; k < 3000; k++) {
        const l = lb.acquire()
        perServer.set(l.address.host, (perServer.get(l.address.host) ?? 0) + 1)
        l.release()
      }
    }
    expect(connections).toBeLessThan(1400) // vs 3 000 for a full mesh
    const counts = [...perServer.values()]
    expect(counts).toHaveLength(30)
    const mean = (100 * 3000) / 30
    for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1)
  })

  it('deterministic aperture: 10 clients × 100 servers take 20 servers each; the order does not depend on input order', () => {
    const set = (coordinate: { instanceId: number; totalInstances: number }, reverse: boolean) => {
      const eps = fakeEndpoints()
      const lb = balancer({
        addresses: reverse ? addresses(100).reverse() : addresses(100),
        connect: eps.connect,
        algorithm: aperture({ coordinate }),
        random: seededRandom(1),
      })
      const seen = new Set<string>()
      for (let k = 0; k < 4000; k++) {
        const l = lb.acquire()
        seen.add(l.address.host)
        l.release()
      }
      return [...seen].sort()
    }
    const a = set({ instanceId: 3, totalInstances: 10 }, false)
    expect(a.length).toBeGreaterThanOrEqual(20)
    expect(a.length).toBeLessThanOrEqual(21)
    expect(set({ instanceId: 3, totalInstances: 10 }, true)).toEqual(a)
    expect(set({ instanceId: 4, totalInstances: 10 }, false)).not.toEqual(a)
  })

  it('weighted: a node of weight 2 gets about twice the picks of weight-1 nodes', () => {
    const eps = fakeEndpoints()
    const lb = balancer({
      addresses: [{ host: 'heavy', port: 1, weight: 2 }, ...addresses(4)],
      connect: eps.connect,
      algorithm: aperture({ minAperture: 5 }),
      random: seededRandom(3),
    })
    const counts = new Map<string, number>()
    for (let k = 0; k < 60_000; k++) {
      const l = lb.acquire()
      counts.set(l.address.host, (counts.get(l.address.host) ?? 0) + 1)
      l.release()
    }
    const light = (60_000 - counts.get('heavy')!) / 4
    expect(counts.get('heavy')! / light).toBeGreaterThan(1.7)
    expect(counts.get('heavy')! / light).toBeLessThan(2.3)
  })

  it('rejects options out of range, naming the option', () => {
    expect(() => aperture({ lowLoad: 2, highLoad: 1 })).toThrow('aperture: lowLoad must be')
    expect(() => aperture({ minAperture: 0 })).toThrow(InvalidOptionError)
    expect(() => aperture({ coordinate: { instanceId: 5, totalInstances: 5 } })).toThrow(
      'aperture: coordinate.instanceId must be an integer in [0, 5), got 5',
    )
  })
})
