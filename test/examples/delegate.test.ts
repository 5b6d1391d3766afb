import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)

// Runs the example the way a user does (`npx tsx examples/delegate.ts`), so it cannot rot.
async function example(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/delegate.ts', ...args])
    return { code: 0, stdout }
  } catch (e) {
    const err = e as { code: number; stdout: string }
    return { code: err.code, stdout: err.stdout }
  }
}

describe.concurrent('examples/delegate.ts', () => {
  it('explains the demo canary split, with addresses and namerd JSON', async () => {
    const { code, stdout } = await example()
    expect(code).toBe(0)
    expect(stdout).toContain('/svc/users  first of')
    expect(stdout).toContain('9 * /#/static/users  => /#/static/users  Bound(10.0.0.1:8080,10.0.0.2:8080)')
    expect(stdout).toContain('{"type":"alt","path":"/svc/users","alt":[{"type":"union"')
    expect(stdout).toContain('bound: /#/static/users-canary & 9.00*/#/static/users')
  })

  it('takes a path and a dtab', async () => {
    const { code, stdout } = await example('/s/8080/x', '/s => /$/inet/127.0.0.1')
    expect(code).toBe(0)
    expect(stdout).toContain('=> /$/inet/127.0.0.1/8080 residual /x  Bound(127.0.0.1:8080)')
  })

  it('reports bad input with the parser message and exit code 2', async () => {
    expect(await example('svc')).toEqual({
      code: 2,
      stdout: "Invalid path: svc / '/' expected but 's' found at '[s]vc'\n",
    })
    expect((await example('/s', '/s => ')).stdout).toBe(
      "Invalid dtab: simple expected but end of input found at '/s => []'\n",
    )
  })
})
