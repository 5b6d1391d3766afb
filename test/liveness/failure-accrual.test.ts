import { describe, expect, it } from 'vitest'
import {
  FailureFlags,
  manualClock,
  Service,
  type Status,
  SwitchboardError,
  seededRandom,
} from '../../src/core/index.js'
import { TimeoutError } from '../../src/limits/index.js'
import {
  consecutiveFailures,
  defaultAccrualPolicy,
  failureAccrual,
  markDeadSchedule,
  perturb,
  successRate,
  successRateWindowed,
} from '../../src/liveness/index.js'
import { Backoff, ResponseClass } from '../../src/retry/index.js'
import { inMemoryStats } from '../../src/stats/index.js'

type Outcome = 'ok' | 'fail' | 'ignore'

/** An endpoint whose next outcome the test sets. */
function endpoint(status: () => Status = () => 'open') {
  let mode: Outcome = 'ok'
  let calls = 0
  const svc = Service.of(
    async (_: string) => {
      calls++
      if (mode === 'fail') throw new Error('500')
      if (mode === 'ignore')
        throw new SwitchboardError('Ignored', 'ignored', { failureFlags: FailureFlags.Ignorable })
      return 'ok'
    },
    { status },
  )
  return {
    svc,
    set: (m: Outcome) => {
      mode = m
    },
    calls: () => calls,
  }
}

const quiet = (p: Promise<unknown>) => p.catch(() => undefined)

