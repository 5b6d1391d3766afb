import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import {
  FailureFlags,
  hasFailureFlags,
  manualClock,
  type Scheduler,
  type Service,
  Service as Svc,
  systemScheduler,
} from '../../src/core/index.js'
import { attemptTimeout, Deadline, TimeoutError, totalTimeout } from '../../src/limits/index.js'
import { Backoff, ResponseClassifier, RetryBudget, retries } from '../../src/retry/index.js'

/** A service that answers only when told to, and records the signal it was given. */
function pending<Rep>() {
  const signals: AbortSignal[] = []
  const answers: ((rep: Rep) => void)[] = []
  const svc: Service<string, Rep> = Svc.of(
    (_req, signal) =>
      new Promise<Rep>((resolve, reject) => {
        signals.push(signal!)
        answers.push(resolve)
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
      }),
  )
  return { svc, signals, answer: (i: number, rep: Rep) => answers[i]!(rep) }
}

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length

describe('attemptTimeout', () => {
  it('aborts the request below with a TimeoutError, rejects with it, and leaves nothing behind', async () => {
    const clock = manualClock()
    const below = pending<string>()
    const svc = attemptTimeout<string, string>({ timeoutMs: 50, scheduler: clock })(below.svc)
    const caller = new AbortController()
    const p = svc('x', caller.signal)
    expect(listeners(caller.signal)).toBe(1)
    clock.advance(49)
    expect(below.signals[0]!.aborted).toBe(false)
    clock.advance(1)
    const err = await p.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeoutError)
    expect(err).toMatchObject({ code: 'Timeout', kind: 'attempt', timeoutMs: 50 })
    expect((err as Error).message).toBe('attempt timeout of 50 ms exceeded')
    expect(below.signals[0]!.aborted).toBe(true)
    expect(below.signals[0]!.reason).toBe(err)
    expect(clock.pending).toBe(0)
    expect(listeners(caller.signal)).toBe(0)
  })

  it('a response in time clears the timer and the listener', async () => {
    const clock = manualClock()
    const below = pending<string>()
    const svc = attemptTimeout<string, string>({ timeoutMs: 50, scheduler: clock })(below.svc)
    const caller = new AbortController()
    const p = svc('x', caller.signal)
    below.answer(0, 'ok')
    expect(await p).toBe('ok')
    expect(clock.pending).toBe(0)
    expect(listeners(caller.signal)).toBe(0)
  })

  it("the caller's abort wins with the caller's reason, and cancels the request below", async () => {
    const clock = manualClock()
    const below = pending<string>()
    const svc = attemptTimeout<string, string>({ timeoutMs: 50, scheduler: clock })(below.svc)
    const caller = new AbortController()
    const p = svc('x', caller.signal)
    const reason = new Error('user went away')
    caller.abort(reason)
    await expect(p).rejects.toBe(reason)
    expect(below.signals[0]!.reason).toBe(reason)
    expect(clock.pending).toBe(0)
  })

  it('rejects on time even if the service ignores the signal; a late response is discarded', async () => {
    const clock = manualClock()
    let answer: ((s: string) => void) | undefined
    const deaf = Svc.of(
      (_: string) =>
        new Promise<string>((r) => {
          answer = r
        }),
    )
    const discarded: string[] = []
    const svc = attemptTimeout<string, string>({
      timeoutMs: 10,
      scheduler: clock,
      discard: (r) => discarded.push(r),
    })(deaf)
    const p = svc('x')
    clock.advance(10)
    await expect(p).rejects.toBeInstanceOf(TimeoutError)
    answer?.('late')
    await new Promise((r) => setImmediate(r))
    expect(discarded).toEqual(['late'])
  })

  it('with real timers, no timer stays live after the request, timed out or not', async () => {
    // systemScheduler's handles are unref'd, so process.getActiveResourcesInfo() does not list them;
    // count them at the scheduler instead.
    let live = 0
    const counting: Scheduler = {
      now: systemScheduler.now,
      setTimeout(fn, ms) {
        live++
        let done = false
        const cancel = systemScheduler.setTimeout(() => {
          done = true
          live--
          fn()
        }, ms)
        return () => {
          if (!done) live--
          done = true
          cancel()
        }
      },
    }
    const fast = attemptTimeout<string, string>({ timeoutMs: 10_000, scheduler: counting })(
      Svc.of(async (s: string) => s),
    )
    expect(await fast('x')).toBe('x')
    expect(live).toBe(0)
    const below = pending<string>()
    const slow = attemptTimeout<string, string>({ timeoutMs: 5, scheduler: counting })(below.svc)
    await expect(slow('x')).rejects.toBeInstanceOf(TimeoutError)
    expect(below.signals[0]!.aborted).toBe(true)
    expect(live).toBe(0)
  })

  it('rejects a negative timeout when built', () => {
    expect(() => attemptTimeout({ timeoutMs: -1 })).toThrow(
      'attemptTimeout: timeoutMs must be a number >= 0, got -1',
    )
  })
})

