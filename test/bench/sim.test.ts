// The simulator's own correctness: it must reproduce published figures before its other numbers
// mean anything. Each run here is one seed of a published scenario (≈0.1–0.5 s).
import { describe, expect, it } from 'vitest'
import { balancerNamed } from '../../bench/sim/balancers.js'
import { runDirect, runService } from '../../bench/sim/engine.js'
import { knobsFor } from '../../bench/sim/report.js'
import { scenarioNamed, supermarketSojourn } from '../../bench/sim/scenarios.js'

const setupOf = (name: string, knobs: Record<string, number> = {}) => {
  const s = scenarioNamed(name)
  return s.setup(knobsFor(s, knobs))
}

describe('simulator: Buoyant "Beyond Round Robin" (benchmarks.md §1)', () => {
  const setup = setupOf('buoyant')

  it('round robin: p99 within ±15 % of the published 1 715 ms, ≈ 4.5 % over one second', () => {
    const r = runDirect(setup, balancerNamed('roundRobin'), 1)
    expect(r.requests).toBe(60_000)
    expect(Math.abs(r.p99 - 1715) / 1715).toBeLessThan(0.15)
    expect(r.overOneSecondPct).toBeGreaterThan(4)
    expect(r.overOneSecondPct).toBeLessThan(5)
    // Round robin gives the slow node its full share: 1 of 11.
    expect(r.slowNodeShare).toBeCloseTo(100 / 11, 1)
  })

  it('P2C least loaded: p99 ≤ 230 ms', () => {
    const r = runDirect(setup, balancerNamed('p2c'), 1)
    expect(r.p99).toBeLessThanOrEqual(230)
    expect(r.p999).toBeGreaterThan(1000) // published: slow from p99.9 on
  })

  it('P2C peak EWMA: p99.9 ≤ 250 ms and under 0.15 % of requests over one second', () => {
    const r = runDirect(setup, balancerNamed('p2cPeakEwma'), 1)
    expect(r.p999).toBeLessThanOrEqual(250)
    expect(r.overOneSecondPct).toBeLessThan(0.15)
  })

  it('the oracle never sends to the slow node while a fast one exists', () => {
    const r = runDirect(setup, balancerNamed('oracle'), 1)
    expect(r.slowNodeShare).toBe(0)
    expect(r.maxMs).toBeLessThanOrEqual(200.1)
  })
})

describe('simulator: supermarket model (benchmarks.md §7)', () => {
  // λ = 0.9, n = 100: Mitzenmacher's limit 2.614 for two choices, 10 for one.
  const setup = setupOf('supermarket', { durationMs: 150_000, warmupMs: 30_000 })

  it('two choices: mean time in system within 10 % of 2.614', () => {
    const r = runDirect(setup, balancerNamed('p2c'), 1)
    const expected = supermarketSojourn(2, 0.9)
    expect(Math.abs(r.extra['meanSojourn']! - expected) / expected).toBeLessThan(0.1)
  })

  it('one random choice: mean time in system within 10 % of 10', () => {
    const r = runDirect(setup, balancerNamed('random'), 2)
    expect(Math.abs(r.extra['meanSojourn']! - 10) / 10).toBeLessThan(0.1)
  })

  it('the formula matches the published table', () => {
    expect(supermarketSojourn(2, 0.5)).toBeCloseTo(1.266, 3)
    expect(supermarketSojourn(3, 0.9)).toBeCloseTo(2.028, 3)
    expect(supermarketSojourn(10, 0.99)).toBeCloseTo(2.235, 3)
    expect(supermarketSojourn(1, 0.95)).toBeCloseTo(20, 6)
  })
})

describe('simulator engine', () => {
  it('is deterministic: the same seed gives the same figures', () => {
    const setup = setupOf('buoyant', { durationMs: 5000, slowFromMs: 1000, slowUntilMs: 4000 })
    const a = runDirect(setup, balancerNamed('p2cPeakEwma'), 7)
    const b = runDirect(setup, balancerNamed('p2cPeakEwma'), 7)
    const c = runDirect(setup, balancerNamed('p2cPeakEwma'), 8)
    expect(b).toEqual(a)
    expect(c).not.toEqual(a)
  })

  it('direct and service modes make the same picks on the same seed', async () => {
    const setup = setupOf('buoyant', { durationMs: 3000, slowFromMs: 500, slowUntilMs: 2500 })
    for (const name of ['p2c', 'p2cPeakEwma', 'roundRobin']) {
      const direct = runDirect(setup, balancerNamed(name), 3)
      const service = await runService(setup, balancerNamed(name), 3)
      expect(service.requests).toBe(direct.requests)
      expect(service.slowNodeShare).toBe(direct.slowNodeShare)
      expect(service.p99).toBeCloseTo(direct.p99, 0)
      expect(service.meanMs).toBeCloseTo(direct.meanMs, 6)
    }
  })

  it('deterministic aperture uses about clients × 13 connections and spreads load evenly', () => {
    const setup = setupOf('aperture-fleet', { durationMs: 3000 })
    const d = runDirect(setup, balancerNamed('apertureDeterministic'), 1)
    const full = runDirect(setup, balancerNamed('p2c'), 1)
    // P2C over the full mesh touches nearly every (client, server) pair even in 3 s.
    expect(full.extra['connections']).toBeGreaterThan(2800)
    // Width 0.4 of 30 servers: 12 or 13 servers (12 plus partial edges) per client.
    expect(d.extra['connections']).toBeGreaterThanOrEqual(1200)
    expect(d.extra['connections']).toBeLessThanOrEqual(1400)
    expect(d.extra['loadCvPct']).toBeLessThan(10)
  })
})