describe('failureAccrual state machine (consecutive failures, fake clock)', () => {
  const setup = (schedule = Backoff.of(1000, 2000, 4000)) => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const ep = endpoint()
    const svc = failureAccrual<string, string>({
      policy: consecutiveFailures(3, schedule),
      scheduler: clock,
      stats,
    })(ep.svc)
    const value = (name: string) => stats.counterValue(`failure_accrual/${name}`)
    return { clock, ep, svc, value }
  }

  it('marks the node dead (busy) at the n-th consecutive failure, not before', async () => {
    const { ep, svc, value } = setup()
    ep.set('fail')
    await quiet(svc('a'))
    await quiet(svc('a'))
    expect(svc.status).toBe('open')
    await quiet(svc('a'))
    expect(svc.status).toBe('busy')
    expect(value('removals')).toBe(1)
    expect(value('removed_for_ms')).toBe(1000)
  })

  it('a success resets the count', async () => {
    const { ep, svc } = setup()
    for (const m of ['fail', 'fail', 'ok', 'fail', 'fail'] as const) {
      ep.set(m)
      await quiet(svc('a'))
    }
    expect(svc.status).toBe('open')
  })

  it('fails open: requests to a dead node still go through, and their failures are ignored', async () => {
    const { ep, svc, value } = setup()
    ep.set('fail')
    for (let i = 0; i < 3; i++) await quiet(svc('a'))
    for (let i = 0; i < 5; i++) await quiet(svc('a'))
    expect(ep.calls()).toBe(8)
    expect(value('removals')).toBe(1)
    expect(value('removed_for_ms')).toBe(1000)
  })

  it('probes with one request after the backoff; a failed probe re-marks it with the next duration', async () => {
    const { clock, ep, svc, value } = setup()
    ep.set('fail')
    for (let i = 0; i < 3; i++) await quiet(svc('a'))
    clock.advance(999)
    expect(svc.status).toBe('busy')
    clock.advance(1)
    expect(svc.status).toBe('open') // probe open
    const probe = quiet(svc('probe'))
    expect(svc.status).toBe('busy') // one probe in flight: the balancer sends nothing else
    expect(value('probes')).toBe(1)
    await probe
    expect(svc.status).toBe('busy')
    expect(value('removals')).toBe(1)
    expect(value('removed_for_ms')).toBe(3000)
    clock.advance(2000)
    expect(svc.status).toBe('open')
  })

  it('a successful probe revives the node and restarts the policy and its schedule', async () => {
    const { clock, ep, svc, value } = setup()
    ep.set('fail')
    for (let i = 0; i < 3; i++) await quiet(svc('a'))
    clock.advance(1000)
    await quiet(svc('probe')) // fails: dead for 2000
    clock.advance(2000)
    ep.set('ok')
    await svc('probe')
    expect(svc.status).toBe('open')
    expect(value('revivals')).toBe(1)
    ep.set('fail')
    for (let i = 0; i < 2; i++) await quiet(svc('a'))
    expect(svc.status).toBe('open') // count was reset
    await quiet(svc('a'))
    expect(svc.status).toBe('busy')
    expect(value('removals')).toBe(2)
    expect(value('removed_for_ms')).toBe(1000 + 2000 + 1000) // schedule restarted at 1000
  })

  it('pads an exhausted schedule with 300 s', async () => {
    const { clock, ep, svc, value } = setup(Backoff.of(1000))
    ep.set('fail')
    for (let i = 0; i < 3; i++) await quiet(svc('a'))
    clock.advance(1000)
    await quiet(svc('probe'))
    expect(value('removed_for_ms')).toBe(1000 + 300_000)
    clock.advance(299_999)
    expect(svc.status).toBe('busy')
    clock.advance(1)
    expect(svc.status).toBe('open')
  })

  it('an ignorable probe outcome lets another probe through', async () => {
    const { clock, ep, svc, value } = setup()
    ep.set('fail')
    for (let i = 0; i < 3; i++) await quiet(svc('a'))
    clock.advance(1000)
    ep.set('ignore')
    await quiet(svc('probe'))
    expect(svc.status).toBe('open')
    ep.set('ok')
    await svc('probe')
    expect(value('probes')).toBe(2)
    expect(value('revivals')).toBe(1)
  })

  it('a request the caller aborted says nothing about the node', async () => {
    const { ep, svc } = setup()
    ep.set('fail')
    const ac = new AbortController()
    ac.abort()
    for (let i = 0; i < 5; i++) await quiet(svc('a', ac.signal))
    expect(svc.status).toBe('open')
  })

  it('a request abandoned by a timeout above (TimeoutError as the reason) counts as a failure', async () => {
    const clock = manualClock()
    // An endpoint that accepts and never answers, except by rejecting when its signal aborts.
    const hanging = Service.of(
      (_: string, signal?: AbortSignal) =>
        new Promise<string>((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
        }),
    )
    const make = (countAbandoned?: boolean) =>
      failureAccrual<string, string>({
        policy: consecutiveFailures(3, Backoff.constant(1000)),
        scheduler: clock,
        ...(countAbandoned === undefined ? {} : { countAbandoned }),
      })(hanging)
    const abandon = async (svc: Service<string, string>, reason: unknown) => {
      const ac = new AbortController()
      const call = quiet(svc('a', ac.signal))
      ac.abort(reason)
      await call
    }
    const svc = make()
    for (let i = 0; i < 3; i++) await abandon(svc, new TimeoutError('total', 100))
    expect(svc.status).toBe('busy')

    // The caller's own abort says nothing; nor does a timeout when countAbandoned is false.
    const caller = make()
    for (let i = 0; i < 5; i++) await abandon(caller, new Error('caller went away'))
    expect(caller.status).toBe('open')
    const off = make(false)
    for (let i = 0; i < 5; i++) await abandon(off, new TimeoutError('total', 100))
    expect(off.status).toBe('open')
  })

  it('reads the classifier: a response it calls a failure counts', async () => {
    const clock = manualClock()
    const svc = failureAccrual<string, number>({
      policy: consecutiveFailures(2, Backoff.constant(10)),
      classifier: (rr) => (rr.ok && rr.response >= 500 ? ResponseClass.NonRetryableFailure : undefined),
      scheduler: clock,
    })(Service.of(async () => 503))
    await svc('a')
    await svc('a')
    expect(svc.status).toBe('busy')
  })

  it('reports the worse of its own and the underlying status, and close() cancels its timer', async () => {
    const clock = manualClock()
    let underlying: Status = 'open'
    const ep = endpoint(() => underlying)
    const svc = failureAccrual<string, string>({
      policy: consecutiveFailures(1, Backoff.constant(50)),
      scheduler: clock,
    })(ep.svc)
    underlying = 'busy'
    expect(svc.status).toBe('busy')
    underlying = 'open'
    ep.set('fail')
    await quiet(svc('a'))
    expect(clock.pending).toBe(1)
    underlying = 'closed'
    expect(svc.status).toBe('closed')
    await svc.close()
    expect(clock.pending).toBe(0)
  })

  it('each endpoint gets its own state from one shared policy', async () => {
    const clock = manualClock()
    const policy = consecutiveFailures(1, Backoff.constant(50))
    const a = endpoint()
    const b = endpoint()
    const sa = failureAccrual<string, string>({ policy, scheduler: clock })(a.svc)
    const sb = failureAccrual<string, string>({ policy, scheduler: clock })(b.svc)
    a.set('fail')
    await quiet(sa('x'))
    expect([sa.status, sb.status]).toEqual(['busy', 'open'])
  })
})

