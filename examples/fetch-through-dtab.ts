// Routes fetch() calls by name: three local backends found by the fs namer, a dtab that splits
// `users` 1:9 between a canary and the stable version, and live re-routing by editing the dtab.
//
//   npx tsx examples/fetch-through-dtab.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Var } from '../src/core/index.js'
import { createClient } from '../src/http/index.js'
import { fsNamer } from '../src/namers/index.js'
import { Dtab } from '../src/naming/index.js'

/** A backend that answers with its own name. */
async function backend(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => res.end(`${name} saw ${req.headers.host}${req.url}`))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

const [v1, v2, web] = await Promise.all([backend('users-v1'), backend('users-v2'), backend('web')])

// The service discovery directory the fs namer watches: one file per service, "host port" lines.
const disco = mkdtempSync(join(tmpdir(), 'disco-'))
writeFileSync(join(disco, 'users'), `127.0.0.1 ${v1.port}\n`)
writeFileSync(join(disco, 'users-canary'), `127.0.0.1 ${v2.port}\n`)
writeFileSync(join(disco, 'web'), `127.0.0.1 ${web.port}\n`)
const namer = fsNamer({ rootDir: disco })

// Every /svc/<name> goes to the file of that name; users is split 1:9 between canary and stable.
const dtab = Var.value(
  Dtab.read(`
    /svc       => /#/io.l5d.fs ;
    /svc/users => 1 * /#/io.l5d.fs/users-canary & 9 * /#/io.l5d.fs/users ;
  `),
)
const client = createClient({ dtab, namers: [namer] })

const rep = await client.fetch('http://web/index.html')
console.log(await rep.text())

const count = async (n: number) => {
  const seen: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const who = (await (await client.fetch('http://users/api/42')).text()).split(' ')[0]!
    seen[who] = (seen[who] ?? 0) + 1
  }
  return seen
}
const split = await count(1000)
console.log(`split: users-v1 ${split['users-v1'] ?? 0}, users-v2 ${split['users-v2'] ?? 0}`)

// Edit the dtab: the next request goes the new way, no restart, nothing dropped.
dtab.update(dtab.sample().append(Dtab.read('/svc/users => /#/io.l5d.fs/users-canary').entries[0]!))
console.log(`after the edit: ${await (await client.fetch('http://users/api/42')).text()}`)

// A request can carry its own rules (l5d-dtab), for that request only.
const pinned = await client.fetch('http://users/api/42', {
  headers: { 'l5d-dtab': '/svc/users => /svc/web' },
})
console.log(`with l5d-dtab: ${await pinned.text()}`)

console.log(
  client.stats
    .prometheus()
    .split('\n')
    .filter((l) => l.startsWith('rt_service_requests_total{service="svc/users"}'))
    .join('\n'),
)

await client.close()
namer.close()
for (const b of [v1, v2, web]) b.server.close()
rmSync(disco, { recursive: true, force: true })
