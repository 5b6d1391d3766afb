// An identifier of your own: `X-Service-Mesh-Canary: <service>=enabled|disabled` opts a request in
// or out of a service's canary. Requests that say nothing fall through to the default identifier
// (Host → /svc/<host>), where the dtab splits traffic 1:9 between canary and stable.
//
//   npx tsx examples/canary-identifier.ts
// As an l5d plugin with a linkerd config: examples/plugins/canary-identifier.ts + examples/l5d/canary.yaml.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient, headerToken } from '../src/http/index.js'
import { canaryIdentifier } from './plugins/canary-identifier.js'

// The same identifier the l5d plugin registers (examples/plugins/canary-identifier.ts).
const identifier = canaryIdentifier()

/** The dtab: opted in → canary, opted out → stable, everyone else 1 in 10 to the canary. */
function canaryDtab(canary: string, stable: string): string {
  return `
    /svc/enabled/users  => ${canary} ;
    /svc/disabled/users => ${stable} ;
    /svc/users          => 1 * ${canary} & 9 * ${stable} ;
  `
}

async function backend(name: string): Promise<{ server: Server; path: string }> {
  const server = createServer((_req, res) => res.end(name))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, path: `/$/inet/127.0.0.1/${(server.address() as AddressInfo).port}` }
}

const [canary, stable] = await Promise.all([backend('canary'), backend('stable')])
const client = createClient({
  dtab: canaryDtab(canary.path, stable.path),
  identifier: [identifier, headerToken()],
})

async function tally(n: number, headers: Record<string, string> = {}): Promise<string> {
  const seen: Record<string, number> = { canary: 0, stable: 0 }
  for (let i = 0; i < n; i++) {
    const rep = await client.request('http://users/', { headers })
    const who = await rep.body.text()
    seen[who] = (seen[who] ?? 0) + 1
  }
  return `canary ${seen['canary']}, stable ${seen['stable']}`
}

console.log(`enabled:  ${await tally(100, { 'x-service-mesh-canary': 'users=enabled' })}`)
console.log(`disabled: ${await tally(100, { 'x-service-mesh-canary': 'users=disabled' })}`)
console.log(`no header: ${await tally(2000)}`)

await client.close()
canary.server.close()
stable.server.close()
