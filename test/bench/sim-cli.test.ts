import { describe, expect, it } from 'vitest'
import { runScript } from './run-script.js'

// Runs bench/sim/cli.ts the way a user does, so it cannot rot.
const sim = (...args: string[]) => runScript('bench/sim/cli.ts', ...args)

describe.concurrent('npm run sim', () => {
  it('--json prints one object with the documented fields', async () => {
    const { code, stdout } = await sim(
      'buoyant',
      '--balancers',
      'roundRobin,p2cPeakEwma',
      '--seeds',
      '1',
      '--set',
      'durationMs=4000,slowFromMs=1000,slowUntilMs=3000',
      '--json',
      '--no-svg',
    )
    expect(code).toBe(0)
    const out = JSON.parse(stdout) as { scenario: string; results: Record<string, unknown>[] }
    expect(out.scenario).toBe('buoyant')
    expect(out.results.map((r) => r['balancer'])).toEqual(['roundRobin', 'p2cPeakEwma'])
    for (const r of out.results)
      for (const f of ['p50', 'p90', 'p99', 'p999', 'overOneSecondPct', 'slowNodeShare'])
        expect(typeof r[f]).toBe('number')
  })

  it('prints a table and lists scenarios', async () => {
    const table = await sim('low-rate-10', '--balancers', 'p2c', '--seeds', '1', '--no-svg')
    expect(table.stdout).toMatch(/^\| p2c +\|/m)
    const list = await sim('--list')
    for (const s of [
      'buoyant',
      'slow-middle',
      'gc-pause',
      'cold-start',
      'low-rate',
      'heterogeneous',
      'supermarket',
      'aperture-fleet',
    ])
      expect(list.stdout).toContain(s)
  })

  it('names the problem with bad arguments', async () => {
    expect((await sim('nope')).stderr).toContain("unknown scenario 'nope'; known: buoyant")
    expect((await sim('buoyant', '--balancers', 'fastest')).stderr).toContain("unknown balancer 'fastest'")
    expect((await sim('buoyant', '--set', 'speed=2')).stderr).toContain(
      "scenario 'buoyant' has no knob 'speed'",
    )
    expect((await sim('buoyant', '--seeds', '0')).code).toBe(1)
  })
})
