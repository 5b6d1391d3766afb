import { isLeft } from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeConfig } from '../../src/config/decode.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { startNamerd } from '../../src/namerd/server.js'
import { createLogger, parseLogLevel } from '../../src/telemetry/log.js'
import { call } from '../integration/http-helpers.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

function capture() {
  const lines: Record<string, unknown>[] = []
  const raw: string[] = []
  return {
    lines,
    raw,
    destination: {
      write: (l: string) => {
        raw.push(l)
        for (const part of l.split('\n')) if (part !== '') lines.push(JSON.parse(part))
      },
    },
  }
}

describe('createLogger', () => {
  it('writes JSON lines with the base fields, at the level of LOG_LEVEL', () => {
    const out = capture()
    const log = createLogger({
      base: { name: 'namerd' },
      destination: out.destination,
      env: { LOG_LEVEL: 'WARN' },
    })
    log.info('not shown')
    log.warn({ namespace: 'default' }, 'shown')
    expect(out.lines).toHaveLength(1)
    expect(out.lines[0]).toMatchObject({ level: 40, name: 'namerd', namespace: 'default', msg: 'shown' })
    expect(typeof out.lines[0]!['time']).toBe('string')
    const debug = capture()
    createLogger({ level: 'debug', destination: debug.destination, env: { LOG_LEVEL: 'error' } }).debug('x')
    expect(debug.lines).toHaveLength(1) // the option wins over the environment
  })

  it('refuses an unknown LOG_LEVEL, naming the levels', () => {
    expect(() => createLogger({ env: { LOG_LEVEL: 'loud' } })).toThrow(
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, found "loud"',
    )
    expect(parseLogLevel(' Info ')).toBe('info')
    expect(parseLogLevel('nope')).toBeUndefined()
  })
})

describe('namerd audit log', () => {
  it('writes one audit line per dtab write with namespace, version and remote address, never the token', async () => {
    const token = 's3cret-token-value'
    const spec = decodeConfig(namerdConfigCodec(), {
      admin: { ip: '127.0.0.1', port: 0 },
      storage: { kind: 'io.l5d.inMemory' },
      namers: [],
      interfaces: [{ kind: 'io.l5d.httpController', ip: '127.0.0.1', port: 0, authToken: token }],
    })
    if (isLeft(spec)) throw spec.left
    const out = capture()
    const n = await startNamerd(spec.right, {
      logger: createLogger({ destination: out.destination, env: {} }),
      processMetrics: false,
    })
    cleanup.push(() => n.close())
    const api = `${n.interfaces[0]!.url}/api/1/dtabs/prod`
    const write = (method: string, auth: string | undefined, body?: string) =>
      call(api, {
        method,
        headers: {
          'content-type': 'application/dtab',
          ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        },
        ...(body === undefined ? {} : { body }),
      })
    expect((await write('POST', token, '/svc=>/#/a')).status).toBe(204)
    expect((await write('PUT', token, '/svc=>/#/b')).status).toBe(204)
    expect((await write('PUT', 'wrong-token', '/svc=>/#/c')).status).toBe(401)
    expect((await write('POST', token, '/svc=>/#/d')).status).toBe(409)
    expect((await write('DELETE', token)).status).toBe(204)
    const etag = (await call(api)).headers['etag']
    expect(etag).toBeUndefined() // deleted
    const audit = out.lines.filter((l) => l['event'] === 'dtab.write')
    expect(audit.map((l) => [l['action'], l['outcome']])).toEqual([
      ['create', 'ok'],
      ['update', 'ok'],
      ['update', 'unauthorized'],
      ['create', 'DtabNamespaceExists'],
      ['delete', 'ok'],
    ])
    for (const l of audit) {
      expect(l['namespace']).toBe('prod')
      expect(l['remoteAddress']).toMatch(/127\.0\.0\.1/)
      expect(l['msg']).toBe('dtab write')
    }
    expect(audit[0]!['version']).toMatch(/^"?[A-Za-z0-9+/=_-]+"?$/)
    expect(audit[1]!['version']).not.toBe(audit[0]!['version'])
    expect(audit[4]!['version']).toBeUndefined()
    expect(out.raw.join('')).not.toContain(token)
    expect(out.raw.join('')).not.toContain('wrong-token')
  }, 30_000)
})
