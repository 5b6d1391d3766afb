import { describe, expect, it } from 'vitest'
import {
  FailureFlags,
  hasFailureFlags,
  manualClock,
  type Service,
  Service as Svc,
  SwitchboardError,
  withFailureFlags,
} from '../../src/core/index.js'
import {
  Backoff,
  ResponseClass,
  type ResponseClassifier,
  RetryBudget,
  retries,
  retryBudget,
} from '../../src/retry/index.js'
import { inMemoryStats } from '../../src/stats/index.js'

class Flaky extends SwitchboardError {
  constructor(flags = FailureFlags.Retryable) {
    super('Flaky', 'flaky', { failureFlags: flags })
  }
}

/** A service that fails `failures` times with `error`, then answers the attempt number. */
function failingThenOk(failures: number, error: unknown = new Flaky()) {
  let calls = 0
  const svc = Svc.of(async (_req: string) => {
    calls++
    if (calls <= failures) throw error
    return calls
  })
  return { svc, calls: () => calls }
}

/** Drains microtasks and due timers until `p` settles. */
async function run<T>(clock: ReturnType<typeof manualClock>, p: Promise<T>): Promise<T> {
  let done = false
  p.then(
    () => {
      done = true
    },
    () => {
      done = true
    },
  )
  for (let i = 0; i < 1000 && !done; i++) {
    await new Promise((r) => setImmediate(r))
    if (!done && clock.nextAt() !== undefined) clock.runNext()
  }
  return p
}

