import { describe, expect, it } from 'vitest'
import { runScript } from '../bench/run-script.js'

// Runs examples/compare-balancers.ts the way a user does, so it cannot rot.
const example = (...args: string[]) => runScript('examples/compare-balancers.ts', ...args)

describe.concurrent('examples/compare-balancers.ts', () => {
  it('compares the balancers on a user-defined latency model', async () => {
    const { code, stdout } = await example('--seeds', '1', '--duration', '4000')
    expect(code).toBe(0)
    expect(stdout).toContain('my-service: 1 seeds × 4 s of virtual time')
    for (const name of ['roundRobin', 'p2c', 'p2cPeakEwma', 'aperture', 'heap', 'oracle'])
      expect(stdout).toMatch(new RegExp(`^\\| ${name} +\\|`, 'm'))
    expect(stdout).toMatch(/lowest p99 \(oracle aside\): \w+ at [\d.]+ ms/)
  })

  it('rejects a bad option with exit code 2', async () => {
    const { code, stderr } = await example('--seeds', 'many')
    expect(code).toBe(2)
    expect(stderr).toContain("--seeds expects a positive number, found 'many'")
  })
})
