import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConfigError, decodeConfig, parseConfigText } from '../../src/config/decode.js'
import { type HttpControllerSpec, namerdConfigCodec } from '../../src/namerd/config.js'
import { type Namerd, startNamerd } from '../../src/namerd/server.js'
import { makeCertificates, type TestCertificates } from '../integration/certs.js'

// linkerd's HttpControlServiceConfigTest: an io.l5d.httpController takes `ip`/`port`, a server
// `tls` block and Finagle `socketOptions`.
const decode = (iface: string) => {
  const raw = parseConfigText(
    `storage:\n  kind: io.l5d.inMemory\n  namespaces:\n    default: /a => /b\nadmin:\n  port: 0\ninterfaces:\n${iface}`,
    'test.yaml',
  )
  if (isLeft(raw)) throw raw.left
  return decodeConfig(namerdConfigCodec(), raw.right, 'test.yaml')
}

describe('io.l5d.httpController options', () => {
  it('decodes ip and port', () => {
    const r = decode('- kind: io.l5d.httpController\n  ip: 1.2.3.4\n  port: 1234\n')
    if (!isRight(r)) throw r.left
    expect(r.right.interfaces[0]).toMatchObject({ ip: '1.2.3.4', port: 1234 })
  })

  it('decodes a server tls block', () => {
    const r = decode(`- kind: io.l5d.httpController
  tls:
    certPath: cert.pem
    keyPath: key.pem
    caCertPath: cacert.pem
    ciphers:
    - "foo"
    - "bar"
    requireClientAuth: true
`)
    if (!isRight(r)) throw r.left
    expect(r.right.interfaces[0]!.tls).toEqual({
      certPath: 'cert.pem',
      keyPath: 'key.pem',
      caCertPath: 'cacert.pem',
      ciphers: ['foo', 'bar'],
      requireClientAuth: true,
    })
  })

  it('decodes socket options', () => {
    const r = decode(`- kind: io.l5d.httpController
  socketOptions:
    noDelay: true
    reuseAddr: true
    reusePort: true
    readTimeoutMs: 60000
    writeTimeoutMs: 2000
    keepAlive: true
    backlog: 128
`)
    if (!isRight(r)) throw r.left
    expect((r.right.interfaces[0] as HttpControllerSpec).socketOptions).toEqual({
      noDelay: true,
      reuseAddr: true,
      reusePort: true,
      readTimeoutMs: 60000,
      writeTimeoutMs: 2000,
      keepAlive: true,
      backlog: 128,
    })
  })

  it('names a tls block without its required paths', () => {
    const r = decode('- kind: io.l5d.httpController\n  tls:\n    certPath: cert.pem\n')
    if (!isLeft(r)) throw new Error('expected a ConfigError')
    expect((r.left as ConfigError).problems.map((p) => p.path)).toEqual(['interfaces[0].tls.keyPath'])
  })
})

describe('io.l5d.httpController over TLS', () => {
  let dir: string
  let certs: TestCertificates
  const started: Namerd[] = []

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-namerd-tls-'))
    certs = makeCertificates(dir)
  })
  afterAll(async () => {
    for (const n of started) await n.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const start = async (requireClientAuth: boolean) => {
    const r = decode(`- kind: io.l5d.httpController
  port: 0
  tls:
    certPath: ${certs.serverCertFile}
    keyPath: ${certs.serverKeyFile}
    caCertPath: ${certs.caFile}
    requireClientAuth: ${requireClientAuth}
`)
    if (!isRight(r)) throw r.left
    const namerd = await startNamerd(r.right, { log: () => {} })
    started.push(namerd)
    return namerd.interfaces[0]!
  }

  const get = (url: string, client?: { cert: Buffer; key: Buffer }) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${url}/api/1/dtabs`, { ca: readFileSync(certs.caFile), ...client }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })

  it('serves the API over https', async () => {
    const iface = await start(false)
    expect(iface.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(await get(iface.url)).toEqual({ status: 200, body: '["default"]\n' })
  })

  it('with requireClientAuth, refuses a client without a certificate and serves one with', async () => {
    const iface = await start(true)
    await expect(get(iface.url)).rejects.toThrow()
    const client = { cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) }
    expect(await get(iface.url, client)).toEqual({ status: 200, body: '["default"]\n' })
  })
})
