// A namer over your own service registry, and a client that routes through it. The namer is the
// 20 lines between the markers: it answers /#/registry/<service> with the service's live instances.
//
//   npx tsx examples/custom-namer.ts
import { EventEmitter } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Var } from '../src/core/index.js'
import { createClient } from '../src/http/index.js'
import { Addr, Address, Name, Namer, NameTree, Path } from '../src/naming/index.js'

/** Your registry: instances come and go, and it tells whoever watches a service. */
class Registry extends EventEmitter {
  private readonly services = new Map<string, string[]>()
  set(service: string, instances: string[]): void {
    this.services.set(service, instances)
    this.emit(service, instances)
  }
  watch(service: string, f: (instances: string[]) => void): () => void {
    f(this.services.get(service) ?? [])
    this.on(service, f)
    return () => this.off(service, f)
  }
}

// --- the namer -------------------------------------------------------------------------------
function registryNamer(registry: Registry): Namer {
  return Namer.of((path) => {
    const service = path.segments[0]
    if (service === undefined) return NameTree.Neg
    // Live: the registry is watched while some client uses the name, and the balancer follows it.
    const addr = Var.async<Addr>(Addr.Pending, (update) =>
      registry.watch(service, (instances) =>
        update(instances.length === 0 ? Addr.Neg : Addr.bound(instances.map((i) => Address.read(i)))),
      ),
    )
    return NameTree.leaf(Name.bound(Path.of('#', 'registry', service), addr, path.drop(1)))
  })
}
// --- end of the namer --------------------------------------------------------------------------

async function backend(name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((_req, res) => res.end(name))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` }
}

const [a, b] = await Promise.all([backend('orders-a'), backend('orders-b')])
const registry = new Registry()
registry.set('orders', [a.address])

const client = createClient({
  dtab: '/svc => /#/registry',
  namers: [{ prefix: '/#/registry', namer: registryNamer(registry) }],
})
const call = async () => (await client.fetch('http://orders/')).text()

console.log(`one instance: ${await call()}`)
registry.set('orders', [a.address, b.address])
const seen = new Set<string>()
for (let i = 0; i < 50; i++) seen.add(await call())
console.log(`two instances: ${[...seen].sort().join(', ')}`)
registry.set('orders', [b.address])
console.log(`a deregistered: ${await call()}`)

await client.close()
a.server.close()
b.server.close()
