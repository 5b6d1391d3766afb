import { type BalancerAlgorithm, balancer, type EndpointAddress } from '../../src/balancer/index.js'
import { manualClock } from '../../src/core/clock.js'
import { seededRandom } from '../../src/core/random.js'
import { Service } from '../../src/core/service.js'
import type { Status } from '../../src/core/status.js'
import { inMemoryStats } from '../../src/stats/stats.js'

/** `n` addresses 10.0.0.1:80 … */
export function addresses(n: number, from = 1): EndpointAddress[] {
  return Array.from({ length: n }, (_, i) => ({ host: `10.0.0.${from + i}`, port: 80 }))
}

/** A key for the i-th address of `addresses`. */
export const keyOf = (i: number, from = 1) => `10.0.0.${from + i}:80`

interface Call {
  readonly key: string
  resolve(value: string): void
  reject(error: unknown): void
}

/**
 * Endpoint services whose status tests set and whose responses tests settle by hand. Each service
 * answers with its own key.
 */
export function fakeEndpoints() {
  const status = new Map<string, Status>()
  const closed: string[] = []
  const connected: string[] = []
  const calls: Call[] = []
  const connect = (a: EndpointAddress) => {
    const key = `${a.host}:${a.port}`
    connected.push(key)
    return Service.of<string, string>(
      () =>
        new Promise<string>((resolve, reject) => {
          calls.push({ key, resolve, reject })
        }),
      {
        status: () => status.get(key) ?? 'open',
        close: () => {
          closed.push(key)
        },
      },
    )
  }
  return {
    connect,
    status,
    closed,
    connected,
    calls,
    /** Answers every call made so far (in order), and lets promise callbacks run. */
    async settleAll(): Promise<void> {
      for (const c of calls.splice(0)) c.resolve(c.key)
      await flush()
    },
  }
}

/** Lets pending promise callbacks run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** A balancer over `n` fake endpoints, with a manual clock, a seeded random and in-memory stats. */
export function make(algorithm: BalancerAlgorithm, n = 5, seed = 1) {
  const eps = fakeEndpoints()
  const stats = inMemoryStats()
  const clock = manualClock()
  const lb = balancer({
    addresses: addresses(n),
    connect: eps.connect,
    algorithm,
    clock,
    random: seededRandom(seed),
    stats,
  })
  return { lb, eps, stats, clock }
}