describe('failure accrual policies', () => {
  it('successRate: fires only after `requests` requests and below the required rate', () => {
    const state = successRate(0.9, 10, Backoff.constant(7)).create(manualClock())
    // 9 failures in a row: not yet 10 requests.
    for (let i = 0; i < 9; i++) expect(state.markDeadOnFailure()).toBeUndefined()
    expect(state.markDeadOnFailure()).toBe(7)
    state.revived()
    // After revival history is gone: a long run of successes keeps one failure from firing.
    for (let i = 0; i < 20; i++) state.recordSuccess()
    expect(state.markDeadOnFailure()).toBeUndefined()
  })

  it('successRate: the moving average weighs a sample 1 − e^(−1/window)', () => {
    const state = successRate(0.5, 10, Backoff.constant(1)).create(manualClock())
    for (let i = 0; i < 10; i++) state.recordSuccess()
    // After k failures the average is e^(−k/10): below 0.5 from k = 7 (e^-0.7 = 0.497).
    const fired: number[] = []
    for (let k = 1; k <= 8; k++) if (state.markDeadOnFailure() !== undefined) fired.push(k)
    expect(fired[0]).toBe(7)
  })

  it('successRateWindowed: a healthy node that starts failing is marked after ~window × ln(1/sr)', () => {
    const clock = manualClock()
    const state = successRateWindowed(0.8, 30_000, Backoff.constant(5000)).create(clock)
    for (let t = 0; t < 40_000; t += 10) {
      state.recordSuccess()
      clock.advance(10)
    }
    const start = clock.now()
    let firedAfter: number | undefined
    while (firedAfter === undefined && clock.now() - start < 20_000) {
      if (state.markDeadOnFailure() !== undefined) firedAfter = clock.now() - start
      clock.advance(10)
    }
    // e^(−t/30 s) = 0.8 at t = 6.69 s
    expect(firedAfter).toBeGreaterThan(6600)
    expect(firedAfter).toBeLessThan(6800)
  })

  it('successRateWindowed: not before one window since start, nor with fewer than minRequests', () => {
    const clock = manualClock()
    const state = successRateWindowed(0.8, 1000, Backoff.constant(5), 5).create(clock)
    for (let i = 0; i < 10; i++) {
      expect(state.markDeadOnFailure()).toBeUndefined() // every request failed, but the window is not over
      clock.advance(100)
    }
    expect(state.markDeadOnFailure()).toBe(5)
    // A fresh node with only 3 requests in the last window: too few to judge.
    const sparse = successRateWindowed(0.8, 1000, Backoff.constant(5), 5).create(clock)
    clock.advance(1500)
    for (let i = 0; i < 3; i++) expect(sparse.markDeadOnFailure()).toBeUndefined()
    expect(sparse.markDeadOnFailure()).toBeUndefined()
    expect(sparse.markDeadOnFailure()).toBe(5)
  })

  it('orElse: either policy can fire; when both do, the longer duration wins', () => {
    const clock = manualClock()
    const p = consecutiveFailures(2, Backoff.constant(100)).orElse(
      consecutiveFailures(3, Backoff.constant(900)),
    )
    expect(p.show()).toBe('consecutiveFailures(2).orElse(consecutiveFailures(3))')
    const s = p.create(clock)
    expect(s.markDeadOnFailure()).toBeUndefined()
    expect(s.markDeadOnFailure()).toBe(100)
    expect(s.markDeadOnFailure()).toBe(900)
  })

  it('the default is the hybrid, and its schedule starts in [5 s, 10 s) and stays within 300 s', () => {
    expect(defaultAccrualPolicy().show()).toBe(
      'successRateWindowed(0.8, 30000).orElse(consecutiveFailures(5))',
    )
    const s = defaultAccrualPolicy(seededRandom(5)).create(manualClock())
    const durations: number[] = []
    for (let i = 0; i < 20; i++) {
      const d = s.markDeadOnFailure()
      if (d !== undefined) durations.push(d)
    }
    expect(durations.length).toBe(16)
    expect(durations[0]).toBeGreaterThanOrEqual(5000)
    expect(durations[0]).toBeLessThan(10_000)
    for (const d of durations) expect(d).toBeLessThanOrEqual(300_000)
    const first = [...markDeadSchedule(seededRandom(1)).take(6)]
    expect(first[5]).toBeGreaterThanOrEqual(150_000)
  })

  it('rejects bad options', () => {
    expect(() => consecutiveFailures(0)).toThrow('consecutiveFailures: n must be an integer >= 1, got 0')
    expect(() => successRate(1.5, 10)).toThrow('required')
    expect(() => successRateWindowed(0.8, 0)).toThrow('windowMs')
  })
})

