// A fleet of l5d processes (issue 11, Done means c and d): three proxies steered by one namerd, and
// a backend SIGKILLed under load.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { isLeft } from 'fp-ts/lib/Either.js'
import { Pool } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeConfig, parseConfigText } from '../../src/config/decode.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { startNamerd } from '../../src/namerd/server.js'
import { call } from './http-helpers.js'
import { type L5dProcess, startL5d, tempDir } from './l5d.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function backend(name: string): Promise<number> {
  const server: Server = createServer((req, res) => {
    req.resume()
    res.end(name)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  )
  return (server.address() as AddressInfo).port
}

async function scratch(): Promise<string> {
  const t = await tempDir()
  cleanups.push(() => t.remove())
  return t.dir
}

async function l5d(config: string, dir: string): Promise<L5dProcess> {
  const p = await startL5d(config, dir)
  cleanups.push(() => p.stop())
  return p
}

describe('(c) three l5d steered by one namerd', () => {
  it('a namerctl dtab update moves a 1:9 canary to 100% on every proxy within 2 s, no restart', async () => {
    const dir = await scratch()
    const stable = await backend('stable')
    const canary = await backend('canary')
    const split = `/svc/web => 1 * /$/inet/127.0.0.1/${canary} & 9 * /$/inet/127.0.0.1/${stable};`
    const raw = parseConfigText(
      `storage:\n  kind: io.l5d.inMemory\n  namespaces:\n    default: "${split}"\ninterfaces:\n- kind: io.l5d.httpController\n  port: 0\nadmin: {port: 0}\n`,
    )
    if (isLeft(raw)) throw raw.left
    const spec = decodeConfig(namerdConfigCodec(), raw.right)
    if (isLeft(spec)) throw spec.left
    const namerd = await startNamerd(spec.right, { log: () => {} })
    cleanups.push(() => namerd.close())
    const port = namerd.interfaces[0]!.address.port
    const config = `admin: {port: 0}\nrouters:\n- protocol: http\n  interpreter:\n    kind: io.l5d.namerd.http\n    experimental: true\n    dst: /$/inet/127.0.0.1/${port}\n    namespace: default\n  servers: [{port: 0}]\n`
    const proxies = await Promise.all([l5d(config, dir), l5d(config, dir), l5d(config, dir)])
    const hit = async (p: L5dProcess) => (await call(`${p.url('http')}/`, { headers: { host: 'web' } })).body
    for (const p of proxies) {
      const seen = { stable: 0, canary: 0 } as Record<string, number>
      for (let i = 0; i < 100; i++) seen[await hit(p)]!++
      // 1:9 — about 10 of 100 to the canary.
      expect(seen['canary']).toBeGreaterThanOrEqual(1)
      expect(seen['canary']).toBeLessThanOrEqual(30)
      expect(seen['stable']! + seen['canary']!).toBe(100)
    }
    const file = join(dir, 'all-canary.dtab')
    await writeFile(file, `/svc/web => /$/inet/127.0.0.1/${canary};\n`)
    const updated = await new Promise<{ code: number; err: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/namerctl.ts',
          '--base-url',
          namerd.interfaces[0]!.url,
          'dtab',
          'update',
          'default',
          file,
        ],
        (error, _out, err) => resolve({ code: error ? 1 : 0, err }),
      ),
    )
    expect(updated).toEqual({ code: 0, err: '' })
    const t0 = Date.now()
    const moved = await Promise.all(
      proxies.map(async (p) => {
        while (Date.now() - t0 < 10_000) {
          if ((await hit(p)) === 'canary') return Date.now() - t0
          await new Promise((r) => setTimeout(r, 20))
        }
        return Number.POSITIVE_INFINITY
      }),
    )
    console.log(`canary at 100% on each proxy after ${moved.join(', ')} ms`)
    for (const ms of moved) expect(ms).toBeLessThan(2000)
    for (const p of proxies) for (let i = 0; i < 30; i++) expect(await hit(p)).toBe('canary')
  }, 180_000)
})

function killableBackend(name: string): Promise<{ child: ChildProcess; port: number }> {
  const script = `const s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>r.end(${JSON.stringify(name)}))});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: Number(d.toString().trim()) }))
    child.once('exit', () => reject(new Error('backend died')))
  })
}

describe('(d) a backend SIGKILLed under load', () => {
  it('2,000 requests at 50 in flight: >= 99.9% succeed', async () => {
    const dir = await scratch()
    const [a, b] = await Promise.all([killableBackend('a'), killableBackend('b')])
    mkdirSync(join(dir, 'disco'))
    await writeFile(join(dir, 'disco', 'web'), `127.0.0.1 ${a.port}\n127.0.0.1 ${b.port}\n`)
    const p = await l5d(
      `admin: {port: 0}\nnamers:\n- kind: io.l5d.fs\n  rootDir: ${join(dir, 'disco')}\nrouters:\n- protocol: http\n  dtab: /svc => /#/io.l5d.fs\n  service:\n    responseClassifier:\n      kind: io.l5d.http.retryableRead5XX\n  servers: [{port: 0}]\n`,
      dir,
    )
    const pool = new Pool(p.url('http'), { connections: 50 })
    cleanups.push(() => pool.close())
    const TOTAL = 2000
    let next = 0
    let ok = 0
    const failures: string[] = []
    let killed = false
    const worker = async () => {
      while (next < TOTAL) {
        next++
        if (!killed && next >= TOTAL / 4) {
          killed = true
          a.child.kill('SIGKILL')
        }
        try {
          const rep = await pool.request({ path: '/', method: 'GET', headers: { host: 'web' } })
          const body = await rep.body.text()
          if (rep.statusCode === 200) ok++
          else failures.push(`${rep.statusCode} ${body.split('\n')[0]}`)
        } catch (error) {
          failures.push(String(error))
        }
      }
    }
    await Promise.all(Array.from({ length: 50 }, worker))
    console.log(`${ok}/${TOTAL} succeeded; failures: ${failures.slice(0, 5).join(' | ')}`)
    expect(killed).toBe(true)
    expect(ok / TOTAL).toBeGreaterThanOrEqual(0.999)
  }, 180_000)
})
