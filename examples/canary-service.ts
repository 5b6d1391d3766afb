// A stand-in for one version of a service: answers every request with its version name.
//
//   npx tsx examples/canary-service.ts 8080 v1
//   npx tsx examples/canary-service.ts 9080 v2
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'

/** Starts a server on 127.0.0.1:`port` (0 for any) that answers `version`. */
export function startService(port: number, version: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(version)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }))
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [port = '8080', version = 'v1'] = process.argv.slice(2)
  const { port: bound } = await startService(Number(port), version)
  console.log(`users ${version} listening on http://127.0.0.1:${bound}`)
}
