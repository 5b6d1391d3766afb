import { describe, expect, it } from 'vitest'
import { InvalidOptionError, manualClock, Service } from '../../src/core/index.js'
import { Backoff, RetryBudget, retries, retryBudget } from '../../src/retry/index.js'
import { inMemoryStats } from '../../src/stats/index.js'

describe('retryBudget', () => {
  it('starts with the reserve: minRetriesPerSec × ttl seconds', () => {
    const clock = manualClock()
    expect(retryBudget({ clock }).balance).toBe(100)
    expect(retryBudget({ clock, ttlMs: 1000, minRetriesPerSec: 10, percentCanRetry: 0 }).balance).toBe(10)
    expect(retryBudget({ clock, ttlMs: 60_000, minRetriesPerSec: 1 }).balance).toBe(60)
  })

  it('is RetryBudget.empty when both knobs are 0', () => {
    const b = retryBudget({ minRetriesPerSec: 0, percentCanRetry: 0 })
    expect(b).toBe(RetryBudget.empty)
    b.deposit()
    expect(b.tryWithdraw()).toBe(false)
    expect(b.balance).toBe(0)
  })

  it('frozen time, N deposit+withdraw cycles: retries = N × percent + reserve (±1)', () => {
    for (const [percent, n] of [
      [0.2, 1000],
      [0.1, 5000],
      [0.5, 333],
      [1, 77],
    ] as const) {
      const b = retryBudget({ clock: manualClock(), percentCanRetry: percent })
      let retries = 0
      for (let i = 0; i < n; i++) {
        b.deposit()
        if (b.tryWithdraw()) retries++
      }
      while (b.tryWithdraw()) retries++
      expect(Math.abs(retries - (n * percent + 100))).toBeLessThanOrEqual(1)
    }
  })

  it('percentCanRetry 2.0 allows two retries per deposit', () => {
    const b = retryBudget({ clock: manualClock(), minRetriesPerSec: 0, percentCanRetry: 2 })
    b.deposit()
    expect(b.balance).toBe(2)
    expect([b.tryWithdraw(), b.tryWithdraw(), b.tryWithdraw()]).toEqual([true, true, false])
  })

  it('withdrawals age out after 9 to 10 slices of ttl/10, which refills the reserve', () => {
    const clock = manualClock()
    const b = retryBudget({ clock, percentCanRetry: 0.2 })
    while (b.tryWithdraw()) {}
    expect(b.balance).toBe(0)
    clock.advance(8_999)
    expect(b.balance).toBe(0)
    clock.advance(1_001)
    expect(b.balance).toBe(100)
  })

  it('deposits also expire: credit lasts one ttl', () => {
    const clock = manualClock()
    const b = retryBudget({ clock, minRetriesPerSec: 0, percentCanRetry: 1 })
    for (let i = 0; i < 10; i++) b.deposit()
    expect(b.balance).toBe(10)
    clock.advance(10_000)
    expect(b.balance).toBe(0)
  })

  it('validates its options with the range in the message', () => {
    expect(() => retryBudget({ ttlMs: 999 })).toThrow(InvalidOptionError)
    expect(() => retryBudget({ ttlMs: 60_001 })).toThrow(
      'retryBudget: ttlMs must be a number between 1000 and 60000',
    )
    expect(() => retryBudget({ minRetriesPerSec: -1 })).toThrow('minRetriesPerSec')
    expect(() => retryBudget({ percentCanRetry: 1001 })).toThrow('percentCanRetry')
  })

  it('withdrawOnly shares the balance but ignores deposits', () => {
    const b = retryBudget({ clock: manualClock(), minRetriesPerSec: 0, percentCanRetry: 1 })
    const view = RetryBudget.withdrawOnly(b)
    view.deposit()
    expect(b.balance).toBe(0)
    b.deposit()
    expect(view.balance).toBe(1)
    expect(view.tryWithdraw()).toBe(true)
    expect(b.balance).toBe(0)
  })

  it('budget math: at 1,000 req/s with every request failing, retries settle at 20% + 10/s (±5%)', async () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const budget = retryBudget({ clock })
    const down = new Error('down') // one object: stack capture per attempt would dominate the run time
    const failing = Service.of<number, never>(async () => {
      throw down
    })
    const client = retries<number, never>({
      budget,
      maxRetries: 10,
      backoff: Backoff.constant(0),
      classifier: () => ({ kind: 'failed', retryable: true }),
      stats,
    })(failing)
    const run = async (seconds: number) => {
      for (let ms = 0; ms < seconds * 1000; ms++) {
        await client(ms).catch(() => {})
        clock.advance(1)
      }
    }
    await run(30) // warm-up: spend the initial reserve, fill the window
    const before = stats.counterValue('retries')
    await run(30)
    const perSecond = (stats.counterValue('retries') - before) / 30
    expect(Math.abs(perSecond - 210) / 210).toBeLessThanOrEqual(0.05)
    console.log(`budget math: ${perSecond.toFixed(1)} retries/s at 1000 req/s, all failing (expected 210)`)
  })
})
