// Runs the canary tutorial's pieces (examples/canary-service.ts, examples/canary-client.ts) against
// a real namerd, so the tutorial cannot rot.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCanaryClient } from '../../examples/canary-client.js'
import { startService } from '../../examples/canary-service.js'
import { fsNamerKind, inMemoryStoreKind } from '../../src/namerd/config.js'
import { type Namerd, startNamerd } from '../../src/namerd/server.js'
import { call } from '../integration/http-helpers.js'

let dir: string
let namerd: Namerd
const servers: Server[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-canary-'))
  const v1 = await startService(0, 'v1')
  const v2 = await startService(0, 'v2')
  servers.push(v1.server, v2.server)
  await writeFile(join(dir, 'users'), `127.0.0.1 ${v1.port}\n`)
  await writeFile(join(dir, 'users-v2'), `127.0.0.1 ${v2.port}\n`)
  const storage = inMemoryStoreKind.codec.decode({
    kind: 'io.l5d.inMemory',
    namespaces: { demo: '/svc=>/#/io.l5d.fs' },
  })
  const fs = fsNamerKind.codec.decode({ kind: 'io.l5d.fs', rootDir: dir })
  if (storage._tag === 'Left' || fs._tag === 'Left') throw new Error('bad config')
  namerd = await startNamerd(
    {
      admin: { ip: '127.0.0.1', port: 0, shutdownGraceMs: 0 },
      storage: storage.right,
      namers: [fs.right],
      interfaces: [
        {
          kind: 'io.l5d.httpController',
          ip: '127.0.0.1',
          port: 0,
          authToken: undefined,
          maxBodyBytes: 1 << 20,
        },
      ],
    },
    { log: () => {} },
  )
})

afterAll(async () => {
  await namerd.close()
  for (const s of servers) s.close()
  await rm(dir, { recursive: true, force: true })
})

const setDtab = (dtab: string) =>
  call(`${namerd.interfaces[0]!.url}/api/1/dtabs/demo`, {
    method: 'PUT',
    headers: { 'content-type': 'application/dtab' },
    body: dtab,
  })
const run = (requests: number) =>
  runCanaryClient({
    baseUrl: namerd.interfaces[0]!.url,
    namespace: 'demo',
    path: '/svc/users',
    rate: 500,
    requests,
    log: () => {},
  })

describe('the canary tutorial', () => {
  it('sends everything to v1, then splits by the union weights, then everything to v2', async () => {
    expect(await run(20)).toEqual({ v1: 20 })
    await setDtab('/svc=>/#/io.l5d.fs;/svc/users=>1 * /#/io.l5d.fs/users-v2 & 1 * /#/io.l5d.fs/users')
    const split = await run(200)
    expect(split['v1']).toBeGreaterThan(50)
    expect(split['v2']).toBeGreaterThan(50)
    await setDtab('/svc=>/#/io.l5d.fs;/svc/users=>/#/io.l5d.fs/users-v2')
    expect(await run(20)).toEqual({ v2: 20 })
  })
})