describe('Finagle FailureAccrualPolicyTest cases', () => {
  const five = Backoff.constant(5000)
  it('successRate(0.5, 100): after 100 successes the 70th failure marks dead (100·ln 2 + 1)', () => {
    const s = successRate(0.5, 100, five).create(manualClock())
    for (let i = 0; i < 100; i++) s.recordSuccess()
    for (let i = 0; i < 69; i++) expect(s.markDeadOnFailure()).toBeUndefined()
    expect(s.markDeadOnFailure()).toBe(5000)
  })

  it('successRateWindowed(0.5, 100 s): one sample a second, the 70th second of failures marks dead', () => {
    const clock = manualClock()
    const s = successRateWindowed(0.5, 100_000, five, 0).create(clock)
    for (let i = 0; i < 100; i++) {
      clock.advance(1000)
      s.recordSuccess()
    }
    for (let i = 0; i < 69; i++) {
      clock.advance(1000)
      expect(s.markDeadOnFailure()).toBeUndefined()
    }
    clock.advance(1000)
    expect(s.markDeadOnFailure()).toBe(5000)
  })

  it('successRateWindowed respects minRequests: the 5th failure in the window marks dead', () => {
    const clock = manualClock()
    const s = successRateWindowed(1, 30_000, five, 5).create(clock)
    clock.advance(30_000)
    for (let i = 0; i < 4; i++) expect(s.markDeadOnFailure()).toBeUndefined()
    expect(s.markDeadOnFailure()).toBe(5000)
  })

  it('successRateWindowed: revived() restarts the window from the next request', () => {
    const clock = manualClock()
    const s = successRateWindowed(1, 30_000, Backoff.of(1, 2), 0).create(clock)
    clock.advance(30_000)
    expect([s.markDeadOnFailure(), s.markDeadOnFailure(), s.markDeadOnFailure()]).toEqual([1, 2, 300_000])
    s.revived()
    expect(s.markDeadOnFailure()).toBeUndefined()
    clock.advance(30_000)
    expect(s.markDeadOnFailure()).toBe(1)
  })

  it('hybrid: the windowed success rate fires even when failures never come 3 in a row', () => {
    const clock = manualClock()
    const s = consecutiveFailures(3, five)
      .orElse(successRateWindowed(0.8, 30_000, five, 0))
      .create(clock)
    for (let i = 0; i < 15; i++) {
      s.recordSuccess()
      clock.advance(1000)
      s.markDeadOnFailure()
      clock.advance(1000)
    }
    expect(s.markDeadOnFailure()).toBe(5000)
    s.revived()
    expect([s.markDeadOnFailure(), s.markDeadOnFailure(), s.markDeadOnFailure()]).toEqual([
      undefined,
      undefined,
      5000,
    ])
  })

  it('perturb: every period is in [d, d × 1.2) for fraction 0.2, and spread over it', () => {
    const periods = [...perturb(1000, 0.2, seededRandom(1)).take(50)]
    for (const d of periods) {
      expect(d).toBeGreaterThanOrEqual(1000)
      expect(d).toBeLessThan(1200)
      expect(Number.isInteger(d)).toBe(true)
    }
    expect(new Set(periods).size).toBeGreaterThan(10)
    expect([...perturb(1000).take(3)].every((d) => d >= 1000 && d < 1100)).toBe(true)
    expect(() => perturb(-1)).toThrow(/perturb/)
  })
})
