import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Service } from '../../src/core/service.js'
import { retryableRead5xx } from '../../src/http/classifiers.js'
import { createClient } from '../../src/http/client.js'
import { httpEndpoint } from '../../src/http/endpoint.js'
import { consecutiveFailures } from '../../src/liveness/policy.js'
import { fsNamer } from '../../src/namers/fs.js'
import { Backoff } from '../../src/retry/backoff.js'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

const fixture = new URL('./fixtures/http-backend.ts', import.meta.url).pathname

/** Starts a backend process; resolves with it and its port once it listens. */
async function startBackend(name: string, port = 0): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fixture, [name, String(port)], { execArgv: ['--import', 'tsx'], stdio: 'ignore' })
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const got = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port))
    child.once('exit', (code) => reject(new Error(`backend ${name} exited with ${code}`)))
  })
  return { child, port: got }
}

function discoDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-http-'))
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('HTTP client on loopback', () => {
  it('splits traffic 1:9 by a weighted dtab within ±2% over 5,000 requests', async () => {
    const canary = await startBackend('canary')
    const stable = await startBackend('stable')
    const dir = discoDir({
      'users-canary': `127.0.0.1 ${canary.port}\n`,
      users: `127.0.0.1 ${stable.port}\n`,
    })
    const namer = fsNamer({ rootDir: dir })
    cleanup.push(() => namer.close())
    const client = createClient({
      dtab: '/svc => /#/io.l5d.fs; /svc/users => 1 * /#/io.l5d.fs/users-canary & 9 * /#/io.l5d.fs/users',
      namers: [namer],
    })
    cleanup.push(() => client.close())
    const total = 5000
    let next = 0
    let canaries = 0
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < total) {
          next++
          const rep = await client.request('http://users/')
          if (rep.headers['x-backend'] === 'canary') canaries++
          await rep.body.dump()
        }
      }),
    )
    expect(Math.abs(canaries / total - 0.1)).toBeLessThanOrEqual(0.02)
  })

  it('survives a backend killed mid-run: ≥ 99.9 % succeed, dead within 5 failures, back after one probe', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)))
    const dir = discoDir({ web: backends.map((b) => `127.0.0.1 ${b.port}`).join('\n') })
    const namer = fsNamer({ rootDir: dir })
    cleanup.push(() => namer.close())
    const probeMs = 300
    const victim = backends[1]!
    const victimAddress = `127.0.0.1:${victim.port}`
    // What happens at the victim's endpoint: when each attempt started, when it failed.
    let killedAt = Number.POSITIVE_INFINITY
    const attempts: { started: number; failedAt?: number }[] = []
    let servedAfterRestart = Number.POSITIVE_INFINITY
    let restartedAt = Number.POSITIVE_INFINITY
    const client = createClient({
      dtab: '/svc => /#/io.l5d.fs',
      namers: [namer],
      responseClassifier: retryableRead5xx,
      failureAccrual: consecutiveFailures(5, Backoff.constant(probeMs)),
      endpoint: (address, options) => {
        const e = httpEndpoint(address, options)
        if (`${address.host}:${address.port}` !== victimAddress) return e
        return Service.of(
          (req, signal) => {
            const started = performance.now()
            const attempt: { started: number; failedAt?: number } = { started }
            // Attempts started just before the kill count too: their failures feed failure accrual.
            if (started < restartedAt) attempts.push(attempt)
            return e(req, signal).then(
              (rep) => {
                if (started >= restartedAt)
                  servedAfterRestart = Math.min(servedAfterRestart, performance.now())
                return rep
              },
              (error: unknown) => {
                attempt.failedAt = performance.now()
                throw error
              },
            )
          },
          { status: () => e.status, close: () => e.close() },
        )
      },
    })
    cleanup.push(() => client.close())

    const total = 2000
    let next = 0
    let ok = 0
    let failed = 0
    const run = async () => {
      while (next < total) {
        const n = next++
        if (n === 600) {
          killedAt = performance.now()
          victim.child.kill('SIGKILL')
        }
        try {
          const rep = await client.request('http://web/')
          await rep.body.dump()
          if (rep.statusCode === 200) ok++
          else failed++
        } catch {
          failed++
        }
      }
    }
    await Promise.all(Array.from({ length: 50 }, run))
    expect(ok + failed).toBe(total)
    expect(ok / total).toBeGreaterThanOrEqual(0.999)
    // Out of rotation at the fifth failure: after it, the victim only gets probes, one per period.
    expect(client.stats.counterValue('rt/client/#/io.l5d.fs/web/failure_accrual/removals')).toBeGreaterThan(0)
    const failures = attempts
      .filter((a) => a.failedAt !== undefined && a.failedAt >= killedAt)
      .map((a) => a.failedAt!)
    failures.sort((x, y) => x - y)
    expect(failures.length).toBeGreaterThanOrEqual(5)
    const markedDead = failures[4]!
    const runEnd = performance.now()
    const probes = attempts.filter((a) => a.started > markedDead).map((a) => a.started)
    expect(probes.length).toBeLessThanOrEqual(Math.floor((runEnd - markedDead) / probeMs) + 1)
    for (let i = 1; i < probes.length; i++)
      expect(probes[i]! - probes[i - 1]!).toBeGreaterThanOrEqual(probeMs - 5)

    // Restart it on the same port: it is back after one probe period.
    await startBackend('b', victim.port)
    restartedAt = performance.now()
    const deadline = restartedAt + probeMs * 4
    while (servedAfterRestart === Number.POSITIVE_INFINITY && performance.now() < deadline) {
      await Promise.all(
        Array.from({ length: 6 }, async () => (await client.request('http://web/')).body.dump()),
      )
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(servedAfterRestart - restartedAt).toBeLessThanOrEqual(probeMs + 100)
  })
})
