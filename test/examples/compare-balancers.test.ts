import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)

// Runs the example the way a user does (`npx tsx examples/compare-balancers.ts`), so it cannot rot.
async function example(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      '--import',
      'tsx',
      'examples/compare-balancers.ts',
      ...args,
    ])
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

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
