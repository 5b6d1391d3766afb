import { describe, expect, it } from 'vitest'
import { balancer } from '../../src/balancer/index.js'
import {
  FailureFlags,
  Filter,
  manualClock,
  type Service,
  Service as Svc,
  SwitchboardError,
  seededRandom,
} from '../../src/core/index.js'
import { attemptTimeout, TimeoutError, totalTimeout } from '../../src/limits/index.js'
import { consecutiveFailures, failFast, failureAccrual } from '../../src/liveness/index.js'
import {
  Backoff,
  ResponseClass,
  type ResponseClassifier,
  RetryBudget,
  requeues,
  retries,
  retryBudget,
} from '../../src/retry/index.js'
import { inMemoryStats } from '../../src/stats/index.js'

type Addr = { host: string; port: number; node: number }
const addrs = (n: number): Addr[] =>
  Array.from({ length: n }, (_, k) => ({ host: '127.0.0.1', port: 8000 + k, node: k }))

/** The real balancer (P2C least loaded, seeded) over `nodes`, recording which node each request got. */
function lbOver(nodes: Service<string, string>[], seed = 1) {
  const picks: number[] = []
  const lb = balancer<string, string, Addr>({
    addresses: addrs(nodes.length),
    connect: (a) =>
      Svc.of(
        (req: string, signal?: AbortSignal) => {
          picks.push(a.node)
          return nodes[a.node]!(req, signal)
        },
        { status: () => nodes[a.node]!.status },
      ),
    random: seededRandom(seed),
  })
  return { lb, picks }
}

class Refused extends SwitchboardError {
  constructor() {
    super('Refused', 'connection refused', { failureFlags: FailureFlags.Retryable | FailureFlags.Rejected })
  }
}

const quiet = (p: Promise<unknown>) => p.catch((e: unknown) => e)
const tick = () => new Promise((r) => setImmediate(r))

describe('composition order', () => {
  it('per-attempt timeouts (below failure accrual) count as failures of that endpoint', async () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const hang = Svc.of((_: string, signal?: AbortSignal) => {
      return new Promise<string>((_, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason)),
      )
    })
    const endpoint = Filter.chain<string, string>(
      failureAccrual({ policy: consecutiveFailures(3, Backoff.constant(1000)), scheduler: clock, stats }),
      attemptTimeout({ timeoutMs: 100, scheduler: clock }),
    )(hang)
    for (let i = 0; i < 3; i++) {
      const p = quiet(endpoint('x'))
      clock.advance(100)
      expect(await p).toBeInstanceOf(TimeoutError)
    }
    expect(endpoint.status).toBe('busy')
    expect(stats.counterValue('failure_accrual/removals')).toBe(1)
  })

  it('an attempt a timeout above abandons counts against the endpoint; a caller’s own abort does not', async () => {
    const run = async (options: { countAbandoned?: boolean }, abort: 'timeout' | 'caller') => {
      const clock = manualClock()
      const hang = Svc.of((_: string, signal?: AbortSignal) => {
        return new Promise<string>((_, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason)),
        )
      })
      const endpoint = failureAccrual<string, string>({
        policy: consecutiveFailures(1, Backoff.constant(1000)),
        scheduler: clock,
        ...options,
      })(hang)
      const total = totalTimeout<string, string>({ timeoutMs: 100, scheduler: clock, wallClock: clock })(
        endpoint,
      )
      const caller = new AbortController()
      const p = quiet(total('x', caller.signal))
      if (abort === 'timeout') clock.advance(100)
      else caller.abort()
      await p
      await tick()
      return endpoint.status
    }
    // Finagle sees the hanging endpoint's request fail when the total timeout gives up on it.
    expect(await run({}, 'timeout')).toBe('busy')
    expect(await run({ countAbandoned: false }, 'timeout')).toBe('open')
    expect(await run({}, 'caller')).toBe('open')
  })

  it('retries sit above the balancer: each retry picks a node again and lands on a healthy one', async () => {
    const nodes = [0, 1, 2].map((k) =>
      Svc.of(async (_: string) => {
        if (k === 0) throw new Error('500 from node 0')
        return `node ${k}`
      }),
    )
    const { lb, picks } = lbOver(nodes)
    const client = retries<string, string>({
      budget: RetryBudget.infinite,
      classifier: (rr) => (rr.ok ? undefined : ResponseClass.RetryableFailure),
      backoff: Backoff.constant(0),
      maxRetries: 20, // P2C over idle nodes picks node 0 a third of the time: allow long unlucky runs
    })(lb)
    for (let i = 0; i < 50; i++) expect(await client('x')).toMatch(/^node [12]$/)
    // Whenever node 0 failed, the next try went through the balancer again (a new pick), so every
    // request that started on node 0 ended on another node.
    expect(picks.filter((k) => k === 0).length).toBeGreaterThan(0)
    expect(picks.length).toBe(50 + picks.filter((k) => k === 0).length)
    await lb.close()
  })

  it('failure accrual below the balancer steers it away from a bad node; requeues re-send fail-fast rejections', async () => {
    const clock = manualClock()
    const bad = Svc.of(async (_: string): Promise<string> => {
      throw new Refused()
    })
    const good = Svc.of(async (_: string) => 'good')
    const endpoint = (svc: Service<string, string>) =>
      Filter.chain<string, string>(
        failureAccrual({ policy: consecutiveFailures(5, Backoff.constant(60_000)), scheduler: clock }),
        failFast({ scheduler: clock, backoff: Backoff.constant(60_000) }),
      )(svc)
    const nodes = [endpoint(bad), endpoint(good), endpoint(good)]
    const { lb, picks } = lbOver(nodes)
    const client = requeues<string, string>({ budget: RetryBudget.infinite })(lb)
    for (let i = 0; i < 30; i++) expect(await client('x')).toBe('good')
    // The first refusal marked node 0 down (fail fast: status busy), so P2C, which compares status
    // first, never picks it again.
    expect(nodes[0]!.status).toBe('busy')
    expect(picks.filter((k) => k === 0).length).toBe(1)
    await lb.close()
    await Promise.all(nodes.map((n) => n.close()))
    expect(clock.pending).toBe(0)
  })

  it('one budget is shared across the retries of all requests of a client', async () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const budget = retryBudget({ clock, ttlMs: 1000, minRetriesPerSec: 3, percentCanRetry: 0 })
    let calls = 0
    const failing = Svc.of(async (_: string): Promise<string> => {
      calls++
      throw new Error('503')
    })
    const retryAll: ResponseClassifier<string, string> = (rr) =>
      rr.ok ? undefined : ResponseClass.RetryableFailure
    const client = retries<string, string>({
      budget,
      classifier: retryAll,
      backoff: Backoff.constant(0),
      maxRetries: 2,
      stats,
    })(failing)
    // The reserve allows 3 retries in all. Three concurrent requests want 2 each.
    await Promise.all(['a', 'b', 'c'].map((r) => quiet(client(r))))
    expect(stats.counterValue('retries')).toBe(3)
    expect(stats.counterValue('retries/budget_exhausted')).toBe(3)
    expect(calls).toBe(6)
  })
})
