// Issue 10, item 9: endpoints that accept requests and never answer, behind a client with a total
// timeout and no attempt timeout. Real HTTP servers on loopback (port 0), the real client stack.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { fsNamer } from '../../src/namers/fs.js'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** A backend that answers its index at once, or (hanging) reads the request and never answers. */
async function backend(index: number, hangs: boolean, received: number[]): Promise<number> {
  const server: Server = createServer((req, res) => {
    received[index]!++
    req.resume()
    if (!hangs) res.end(String(index))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return (server.address() as AddressInfo).port
}

describe('a client with a total timeout over hanging endpoints', () => {
  it('ejects endpoints that accept and never answer: < 1 % of later requests reach them, ≥ 99 % succeed', async () => {
    const total = 5
    const hanging = 2
    const received = new Array<number>(total).fill(0)
    const ports: number[] = []
    for (let i = 0; i < total; i++) ports.push(await backend(i, i < hanging, received))
    const dir = mkdtempSync(join(tmpdir(), 'sb-hang-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'users'), ports.map((p) => `127.0.0.1 ${p}`).join('\n'))
    const namer = fsNamer({ rootDir: dir })
    cleanup.push(() => namer.close())
    // No attempt timeout: only the total timeout ends a request to a hanging node.
    const client = createClient({ dtab: '/svc => /#/io.l5d.fs', namers: [namer], totalTimeoutMs: 300 })
    cleanup.push(() => client.close())

    const outcomes: boolean[] = []
    const run = async (n: number) => {
      let next = 0
      const worker = async () => {
        while (next < n) {
          next++
          try {
            const res = await client.request('http://users/')
            await res.body.text()
            outcomes.push(res.statusCode === 200)
          } catch {
            outcomes.push(false)
          }
        }
      }
      await Promise.all(Array.from({ length: 10 }, worker))
    }
    // Warm-up: the hanging nodes take requests until failure accrual (5 in a row) marks them dead.
    await run(100)
    const hangingBefore = received[0]! + received[1]!
    expect(hangingBefore).toBeGreaterThanOrEqual(2 * 5)
    const before = received.reduce((a, b) => a + b, 0)
    const firstOutcomes = outcomes.length
    await run(1000)
    const after = received.reduce((a, b) => a + b, 0) - before
    const toHanging = received[0]! + received[1]! - hangingBefore
    expect(after).toBeGreaterThanOrEqual(1000)
    expect((100 * toHanging) / after).toBeLessThan(1)
    const later = outcomes.slice(firstOutcomes)
    expect((100 * later.filter((ok) => ok).length) / later.length).toBeGreaterThanOrEqual(99)
    // Accrual saw the total timeouts as failures of the hanging endpoints.
    expect(
      client.stats.counterValue('rt/client/#/io.l5d.fs/users/failure_accrual/removals'),
    ).toBeGreaterThanOrEqual(hanging)
  }, 60_000)
})
