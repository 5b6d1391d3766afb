// The failure scenarios of the simulator (bench/sim/resilience.ts): the figures the resilience issue
// promises, on one seed of a shortened run (virtual time, so the numbers do not depend on the machine).
import { describe, expect, it } from 'vitest'
import { balancerNamed } from '../../bench/sim/balancers.js'
import { runService } from '../../bench/sim/engine.js'
import { knobsFor, runScenario, toJson } from '../../bench/sim/report.js'
import { STACKS } from '../../bench/sim/resilience.js'
import { scenarioNamed } from '../../bench/sim/scenarios.js'

const stack = (name: string) => STACKS.find((s) => s.name === name)!

async function run(scenario: string, variant: string, knobs: Record<string, number> = {}) {
  const s = scenarioNamed(scenario)
  const k = knobsFor(s, knobs)
  return runService(stack(variant).apply(s.setup(k), k), balancerNamed('p2c'), 1)
}

describe('simulator: black hole (one node fails 50 % of requests in 5 ms)', () => {
  const knobs = { durationMs: 10_000 }

  it('failure accrual + the default budget: success ≥ 99.5 %, amplification ≤ 1.25', async () => {
    const r = await run('black-hole', 'accrual+budget', knobs)
    expect(r.extra['successPct']).toBeGreaterThanOrEqual(99.5)
    expect(r.extra['amplification']).toBeLessThanOrEqual(1.25)
    // Accrual takes the node out: it receives almost nothing once marked.
    expect(r.slowNodeShare).toBeLessThan(2)
  })

  it('without anything, the black hole draws more than its 1/11 share and fails its half', async () => {
    const r = await run('black-hole', 'none', knobs)
    expect(r.slowNodeShare).toBeGreaterThan(100 / 11)
    expect(r.successPct).toBeLessThan(95)
    expect(r.extra['amplification']).toBe(1)
  })

  it('plain retries recover success but multiply backend load more than accrual + budget', async () => {
    const plain = await run('black-hole', 'retries', knobs)
    const ours = await run('black-hole', 'accrual+budget', knobs)
    expect(plain.extra['successPct']).toBeGreaterThan(99)
    expect(plain.extra['amplification']).toBeGreaterThan(ours.extra['amplification']! + 0.03)
  })
})

describe('simulator: permanent failure (one node fails everything from 10 s)', () => {
  it('the budget caps retry load where plain retries do not', async () => {
    const knobs = { durationMs: 10_000, failFromMs: 2000 }
    const plain = await run('permanent-failure', 'retries', knobs)
    const budget = await run('permanent-failure', 'budget', knobs)
    const accrual = await run('permanent-failure', 'accrual+budget', knobs)
    expect(budget.extra['amplification']).toBeLessThanOrEqual(plain.extra['amplification']!)
    expect(accrual.extra['amplification']).toBeLessThan(1.05)
    expect(accrual.extra['successPct']).toBeGreaterThanOrEqual(99.5)
  })
})

describe('simulator: stack variants and cockatiel', () => {
  it('runs cockatiel in virtual time, reproducibly, and restores the real globals afterwards', async () => {
    const realNow = Date.now
    const realSetTimeout = globalThis.setTimeout
    const realRandom = Math.random
    const a = await run('black-hole', 'cockatiel', { durationMs: 3000 })
    const b = await run('black-hole', 'cockatiel', { durationMs: 3000 })
    expect(a.requests).toBe(3750)
    // Its backoff jitter (Math.random) and breaker clock (Date.now) ran on the seeded virtual globals.
    expect(b).toEqual(a)
    expect(Date.now).toBe(realNow)
    expect(globalThis.setTimeout).toBe(realSetTimeout)
    expect(Math.random).toBe(realRandom)
    // A client-level breaker sees the black hole's 5 ms failures before any 165 ms success and opens.
    expect(a.successPct).toBeLessThan(50)
  })

  it('the JSON result of each stack carries successPct and amplification', async () => {
    const report = await runScenario(scenarioNamed('black-hole'), {
      variants: ['none', 'accrual+budget'],
      seeds: 1,
      knobs: { durationMs: 2000 },
    })
    const json = toJson(report) as { results: Record<string, unknown>[] }
    expect(json.results.map((r) => r['variant'])).toEqual(['none', 'accrual+budget'])
    for (const r of json.results) {
      expect(typeof r['successPct']).toBe('number')
      expect(typeof r['amplification']).toBe('number')
    }
  })

  it('names the known variants when given an unknown one', async () => {
    await expect(runScenario(scenarioNamed('black-hole'), { variants: ['nope'] })).rejects.toThrow(
      "scenario 'black-hole' has no variant 'nope'; variants: none, retries, budget, accrual, accrual+budget, cockatiel, cockatiel-sampling",
    )
  })
})
