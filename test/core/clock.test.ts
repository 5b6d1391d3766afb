import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { manualClock, Status, seededRandom } from '../../src/core/index.js'

describe('manualClock', () => {
  it('runs callbacks in time order, then scheduling order, only when advanced', () => {
    const clock = manualClock()
    const order: string[] = []
    clock.setTimeout(() => order.push('b@10'), 10)
    clock.setTimeout(() => order.push('a@5'), 5)
    clock.setTimeout(() => order.push('c@10'), 10)
    const cancel = clock.setTimeout(() => order.push('never'), 7)
    cancel()
    expect(clock.pending).toBe(3)
    clock.advance(9)
    expect(order).toEqual(['a@5'])
    clock.advance(1)
    expect(order).toEqual(['a@5', 'b@10', 'c@10'])
    expect(clock.now()).toBe(10)
    expect(clock.pending).toBe(0)
  })

  it('callbacks scheduled while advancing run if due', () => {
    const clock = manualClock()
    const at: number[] = []
    clock.setTimeout(() => {
      at.push(clock.now())
      clock.setTimeout(() => at.push(clock.now()), 3)
    }, 2)
    clock.advance(10)
    expect(at).toEqual([2, 5])
    expect(clock.now()).toBe(10)
  })
})

describe('seededRandom', () => {
  it('is reproducible from its seed and stays in range', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    for (let i = 0; i < 1000; i++) {
      const x = a.next()
      expect(x).toBe(b.next())
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
    }
    expect(seededRandom(1).next()).not.toBe(seededRandom(2).next())
  })

  it('int(n) is roughly uniform', () => {
    const r = seededRandom(7)
    const counts = new Array(10).fill(0)
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500)
  })
})

describe('Status', () => {
  const status = fc.constantFrom<Status>('open', 'busy', 'closed')
  it('best and worst form a lattice: commutative, associative, idempotent, absorbing', () => {
    fc.assert(
      fc.property(status, status, status, (a, b, c) => {
        expect(Status.best(a, b)).toBe(Status.best(b, a))
        expect(Status.worst(a, b)).toBe(Status.worst(b, a))
        expect(Status.best(Status.best(a, b), c)).toBe(Status.best(a, Status.best(b, c)))
        expect(Status.worst(Status.worst(a, b), c)).toBe(Status.worst(a, Status.worst(b, c)))
        expect(Status.best(a, a)).toBe(a)
        expect(Status.best(a, Status.worst(a, b))).toBe(a)
      }),
    )
  })
  it('orders open > busy > closed', () => {
    expect(Status.best('busy', 'open')).toBe('open')
    expect(Status.worst('busy', 'closed')).toBe('closed')
    expect(Status.bestOf([])).toBe('closed')
    expect(Status.worstOf(['open', 'busy'])).toBe('busy')
    expect(['closed', 'open', 'busy'].sort((a, b) => Status.compare(a as Status, b as Status))).toEqual([
      'open',
      'busy',
      'closed',
    ])
  })
})

describe('sleep', () => {
  it('resolves after the delay on the given timer, leaving nothing scheduled', async () => {
    const { sleep } = await import('../../src/core/index.js')
    const clock = manualClock()
    let done = false
    const p = sleep(clock, 10).then(() => {
      done = true
    })
    clock.advance(9)
    await Promise.resolve()
    expect(done).toBe(false)
    clock.advance(1)
    await p
    expect(done).toBe(true)
    expect(clock.pending).toBe(0)
  })

  it('rejects with the abort reason, cancels its timer and removes its listener', async () => {
    const { sleep } = await import('../../src/core/index.js')
    const clock = manualClock()
    const ac = new AbortController()
    const p = sleep(clock, 1000, ac.signal)
    ac.abort('stop')
    await expect(p).rejects.toBe('stop')
    expect(clock.pending).toBe(0)
    await expect(sleep(clock, 5, ac.signal)).rejects.toBe('stop')
    expect(clock.pending).toBe(0)
  })
})
