import { describe, expect, it } from 'vitest'
import {
  FailureFlags,
  hasFailureFlags,
  isRequeueable,
  manualClock,
  Service,
  SwitchboardError,
  seededRandom,
} from '../../src/core/index.js'
import { FailFastError, failFast, reconnectSchedule } from '../../src/liveness/index.js'
import { Backoff } from '../../src/retry/index.js'
import { inMemoryStats } from '../../src/stats/index.js'

class ConnectRefused extends SwitchboardError {
  constructor() {
    super('ConnectRefused', 'connect ECONNREFUSED', {
      failureFlags: FailureFlags.Retryable | FailureFlags.Rejected,
    })
  }
}

function endpoint() {
  let mode: 'ok' | 'refuse' | 'error' = 'ok'
  let calls = 0
  const svc = Service.of(async (_: string) => {
    calls++
    if (mode === 'refuse') throw new ConnectRefused()
    if (mode === 'error') throw new Error('500')
    return 'ok'
  })
  return {
    svc,
    set: (m: typeof mode) => {
      mode = m
    },
    calls: () => calls,
  }
}

const tick = () => new Promise((r) => setImmediate(r))
const quiet = (p: Promise<unknown>) => p.catch((e: unknown) => e)

describe('failFast', () => {
  it('after a connection failure: busy, and new requests fail at once with a requeueable FailFastError', async () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const ep = endpoint()
    const svc = failFast<string, string>({ scheduler: clock, stats, random: seededRandom(1) })(ep.svc)
    ep.set('refuse')
    await quiet(svc('a'))
    expect(svc.status).toBe('busy')
    expect(stats.counterValue('failfast/marked_dead')).toBe(1)
    expect(stats.gaugeValue('failfast/is_marked_dead')).toBe(1)
    const err = await quiet(svc('b'))
    expect(err).toBeInstanceOf(FailFastError)
    expect((err as FailFastError).code).toBe('FailFast')
    expect(isRequeueable(err)).toBe(true)
    expect(hasFailureFlags(err, FailureFlags.Rejected)).toBe(true)
    expect(ep.calls()).toBe(1)
    await svc.close()
  })

  it('other failures do not mark the endpoint down', async () => {
    const ep = endpoint()
    const svc = failFast<string, string>({ scheduler: manualClock() })(ep.svc)
    ep.set('error')
    await quiet(svc('a'))
    expect(svc.status).toBe('open')
  })

  it('reconnects in the background on its schedule and revives on the first successful reconnect', async () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const ep = endpoint()
    const attempts: number[] = []
    let reconnectWorks = false
    const svc = failFast<string, string>({
      scheduler: clock,
      stats,
      backoff: Backoff.of(100, 200, 400),
      reconnect: async () => {
        attempts.push(clock.now())
        if (!reconnectWorks) throw new Error('still refused')
      },
    })(ep.svc)
    ep.set('refuse')
    await quiet(svc('a'))
    clock.advance(100)
    await tick()
    clock.advance(200)
    await tick()
    expect(stats.gaugeValue('failfast/unhealthy_num_tries')).toBe(2)
    expect(stats.gaugeValue('failfast/unhealthy_for_ms')).toBe(300)
    reconnectWorks = true
    clock.advance(400)
    await tick()
    expect(attempts).toEqual([100, 300, 700])
    expect(svc.status).toBe('open')
    expect(stats.counterValue('failfast/marked_available')).toBe(1)
    expect(stats.gaugeValue('failfast/is_marked_dead')).toBe(0)
    expect(clock.pending).toBe(0)
    ep.set('ok')
    expect(await svc('b')).toBe('ok')
  })

  it('the default schedule: full jitter from 1 s doubling to 32 s for 16 tries, then 32 s forever', async () => {
    const clock = manualClock()
    const ep = endpoint()
    const attempts: number[] = []
    const svc = failFast<string, string>({
      scheduler: clock,
      random: seededRandom(9),
      reconnect: async () => {
        attempts.push(clock.now())
        throw new Error('refused')
      },
    })(ep.svc)
    ep.set('refuse')
    await quiet(svc('a'))
    while (attempts.length < 20) {
      clock.runNext()
      await tick()
    }
    const delays = attempts.map((t, i) => t - (i === 0 ? 0 : attempts[i - 1]!))
    delays.forEach((d, k) => {
      if (k < 16) {
        expect(d).toBeGreaterThanOrEqual(0)
        expect(d).toBeLessThan(Math.min(32_000, 1000 * 2 ** k))
      } else expect(d).toBe(32_000)
    })
    expect(svc.status).toBe('busy')
    await svc.close()
    expect(clock.pending).toBe(0)
    expect([...reconnectSchedule(seededRandom(1)).take(18)].slice(16)).toEqual([32_000, 32_000])
  })

  it('stands aside with a single endpoint: no marking down, requests go through', async () => {
    const clock = manualClock()
    const ep = endpoint()
    const svc = failFast<string, string>({ scheduler: clock, endpointCount: 1 })(ep.svc)
    ep.set('refuse')
    await quiet(svc('a'))
    expect(svc.status).toBe('open')
    await quiet(svc('b'))
    expect(ep.calls()).toBe(2)
    expect(clock.pending).toBe(0)
  })

  it('reads a dynamic endpoint count when it matters', async () => {
    const clock = manualClock()
    let n = 3
    const ep = endpoint()
    const svc = failFast<string, string>({ scheduler: clock, endpointCount: () => n })(ep.svc)
    ep.set('refuse')
    await quiet(svc('a'))
    expect(svc.status).toBe('busy')
    n = 1 // the others went away: failing closed would leave nothing
    expect(svc.status).toBe('open')
    await quiet(svc('b'))
    expect(ep.calls()).toBe(2)
    await svc.close()
  })

  it('an in-flight request that succeeds marks the endpoint up', async () => {
    const clock = manualClock()
    let release: (() => void) | undefined
    let refuse = false
    const slow = Service.of(async (_: string) => {
      if (refuse) throw new ConnectRefused()
      await new Promise<void>((r) => {
        release = r
      })
      return 'ok'
    })
    const svc = failFast<string, string>({ scheduler: clock, backoff: Backoff.constant(1000) })(slow)
    const inFlight = svc('slow')
    refuse = true
    await quiet(svc('a'))
    expect(svc.status).toBe('busy')
    release?.()
    expect(await inFlight).toBe('ok')
    expect(svc.status).toBe('open')
    expect(clock.pending).toBe(0)
  })

  it('without reconnect, lets requests in after each delay and continues the schedule on failure', async () => {
    const clock = manualClock()
    const ep = endpoint()
    const svc = failFast<string, string>({ scheduler: clock, backoff: Backoff.of(100, 300) })(ep.svc)
    ep.set('refuse')
    await quiet(svc('a'))
    clock.advance(100)
    expect(svc.status).toBe('open')
    await quiet(svc('b')) // fails again: next delay is 300, not 100
    expect(svc.status).toBe('busy')
    clock.advance(299)
    expect(svc.status).toBe('busy')
    clock.advance(1)
    expect(svc.status).toBe('open')
    ep.set('ok')
    await svc('c')
    ep.set('refuse')
    await quiet(svc('d')) // a success reset the schedule
    clock.advance(100)
    expect(svc.status).toBe('open')
  })

  it('an exhausted schedule marks the endpoint up optimistically', async () => {
    const clock = manualClock()
    const ep = endpoint()
    const svc = failFast<string, string>({
      scheduler: clock,
      backoff: Backoff.of(10),
      reconnect: async () => {
        throw new Error('no')
      },
    })(ep.svc)
    ep.set('refuse')
    await quiet(svc('a'))
    clock.advance(10)
    await tick()
    expect(svc.status).toBe('open')
  })

  it('close() cancels the schedule, aborts a reconnect in progress and removes the gauges', async () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const ep = endpoint()
    let aborted = false
    const svc = failFast<string, string>({
      scheduler: clock,
      stats,
      backoff: Backoff.constant(10),
      reconnect: (signal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true
            reject(signal.reason)
          })
        }),
    })(ep.svc)
    ep.set('refuse')
    await quiet(svc('a'))
    clock.advance(10)
    await tick()
    await svc.close()
    await tick()
    expect(aborted).toBe(true)
    expect(clock.pending).toBe(0)
    expect(stats.gaugeValue('failfast/is_marked_dead')).toBeUndefined()
  })
})
