import { isLeft } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { readLinkerConfig } from '../../src/router/config.js'

const problems = (text: string) => {
  const r = readLinkerConfig(text)
  if (!isLeft(r)) throw new Error('expected a refusal')
  return r.left.problems.map((p) => `${p.path}: ${p.message}`)
}

describe('linkerd config reader', () => {
  it('reads defaults as linkerd: admin 127.0.0.1:9990, server 127.0.0.1:4140, label = protocol', () => {
    const r = readLinkerConfig('routers:\n- protocol: http\n  servers:\n  - {}\n')
    if (isLeft(r)) throw r.left
    const { spec } = r.right
    expect(spec.admin).toMatchObject({ ip: '127.0.0.1', port: 9990, shutdownGraceMs: 10_000 })
    expect(spec.routers[0]!.label).toBe('http')
    expect(spec.routers[0]!.servers[0]).toMatchObject({ ip: '127.0.0.1', port: 4140, maxHeaderBytes: 8192 })
  })

  it('lists every problem of every router in one error', () => {
    expect(
      problems(`
admin: {port: 99999}
usage: {enabled: false}
routers:
- protocol: http
  dtab: /svc => 
  servers:
  - port: 4140
    clearContxt: true
- protocol: http
  label: http
  streamingEnabled: false
  streamAfterContentLengthKB: 10
  servers: [{port: 4141}]
- protocol: h2
  servers: [{port: 4142}]
- protocol: http
  label: a
  servers: [{port: 4150}]
- protocol: http
  label: other
  servers: [{port: 4150, ip: 0.0.0.0}]
- protocol: http
  label: empty
  servers: []
`),
    ).toEqual([
      'admin.port: expected an integer port from 0 to 65535, found 99999',
      "routers[0].dtab: simple expected but end of input found at '/svc =>[]'",
      expect.stringMatching(/^routers\[0\]\.servers\[0\]\.clearContxt: unknown field/),
      "routers[1]: Conflicting streaming options set. Can't disable streaming and set streamAfterContentLengthKB in http",
      'routers[2].protocol: protocol h2 is not supported (switchboard routes HTTP/1.1: protocol http)',
      "routers[5]: router 'empty' has no servers",
      'routers: Server conflict on port 4150',
    ])
  })

  it('refuses duplicate labels and an empty router list with linkerd messages', () => {
    expect(
      problems(
        'routers:\n- {protocol: http, servers: [{port: 1}]}\n- {protocol: http, servers: [{port: 2}]}\n',
      ),
    ).toEqual(['routers: Multiple routers with the label http'])
    expect(problems('routers: []\n')).toEqual([
      'routers: At least one router must be specified in the configuration.',
    ])
  })

  it('accepts usage and never acts on it; observe-only telemeters without a kind are warnings', () => {
    const r = readLinkerConfig(
      'usage: {orgId: acme}\ntelemetry:\n- kind: io.l5d.tracelog\n  sampleRate: 1\n- kind: io.l5d.zipkin\n  sampleRate: 1\n- kind: io.l5d.recentRequests\n  sampleRate: 0.5\n- kind: io.l5d.prometheus\n  prefix: l5d_\nrouters:\n- protocol: http\n  servers: [{port: 0}]\n',
    )
    if (isLeft(r)) throw r.left
    expect(r.right.spec.telemetry.telemeters.map((t) => t.kind)).toEqual([
      'io.l5d.zipkin',
      'io.l5d.recentRequests',
      'io.l5d.prometheus',
    ])
    // the tracing telemeters carry their decoded settings, defaults filled in
    expect(r.right.spec.telemetry.telemeters.map((t) => t.tracing)).toEqual([
      {
        kind: 'io.l5d.zipkin',
        host: 'localhost',
        port: 9411,
        path: '/api/v2/spans',
        sampleRate: 1,
        serviceName: 'linkerd',
        batchSize: 100,
        maxQueueSize: 1000,
        flushIntervalMs: 1000,
      },
      { kind: 'io.l5d.recentRequests', sampleRate: 0.5, capacity: 10 },
      undefined,
    ])
    expect(r.right.spec.warnings).toEqual([
      'telemetry[0]: telemeter io.l5d.tracelog is not available in this build; ignored',
      'usage: accepted; switchboard never reports usage anywhere',
    ])
    expect(
      problems('telemetry: [{kind: io.l5d.nope}]\nrouters: [{protocol: http, servers: [{port: 0}]}]\n'),
    ).toEqual([
      'telemetry[0].kind: unknown kind "io.l5d.nope" (known kinds: io.l5d.prometheus, io.l5d.zipkin, io.l5d.recentRequests)',
    ])
    // a tracing telemeter's settings are checked: recentRequests needs its sampleRate
    expect(
      problems(
        'telemetry: [{kind: io.l5d.recentRequests}]\nrouters: [{protocol: http, servers: [{port: 0}]}]\n',
      ),
    ).toEqual([expect.stringMatching(/^telemetry\[0\]\.sampleRate: /)])
  })

  it('checks client tls as linkerd does', () => {
    expect(
      problems(
        'routers:\n- protocol: http\n  servers: [{port: 0}]\n  client:\n    tls: {trustCerts: [a], trustCertsBundle: b, commonName: x}\n',
      ),
    ).toEqual([
      'routers[0].client.tls: Both trustCerts and trustCertsBundle have been set. Please use only trustCertsBundle.',
    ])
    expect(
      problems(
        'routers:\n- protocol: http\n  servers: [{port: 0}]\n  client:\n    tls: {trustCertsBundle: b}\n',
      ),
    ).toEqual(['routers[0].client.tls: tls is configured with validation but `commonName` is not set'])
  })
})
