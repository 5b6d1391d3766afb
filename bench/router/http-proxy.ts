// node-http-proxy as a reverse proxy for `bench/router.bench.ts`: round robin over the backends
// given on the command line, keep-alive agent, in a process of its own. Reports its port over IPC.
import { Agent, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import httpProxy from 'http-proxy'

const targets = process.argv.slice(2).map((p) => `http://127.0.0.1:${p}`)
const agent = new Agent({ keepAlive: true, maxSockets: 256 })
const proxy = httpProxy.createProxyServer({ agent, xfwd: false })
proxy.on('error', (_e, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502)
  res.end()
})
let next = 0
const server = createServer((req, res) => {
  const target = targets[next++ % targets.length]!
  proxy.web(req, res, { target })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }))
process.on('disconnect', () => process.exit(0))