describe('totalTimeout', () => {
  it('covers retries: the whole request, backoff waits included, is cancelled at the limit', async () => {
    const clock = manualClock()
    let calls = 0
    const failing = Svc.of(async (_: string) => {
      calls++
      throw new Error('500')
    })
    const client = totalTimeout<string, string>({ timeoutMs: 250, scheduler: clock, wallClock: clock })(
      retries<string, string>({
        budget: RetryBudget.infinite,
        classifier: ResponseClassifier.retryOnThrows,
        backoff: Backoff.constant(100),
        maxRetries: 10,
        scheduler: clock,
      })(failing),
    )
    const p = client('x')
    for (let t = 0; t < 250; t += 50) {
      await new Promise((r) => setImmediate(r))
      clock.advance(50)
    }
    const err = await p.catch((e: unknown) => e)
    expect(err).toMatchObject({ kind: 'total', timeoutMs: 250 })
    expect((err as Error).message).toBe('total timeout of 250 ms exceeded (including retries)')
    expect(calls).toBe(3) // at 0, 100, 200
    await new Promise((r) => setImmediate(r))
    expect(clock.pending).toBe(0) // the retry loop's backoff timer went with it
  })

  it('respects a stricter incoming deadline, and propagates the combined one', async () => {
    const clock = manualClock(1_000_000)
    const below = pending<string>()
    const seen: Deadline[] = []
    type Req = { path: string; deadline?: Deadline }
    const svc = totalTimeout<Req, string>({
      timeoutMs: 500,
      scheduler: clock,
      wallClock: clock,
      deadline: (req) => req.deadline,
      withDeadline: (req, d) => {
        seen.push(d)
        return { ...req, deadline: d }
      },
    })(Svc.of((req: Req, signal) => below.svc(req.path, signal)))
    const incoming = new Deadline(999_990, 1_000_100)
    const p = svc({ path: '/', deadline: incoming })
    expect(seen[0]!.equals(new Deadline(1_000_000, 1_000_100))).toBe(true)
    clock.advance(100)
    const err = await p.catch((e: unknown) => e)
    expect(err).toMatchObject({ kind: 'deadline', timeoutMs: 100 })
    expect(hasFailureFlags(err, FailureFlags.DeadlineExceeded)).toBe(true)
    expect(below.signals[0]!.aborted).toBe(true)
  })

  it('a looser incoming deadline leaves the timeout in charge', async () => {
    const clock = manualClock(0)
    const below = pending<string>()
    const svc = totalTimeout<string, string>({
      timeoutMs: 50,
      scheduler: clock,
      wallClock: clock,
      deadline: () => new Deadline(0, 10_000),
    })(below.svc)
    const p = svc('x')
    clock.advance(50)
    await expect(p).rejects.toMatchObject({ kind: 'total' })
  })

  it('an expired deadline rejects at once without calling the service', async () => {
    const clock = manualClock(5000)
    let calls = 0
    const svc = totalTimeout<string, string>({
      timeoutMs: Number.POSITIVE_INFINITY,
      scheduler: clock,
      wallClock: clock,
      deadline: () => new Deadline(0, 4000),
    })(
      Svc.of(async (s: string) => {
        calls++
        return s
      }),
    )
    await expect(svc('x')).rejects.toMatchObject({ kind: 'deadline' })
    expect(calls).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('with an infinite timeout and no deadline, sets no timer at all', async () => {
    const clock = manualClock()
    const below = pending<string>()
    const svc = totalTimeout<string, string>({ timeoutMs: Number.POSITIVE_INFINITY, scheduler: clock })(
      below.svc,
    )
    const p = svc('x')
    expect(clock.pending).toBe(0)
    below.answer(0, 'ok')
    expect(await p).toBe('ok')
  })
})
