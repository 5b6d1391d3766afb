import { describe, expect, it } from 'vitest'
import {
  FailureFlags,
  hasFailureFlags,
  manualClock,
  Service,
  ServiceClosedError,
  type Status,
  SwitchboardError,
} from '../../src/core/index.js'
import { Backoff, RetryBudget, requeues, retries, retryBudget } from '../../src/retry/index.js'
import { inMemoryStats } from '../../src/stats/index.js'

class Refused extends SwitchboardError {
  constructor() {
    super('Refused', 'connection refused', { failureFlags: FailureFlags.Retryable | FailureFlags.Rejected })
  }
}

function scripted(outcomes: ('refused' | 'ok' | 'reset')[], status: () => Status = () => 'open') {
  let i = 0
  const svc = Service.of(
    async (_: string) => {
      const o = outcomes[Math.min(i++, outcomes.length - 1)]
      if (o === 'refused') throw new Refused()
      if (o === 'reset') throw new Error('connection reset')
      return 'ok'
    },
    { status },
  )
  return { svc, calls: () => i }
}

describe('requeues', () => {
  it('budget(1 s, 10, 0), cap 0.5 × balance: exactly 5 requeues, then NonRetryable, no budget_exhausted', async () => {
    const stats = inMemoryStats()
    const budget = retryBudget({
      clock: manualClock(),
      ttlMs: 1000,
      minRetriesPerSec: 10,
      percentCanRetry: 0,
    })
    const { svc, calls } = scripted(['refused'])
    const client = requeues<string, string>({ budget, maxRequeuesPerRequest: 0.5, stats })(svc)
    const err = await client('x').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Refused)
    expect(hasFailureFlags(err, FailureFlags.NonRetryable)).toBe(true)
    expect(hasFailureFlags(err, FailureFlags.Retryable)).toBe(false)
    expect(calls()).toBe(6)
    expect(stats.counterValue('retries/requeues')).toBe(5)
    expect(stats.counterValue('retries/budget_exhausted')).toBe(0)
    expect(stats.counterValue('retries/request_limit')).toBe(1)
    expect(stats.statSummary('retries/requeues_per_request')?.max).toBe(5)
  })

  it('budget(1 s, 10, 0), cap 2.0 × balance: 10 requeues, then budget_exhausted', async () => {
    const stats = inMemoryStats()
    const budget = retryBudget({
      clock: manualClock(),
      ttlMs: 1000,
      minRetriesPerSec: 10,
      percentCanRetry: 0,
    })
    const { svc } = scripted(['refused'])
    const client = requeues<string, string>({ budget, maxRequeuesPerRequest: 2, stats })(svc)
    const err = await client('x').catch((e: unknown) => e)
    expect(hasFailureFlags(err, FailureFlags.NonRetryable)).toBe(true)
    expect(stats.counterValue('retries/requeues')).toBe(10)
    expect(stats.counterValue('retries/budget_exhausted')).toBe(1)
    expect(stats.gaugeValue('retries/budget')).toBe(0)
  })

  it('re-sends requeueable failures at once and answers with the first success', async () => {
    const { svc, calls } = scripted(['refused', 'refused', 'ok'])
    const client = requeues<string, string>({ budget: RetryBudget.infinite })(svc)
    expect(await client('x')).toBe('ok')
    expect(calls()).toBe(3)
  })

  it('a node closed when picked is requeued (ServiceClosedError is Retryable)', async () => {
    let first = true
    const svc = Service.of(async (_: string) => {
      if (first) {
        first = false
        throw new ServiceClosedError()
      }
      return 'ok'
    })
    expect(await requeues<string, string>({ budget: RetryBudget.infinite })(svc)('x')).toBe('ok')
  })

  it('leaves failures that may have reached the server alone', async () => {
    const { svc, calls } = scripted(['reset', 'ok'])
    const client = requeues<string, string>({ budget: RetryBudget.infinite })(svc)
    await expect(client('x')).rejects.toThrow('connection reset')
    expect(calls()).toBe(1)
  })

  it('credits the budget only when the final outcome is a success', async () => {
    const clock = manualClock()
    const budget = retryBudget({ clock, minRetriesPerSec: 0, percentCanRetry: 1 })
    const { svc } = scripted(['reset', 'ok', 'ok'])
    const client = requeues<string, string>({ budget })(svc)
    await expect(client('x')).rejects.toThrow()
    expect(budget.balance).toBe(0)
    await client('x')
    await client('x')
    expect(budget.balance).toBe(2)
  })

  it('gives up at once when the service below is not open', async () => {
    const stats = inMemoryStats()
    const { svc, calls } = scripted(['refused', 'ok'], () => 'busy')
    const client = requeues<string, string>({ budget: RetryBudget.infinite, stats })(svc)
    await expect(client('x')).rejects.toBeInstanceOf(Refused)
    expect(calls()).toBe(1)
    expect(stats.counterValue('retries/cannot_retry')).toBe(1)
  })

  it('waits a non-zero backoff on the scheduler, and the gauge is removed on close', async () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const { svc, calls } = scripted(['refused', 'ok'])
    const client = requeues<string, string>({
      budget: RetryBudget.infinite,
      backoff: Backoff.constant(25),
      scheduler: clock,
      stats,
    })(svc)
    const p = client('x')
    await new Promise((r) => setImmediate(r))
    expect(calls()).toBe(1)
    clock.advance(25)
    expect(await p).toBe('ok')
    expect(stats.gaugeValue('retries/budget')).toBe(100)
    await client.close()
    expect(stats.gaugeValue('retries/budget')).toBeUndefined()
  })

  it('with retries above on one shared budget, each request deposits once', async () => {
    const clock = manualClock()
    const budget = retryBudget({ clock, minRetriesPerSec: 0, percentCanRetry: 1 })
    const { svc } = scripted(['ok'])
    const client = retries<string, string>({ budget })(
      requeues<string, string>({ budget: RetryBudget.withdrawOnly(budget) })(svc),
    )
    await client('a')
    await client('b')
    expect(budget.balance).toBe(2)
  })

  it('a requeue failure it gave up on is not retried by a retries filter above', async () => {
    const stats = inMemoryStats()
    const { svc, calls } = scripted(['refused'])
    const budget = retryBudget({ clock: manualClock(), ttlMs: 1000, minRetriesPerSec: 2, percentCanRetry: 0 })
    const client = retries<string, string>({
      budget,
      backoff: Backoff.constant(0),
      stats: stats.scope('logical'),
    })(
      requeues<string, string>({
        budget: RetryBudget.withdrawOnly(budget),
        maxRequeuesPerRequest: 10,
        stats,
      })(svc),
    )
    await expect(client('x')).rejects.toBeInstanceOf(Refused)
    expect(calls()).toBe(3)
    expect(stats.counterValue('logical/retries')).toBe(0)
  })
})
