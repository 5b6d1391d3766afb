// The loopback backends of `npm run bench:http`, in a process of their own so that the servers'
// work is not counted against the clients: N HTTP servers on 127.0.0.1 (ports chosen by the OS)
// answering every request at once with a small body. Reports its ports to the parent over IPC and
// exits when the parent disconnects.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const count = Number(process.argv[2] ?? 3)
const body = Buffer.from(JSON.stringify({ ok: true, service: 'bench', padding: 'x'.repeat(64) }))
const ports: number[] = []
let connections = 0
for (let i = 0; i < count; i++) {
  // Large enough for the 1,000-entry l5d-ctx-dtab of bench/http/dtab-headers.ts.
  const server = createServer({ maxHeaderSize: 1 << 20 }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
    res.end(body)
  })
  server.keepAliveTimeout = 60_000
  if (process.env['SB_COUNT_CONNECTIONS']) server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  ports.push((server.address() as AddressInfo).port)
}
process.send?.({ ports })
process.on('disconnect', () => {
  if (process.env['SB_COUNT_CONNECTIONS']) console.error('backend connections', connections)
  process.exit(0)
})
