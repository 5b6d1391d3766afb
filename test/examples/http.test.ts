import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)

// Runs each example as a user does (`npx tsx examples/<name>.ts`). Each must also exit on its own:
// a client that kept a socket or a timer alive after close() would make it hang until the timeout.
async function example(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], {
    timeout: 55_000,
  })
  return stdout
}

function count(line: string | undefined, name: string): number {
  const m = new RegExp(`${name} (\\d+)`).exec(line ?? '')
  return m ? Number(m[1]) : Number.NaN
}

describe.concurrent('HTTP examples', () => {
  it('fetch-through-dtab: routes by name, splits 1:9, follows a dtab edit and an l5d-dtab', async () => {
    const lines = (await example('fetch-through-dtab')).split('\n')
    expect(lines[0]).toBe('web saw web/index.html')
    const split = lines.find((l) => l.startsWith('split:'))
    const canary = count(split, 'users-v2')
    expect(canary + count(split, 'users-v1')).toBe(1000)
    expect(canary).toBeGreaterThan(50)
    expect(canary).toBeLessThan(150)
    expect(lines).toContain('after the edit: users-v2 saw users/api/42')
    expect(lines).toContain('with l5d-dtab: web saw users/api/42')
    expect(lines).toContain('rt_service_requests_total{service="svc/users"} 1002')
  })

  it('custom-namer: follows the registry as instances come and go', async () => {
    expect(await example('custom-namer')).toBe(
      'one instance: orders-a\ntwo instances: orders-a, orders-b\na deregistered: orders-b\n',
    )
  })

  it('canary-identifier: opt in, opt out, and a 1:9 split for everyone else', async () => {
    const lines = (await example('canary-identifier')).split('\n')
    expect(lines[0]).toBe('enabled:  canary 100, stable 0')
    expect(lines[1]).toBe('disabled: canary 0, stable 100')
    const canary = count(lines[2], 'canary')
    expect(canary + count(lines[2], 'stable')).toBe(2000)
    expect(canary).toBeGreaterThan(120)
    expect(canary).toBeLessThan(280)
  })
})
