// A client that trickles its request headers to an l5d server is cut off (408), and others are served.
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { request } from 'undici'
import { expect, it } from 'vitest'
import { createLinker, HEADERS_TIMEOUT_MS } from '../../src/router/linker.js'

it('closes a connection whose headers never finish, within the headers timeout', async () => {
  const backend = createServer((_req, res) => res.end('ok'))
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  const port = (backend.address() as { port: number }).port
  const linker = await createLinker(
    `routers:\n- protocol: http\n  dtab: /svc => /$/inet/127.0.0.1/${port};\n  servers: [{ip: 127.0.0.1, port: 0}]\nadmin: {ip: 127.0.0.1, port: 0}\n`,
    { log: () => {} },
  )
  try {
    const url = new URL(linker.servers[0]!.url)
    const slow = connect(Number(url.port), '127.0.0.1')
    let received = ''
    slow.on('data', (d: Buffer) => {
      received += d.toString('latin1')
    })
    slow.on('error', () => {})
    const started = Date.now()
    const closed = new Promise<number>((resolve) => slow.on('close', () => resolve(Date.now() - started)))
    slow.write('GET / HTTP/1.1\r\nHost: a\r\n')
    const trickle = setInterval(() => slow.destroyed || slow.write('X'), 100)
    const normal = await request(url.toString(), { headers: { host: 'a' } })
    expect(normal.statusCode).toBe(200)
    await normal.body.text()
    const after = await closed
    clearInterval(trickle)
    expect(after).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 500)
    expect(after).toBeLessThan(HEADERS_TIMEOUT_MS + 5_000)
    expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
  } finally {
    await linker.close(0)
    backend.close()
  }
}, 60_000)