describe('retries', () => {
  it('retries a retryable failure, waiting the backoff between tries', async () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const { svc, calls } = failingThenOk(2)
    const client = retries<string, number>({
      budget: RetryBudget.infinite,
      backoff: Backoff.of(10, 30),
      scheduler: clock,
      stats,
    })(svc)
    expect(await run(clock, client('x'))).toBe(3)
    expect(calls()).toBe(3)
    expect(clock.now()).toBe(40)
    expect(stats.counterValue('retries')).toBe(2)
    expect(stats.statSummary('retries/per_request')?.max).toBe(2)
    expect(clock.pending).toBe(0)
  })

  it('stops at maxRetries and returns the last failure as it is', async () => {
    const clock = manualClock()
    const err = new Flaky()
    const { svc, calls } = failingThenOk(10, err)
    const client = retries<string, number>({ budget: RetryBudget.infinite, maxRetries: 2, scheduler: clock })(
      svc,
    )
    await expect(run(clock, client('x'))).rejects.toBe(err)
    expect(calls()).toBe(3)
  })

  it('does not retry what the default classifier calls non-retryable (a plain error)', async () => {
    const err = new Error('plain')
    const { svc, calls } = failingThenOk(1, err)
    const client = retries<string, number>({ budget: RetryBudget.infinite, backoff: Backoff.constant(0) })(
      svc,
    )
    await expect(client('x')).rejects.toBe(err)
    expect(calls()).toBe(1)
  })

  it('never retries an error flagged NonRetryable or Interrupted, whatever the classifier says', async () => {
    for (const err of [
      new Flaky(FailureFlags.NonRetryable),
      new Flaky(FailureFlags.Retryable | FailureFlags.Interrupted),
    ]) {
      const { svc, calls } = failingThenOk(1, err)
      const client = retries<string, number>({
        budget: RetryBudget.infinite,
        classifier: (rr) => (rr.ok ? undefined : ResponseClass.RetryableFailure),
        backoff: Backoff.constant(0),
      })(svc)
      await expect(client('x')).rejects.toBe(err)
      expect(calls()).toBe(1)
    }
  })

  it('never retries a request whose body cannot be replayed', async () => {
    const stats = inMemoryStats()
    const err = new Flaky()
    const { svc, calls } = failingThenOk(1, err)
    const client = retries<string, number>({
      budget: RetryBudget.infinite,
      backoff: Backoff.constant(0),
      canRetry: (req) => req !== 'stream',
      stats,
    })(svc)
    await expect(client('stream')).rejects.toBe(err)
    expect(calls()).toBe(1)
    expect(stats.counterValue('retries/not_replayable')).toBe(1)
    expect(await client('buffer')).toBe(2)
  })

  it('when the budget is empty, returns the failure flagged NonRetryable and counts it', async () => {
    const stats = inMemoryStats()
    const err = new Flaky()
    const { svc } = failingThenOk(100, err)
    const client = retries<string, number>({
      budget: RetryBudget.empty,
      backoff: Backoff.constant(0),
      stats,
    })(svc)
    const caught = await client('x').catch((e: unknown) => e)
    expect(caught).toBeInstanceOf(Flaky)
    expect(caught).not.toBe(err)
    expect(hasFailureFlags(caught, FailureFlags.NonRetryable)).toBe(true)
    expect(hasFailureFlags(err, FailureFlags.NonRetryable)).toBe(false)
    expect(stats.counterValue('retries/budget_exhausted')).toBe(1)
    expect(stats.counterValue('retries')).toBe(0)
  })

  it('retries responses the classifier calls retryable, discarding them, and returns the last one', async () => {
    let n = 0
    const svc = Svc.of(async (_: string) => ({ status: ++n < 5 ? 503 : 200, n }))
    const discarded: number[] = []
    const fiveHundreds: ResponseClassifier<string, { status: number; n: number }> = (rr) =>
      rr.ok && rr.response.status >= 500 ? ResponseClass.RetryableFailure : undefined
    const client = retries({
      classifier: fiveHundreds,
      budget: RetryBudget.infinite,
      backoff: Backoff.constant(0),
      maxRetries: 2,
      discard: (rep) => discarded.push(rep.n),
    })(svc)
    expect(await client('x')).toEqual({ status: 503, n: 3 })
    expect(discarded).toEqual([1, 2])
    expect(await client('x')).toEqual({ status: 200, n: 5 })
  })

  it('an exhausted backoff ends the retries', async () => {
    const { svc, calls } = failingThenOk(10)
    const client = retries<string, number>({
      budget: RetryBudget.infinite,
      maxRetries: 5,
      backoff: Backoff.of(0),
    })(svc)
    await expect(client('x')).rejects.toBeInstanceOf(Flaky)
    expect(calls()).toBe(2)
  })

  it('an abort during the backoff wait rejects with the caller reason and leaves no timer', async () => {
    const clock = manualClock()
    const { svc, calls } = failingThenOk(10)
    const client = retries<string, number>({
      budget: RetryBudget.infinite,
      backoff: Backoff.constant(1000),
      scheduler: clock,
    })(svc)
    const ac = new AbortController()
    const p = client('x', ac.signal)
    await new Promise((r) => setImmediate(r))
    expect(clock.pending).toBe(1)
    const reason = new Error('user cancelled')
    ac.abort(reason)
    await expect(p).rejects.toBe(reason)
    expect(clock.pending).toBe(0)
    expect(calls()).toBe(1)
  })

  it('deposits once per request and withdraws once per retry from a shared budget', async () => {
    const clock = manualClock()
    const budget = retryBudget({ clock, minRetriesPerSec: 0, percentCanRetry: 0.5 })
    const stats = inMemoryStats()
    const err = new Flaky()
    const always: Service<string, number> = Svc.of(async () => {
      throw err
    })
    const client = retries<string, number>({ budget, backoff: Backoff.constant(0), maxRetries: 3, stats })(
      always,
    )
    // Two requests deposit 2 × 0.5 = 1 retry in total: the first request gets it, the second none.
    await expect(client('a')).rejects.toBeInstanceOf(Flaky)
    await expect(client('b')).rejects.toBeInstanceOf(Flaky)
    expect(stats.counterValue('retries')).toBe(1)
    expect(stats.counterValue('retries/budget_exhausted')).toBe(2)
  })

  it('rejects a bad maxRetries when built', () => {
    expect(() => retries({ maxRetries: -1 })).toThrow('retries: maxRetries must be an integer >= 0, got -1')
  })

  it('flags survive: a NonRetryable copy made below is not retried above', async () => {
    const inner = withFailureFlags(new Flaky(), FailureFlags.NonRetryable)
    const { svc, calls } = failingThenOk(5, inner)
    const client = retries<string, number>({ budget: RetryBudget.infinite, backoff: Backoff.constant(0) })(
      svc,
    )
    await expect(client('x')).rejects.toBe(inner)
    expect(calls()).toBe(1)
  })
})
