// Crash safety of the file store: a namerd process taking a burst of writes is killed with
// SIGKILL; after a restart every write acknowledged with 204 is there and no file is corrupt.
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isRight } from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { fileDtabStore } from '../../src/namerd/store/file.js'
import { Dtab } from '../../src/naming/dtab.js'
import { call } from './http-helpers.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const WRITERS = 16

describe('file store crash safety', () => {
  it('every write acknowledged before SIGKILL survives, and no file is torn', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-crash-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const dataDir = join(dir, 'dtabs')
    const config = join(dir, 'namerd.yaml')
    await writeFile(
      config,
      JSON.stringify({
        admin: { port: 0 },
        storage: { kind: 'switchboard.file', dir: dataDir },
        interfaces: [{ kind: 'io.l5d.httpController', port: 0 }],
      }),
    )
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/namerd.ts', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    const deadline = Date.now() + 45_000
    while (!/http controller: (\S+)/.test(out)) {
      if (Date.now() > deadline) throw new Error(`namerd did not start: ${out}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const api = /http controller: (\S+)/.exec(out)![1]!

    // Each writer owns a namespace and writes v1, v2, ... one after the other, so the value on
    // disk after the crash must be the last acknowledged one or the one in flight.
    const acked = new Array<number>(WRITERS).fill(0)
    let killed = false
    const writer = async (w: number) => {
      for (let v = 1; !killed; v++) {
        try {
          const r = await call(`${api}/api/1/dtabs/ns${w}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/dtab' },
            body: `/svc=>/#/io.l5d.fs/v${v};/writer=>/w${w}`,
          })
          if (r.status === 204) acked[w] = v
          else throw new Error(`unexpected ${r.status}`)
        } catch {
          return // the connection died with the process
        }
      }
    }
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w))
    await new Promise((r) => setTimeout(r, 400))
    killed = true
    child.kill('SIGKILL')
    await Promise.all(writers)
    const total = acked.reduce((a, b) => a + b, 0)
    expect(total).toBeGreaterThan(WRITERS) // the burst really was a burst

    // Every file parses as it is, before any recovery runs.
    for (const name of await readdir(dataDir)) {
      if (name.startsWith('.')) continue // a temporary file of the write in flight: never acknowledged
      expect(isRight(Dtab.parse(await readFile(join(dataDir, name), 'utf8')))).toBe(true)
    }
    const store = await fileDtabStore({ dir: dataDir, pollIntervalMs: 0, watch: false })
    cleanups.push(() => store.close())
    for (let w = 0; w < WRITERS; w++) {
      if (acked[w] === 0) continue
      const v = store.observe(`ns${w}`).sample()
      expect(v, `ns${w}`).toBeDefined()
      const m = /v(\d+)/.exec(v!.dtab.show())
      const onDisk = Number(m![1])
      expect(
        onDisk === acked[w] || onDisk === acked[w]! + 1,
        `ns${w}: acked v${acked[w]}, found v${onDisk}`,
      ).toBe(true)
    }
    expect((await readdir(dataDir)).filter((n) => n.startsWith('.'))).toEqual([])
    console.log(
      `crash test: ${total} writes acknowledged by ${WRITERS} writers before SIGKILL; all present after restart`,
    )
  })
})
