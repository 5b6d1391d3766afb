// The HTTP client routed by namerd: `createClient({ interpreter: namerdInterpreter(...) })`, and the
// same from a router config (`interpreter: { kind: io.l5d.namerd.http }`). A dtab change stored in
// namerd re-routes the client's next requests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createClientFromConfig } from '../../src/config/router.js'
import { type Client, createClient } from '../../src/http/client.js'
import { namerdInterpreter } from '../../src/namerd/client/interpreter.js'
import { fsNamerKind, inMemoryStoreKind, type NamerdSpec } from '../../src/namerd/config.js'
import { type Namerd, startNamerd } from '../../src/namerd/server.js'
import { Dtab } from '../../src/naming/dtab.js'
import { startServer, type TestServer } from '../http/servers.js'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function backend(name: string): Promise<TestServer> {
  const s = await startServer((_req, res) => res.end(name))
  cleanup.push(() => s.close())
  return s
}

async function namerdWith(files: Record<string, string>, dtab: string): Promise<Namerd> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-namerd-http-'))
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  const storage = inMemoryStoreKind.codec.decode({ kind: 'io.l5d.inMemory', namespaces: { default: dtab } })
  const fs = fsNamerKind.codec.decode({ kind: 'io.l5d.fs', rootDir: dir })
  if (storage._tag === 'Left' || fs._tag === 'Left') throw new Error('bad test config')
  const spec: NamerdSpec = {
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
  }
  const namerd = await startNamerd(spec, { log: () => {} })
  cleanup.push(() => namerd.close())
  return namerd
}

async function text(c: Client, url: string): Promise<string> {
  return (await c.request(url)).body.text()
}

/** Asks until the answer is `want` (namerd's watch streams deliver changes asynchronously). */
async function eventually(f: () => Promise<string>, want: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    last = await f()
    if (last === want) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`still ${last}, wanted ${want}`)
}

describe('HTTP client routed by namerd', () => {
  it('binds through namerdInterpreter and follows a dtab change stored in namerd', async () => {
    const v1 = await backend('v1')
    const v2 = await backend('v2')
    const namerd = await namerdWith(
      { 'users-v1': `127.0.0.1 ${v1.port}\n`, 'users-v2': `127.0.0.1 ${v2.port}\n` },
      '/svc/users => /#/io.l5d.fs/users-v1',
    )
    const interpreter = namerdInterpreter({ baseUrl: namerd.interfaces[0]!.url })
    cleanup.push(() => interpreter.close())
    const client = createClient({ interpreter })
    cleanup.push(() => client.close())
    expect(await text(client, 'http://users/')).toBe('v1')
    await namerd.store.put('default', Dtab.read('/svc/users => /#/io.l5d.fs/users-v2'))
    await eventually(() => text(client, 'http://users/'), 'v2')
  })

  it('does the same from a router config with interpreter io.l5d.namerd.http', async () => {
    const v1 = await backend('v1')
    const namerd = await namerdWith({ users: `127.0.0.1 ${v1.port}\n` }, '/svc => /#/io.l5d.fs')
    const { address } = namerd.interfaces[0]!
    const client = createClientFromConfig(`
interpreter:
  kind: io.l5d.namerd.http
  dst: /$/inet/127.0.0.1/${address.port}
  namespace: default
`)
    cleanup.push(() => client.close())
    expect(await text(client, 'http://users/')).toBe('v1')
  })
})
