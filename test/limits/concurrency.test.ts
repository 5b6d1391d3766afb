import { describe, expect, it } from 'vitest'
import { isRequeueable, Service } from '../../src/core/index.js'
import { concurrencyLimit, RejectedError } from '../../src/limits/index.js'
import { inMemoryStats } from '../../src/stats/index.js'

/** A service whose calls finish only when the test says so, in any order. */
function gated() {
  const open: { req: string; finish: () => void }[] = []
  const started: string[] = []
  const svc = Service.of(
    (req: string) =>
      new Promise<string>((resolve) => {
        started.push(req)
        open.push({ req, finish: () => resolve(req) })
      }),
  )
  const finish = (req: string) => open.find((o) => o.req === req)!.finish()
  return { svc, started, finish }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('concurrencyLimit', () => {
  it('runs maxConcurrent at once, queues maxPending in order, rejects the rest as requeueable', async () => {
    const stats = inMemoryStats()
    const g = gated()
    const svc = concurrencyLimit<string, string>({ maxConcurrent: 2, maxPending: 1, stats })(g.svc)
    const a = svc('a')
    const b = svc('b')
    const c = svc('c')
    const d = svc('d').catch((e: unknown) => e)
    expect(g.started).toEqual(['a', 'b'])
    expect(stats.gaugeValue('request_concurrency')).toBe(2)
    expect(stats.gaugeValue('request_queue_size')).toBe(1)
    const rejected = await d
    expect(rejected).toBeInstanceOf(RejectedError)
    expect((rejected as RejectedError).code).toBe('Rejected')
    expect(isRequeueable(rejected)).toBe(true)
    expect(stats.counterValue('dropped_requests')).toBe(1)
    g.finish('b')
    expect(await b).toBe('b')
    await tick()
    expect(g.started).toEqual(['a', 'b', 'c'])
    g.finish('a')
    g.finish('c')
    expect([await a, await c]).toEqual(['a', 'c'])
    expect(stats.gaugeValue('request_concurrency')).toBe(0)
    await svc.close()
    expect(stats.gaugeValue('request_concurrency')).toBeUndefined()
  })

  it('a failed request frees its slot too', async () => {
    let fail = true
    const svc = concurrencyLimit<string, string>({ maxConcurrent: 1 })(
      Service.of(async (s: string) => {
        if (fail) throw new Error('boom')
        return s
      }),
    )
    await expect(svc('a')).rejects.toThrow('boom')
    fail = false
    expect(await svc('b')).toBe('b')
  })

  it('a waiting request whose signal aborts leaves the queue and does not take a slot', async () => {
    const stats = inMemoryStats()
    const g = gated()
    const svc = concurrencyLimit<string, string>({ maxConcurrent: 1, maxPending: 5, stats })(g.svc)
    const a = svc('a')
    const ac = new AbortController()
    const b = svc('b', ac.signal)
    const c = svc('c')
    ac.abort('gone')
    await expect(b).rejects.toBe('gone')
    expect(stats.gaugeValue('request_queue_size')).toBe(1)
    g.finish('a')
    await a
    await tick()
    expect(g.started).toEqual(['a', 'c'])
    g.finish('c')
    await c
    expect(stats.gaugeValue('request_concurrency')).toBe(0)
  })

  it('validates its options', () => {
    expect(() => concurrencyLimit({ maxConcurrent: 0 })).toThrow(
      'concurrencyLimit: maxConcurrent must be an integer >= 1, got 0',
    )
    expect(() => concurrencyLimit({ maxConcurrent: 1, maxPending: -1 })).toThrow('maxPending')
  })
})
