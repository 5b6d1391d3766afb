// Throw-away certificates for TLS tests, made with the openssl command line tool: a CA, a server
// certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TestCertificates {
  readonly caFile: string
  readonly serverCertFile: string
  readonly serverKeyFile: string
  readonly clientCertFile: string
  readonly clientKeyFile: string
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    const e = error as { code?: string; stderr?: Buffer }
    if (e.code === 'ENOENT')
      throw new Error('openssl not found: the TLS tests need it (Debian: apt-get install -y openssl)')
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() ?? String(error)}`)
  }
}

/**
 * Writes a CA, a server and a client certificate into `dir`.
 *
 * @example
 * ```ts
 * const certs = makeCertificates(dir)
 * await startEtcd({ tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile } })
 * ```
 */
export function makeCertificates(dir: string): TestCertificates {
  const days = ['-days', '2']
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    ...days,
    '-subj',
    '/CN=switchboard test CA',
  ])
  const leaf = (name: string, cn: string, ext: string) => {
    openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ])
    const extFile = join(dir, `${name}.ext`)
    writeFileSync(extFile, `${ext}\n`)
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      ...days,
      '-extfile',
      extFile,
    ])
  }
  leaf(
    'server',
    'localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth',
  )
  leaf('client', 'namerd', 'extendedKeyUsage=clientAuth')
  return {
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server-key.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client-key.pem'),
  }
}
