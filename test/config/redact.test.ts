import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isSecretField, REDACTED, redactConfig } from '../../src/config/index.js'

describe('redactConfig', () => {
  it('redacts tokens, passwords, secrets and key paths at any depth, and URL user-info', () => {
    const config = {
      admin: { ip: '127.0.0.1', port: 9991 },
      storage: {
        kind: 'io.l5d.etcd',
        host: 'etcd',
        password: 'etcd-pass',
        tls: { caCertPath: '/ca.pem', certPath: '/c.pem', keyPath: '/k.pem' },
        url: 'https://user:pw@etcd.example:2379/v3',
      },
      interfaces: [{ kind: 'io.l5d.httpController', authToken: 's3cret', maxBodyBytes: 10 }],
      namers: [{ kind: 'io.l5d.consul', token: { nested: 'x' }, api_key: 'k', 'client-secret': 'c' }],
    }
    const before = JSON.stringify(config)
    const out = redactConfig(config)
    expect(JSON.stringify(config)).toBe(before) // input untouched
    expect(out.storage.password).toBe(REDACTED)
    expect(out.storage.tls).toEqual({ caCertPath: '/ca.pem', certPath: '/c.pem', keyPath: REDACTED })
    expect(out.storage.url).toBe(`https://${REDACTED}@etcd.example:2379/v3`)
    expect(out.interfaces[0]).toEqual({
      kind: 'io.l5d.httpController',
      authToken: REDACTED,
      maxBodyBytes: 10,
    })
    expect(out.namers[0]).toEqual({
      kind: 'io.l5d.consul',
      token: REDACTED,
      api_key: REDACTED,
      'client-secret': REDACTED,
    })
    for (const secret of ['etcd-pass', '/k.pem', 's3cret', 'pw@', '"x"'])
      expect(JSON.stringify(out)).not.toContain(secret)
  })

  it('takes extra field names and survives cycles', () => {
    const c: Record<string, unknown> = { dsn: 'x', keep: 1 }
    c['self'] = c
    const out = redactConfig(c, { extraFields: ['DSN'] }) as Record<string, unknown>
    expect(out['dsn']).toBe(REDACTED)
    expect(out['keep']).toBe(1)
    expect(out['self']).toBe('[circular]')
  })

  it('knows which names are secret', () => {
    for (const n of [
      'authToken',
      'password',
      'PASSWORD',
      'keyPath',
      'clientKey',
      'tls_key_file',
      'secretKey',
      'credentials',
    ])
      expect(isSecretField(n), n).toBe(true)
    for (const n of ['kind', 'port', 'caCertPath', 'certPath', 'keepAlive', 'namespaces', 'dir'])
      expect(isSecretField(n), n).toBe(false)
  })

  it('never lets a secret value through, whatever the shape', () => {
    const secret = 'SECRET-VALUE-123'
    const shape = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(1, 'plain', true, null),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'kind', 'port', 'tls'), tie('node'), { maxKeys: 3 }),
        fc.record({ password: fc.constant(secret), other: tie('node') }),
      ),
    }))
    fc.assert(
      fc.property(shape.node, (c) => {
        expect(JSON.stringify(redactConfig(c)) ?? '').not.toContain(secret)
      }),
    )
  })
})
