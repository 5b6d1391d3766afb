import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { type ConfigError, decodeConfig, parseConfigText } from '../../src/config/decode.js'
import { type HttpControllerSpec, namerdConfigCodec } from '../../src/namerd/config.js'

const decodeYaml = (text: string) => {
  const raw = parseConfigText(text, 'test.yaml')
  if (isLeft(raw)) return raw
  return decodeConfig(namerdConfigCodec(), raw.right, 'test.yaml')
}
const problems = (text: string) => {
  const r = decodeYaml(text)
  if (!isLeft(r)) throw new Error('expected a ConfigError')
  return (r.left as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)
}

describe('namerd configuration', () => {
  it('decodes linkerd namerd YAML with defaults', () => {
    const r = decodeYaml(`
storage:
  kind: io.l5d.inMemory
  namespaces:
    default: /svc => /#/io.l5d.fs
namers:
  - kind: io.l5d.fs
    rootDir: disco
interfaces:
  - kind: io.l5d.httpController
`)
    if (!isRight(r)) throw r.left
    expect(r.right.admin).toEqual({ ip: '127.0.0.1', port: 9991, shutdownGraceMs: 10000 })
    expect(r.right.interfaces).toEqual([
      {
        kind: 'io.l5d.httpController',
        ip: '127.0.0.1',
        port: 4180,
        authToken: undefined,
        maxBodyBytes: 1048576,
        maxDtabParamBytes: 8192,
        limits: {
          headersTimeoutMs: 10_000,
          requestTimeoutMs: 30_000,
          keepAliveTimeoutMs: 5_000,
          maxConnections: 1_000,
        },
      },
    ])
    expect(r.right.storage.kind).toBe('io.l5d.inMemory')
    expect(r.right.namers.map((n) => n.prefix.show())).toEqual(['/#/io.l5d.fs'])
  })

  it('decodes the interface limits and refuses nonsense values', () => {
    const iface = (extra: string) =>
      decodeConfig(
        namerdConfigCodec(),
        YAML.parse(
          `storage: {kind: io.l5d.inMemory}\ninterfaces:\n- {kind: io.l5d.httpController, ${extra}}`,
        ),
      )
    const r = iface(
      'headersTimeoutMs: 2000, requestTimeoutMs: 4000, keepAliveTimeoutMs: 1000, maxConnections: 50, maxDtabParamBytes: 1024',
    )
    if (!isRight(r)) throw r.left
    const http = r.right.interfaces[0]!
    if (http.kind !== 'io.l5d.httpController') throw new Error(`unexpected ${http.kind}`)
    expect(http.limits).toEqual({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      keepAliveTimeoutMs: 1000,
      maxConnections: 50,
    })
    expect(http.maxDtabParamBytes).toBe(1024)
    for (const bad of [
      'headersTimeoutMs: 0',
      'maxConnections: -1',
      'maxDtabParamBytes: 1.5',
      'requestTimeoutMs: "x"',
    ]) {
      const b = iface(bad)
      expect(isRight(b), bad).toBe(false)
      if (!isRight(b)) expect(b.left.message).toMatch(/expected a positive integer/)
    }
  })

  it('names every wrong field at once', () => {
    expect(
      problems(`
admin:
  port: 99999
  prot: 1
storage:
  kind: io.l5d.inMemory
  namespaces:
    default: "/svc =>"
namers:
  - kind: io.l5d.fs
interfaces:
  - kind: io.l5d.httpController
    port: "4180"
  - kind: io.l5d.thriftNameInterpreter
`),
    ).toEqual([
      'admin.port: expected an integer port from 0 to 65535, found 99999',
      'admin.prot: unknown field (known fields: ip, port, shutdownGraceMs, tls)',
      "storage.namespaces: default: simple expected but end of input found at '/svc =>[]'",
      'namers[0].rootDir: expected a non-empty string, found nothing',
      'interfaces[0].port: expected an integer port from 0 to 65535, found "4180"',
    ])
  })

  it('decodes the io.l5d.mesh interface with linkerd’s keys and default port 4321', () => {
    const r = decodeYaml(`
storage: {kind: io.l5d.inMemory}
interfaces:
  - kind: io.l5d.mesh
  - kind: io.l5d.mesh
    ip: 0.0.0.0
    port: 4322
    tls: {certPath: /c.pem, keyPath: /k.pem, requireClientAuth: true, caCertPath: /ca.pem}
`)
    if (!isRight(r)) throw r.left
    expect(r.right.interfaces).toEqual([
      { kind: 'io.l5d.mesh', ip: '127.0.0.1', port: 4321, tls: undefined },
      {
        kind: 'io.l5d.mesh',
        ip: '0.0.0.0',
        port: 4322,
        tls: { certPath: '/c.pem', keyPath: '/k.pem', requireClientAuth: true, caCertPath: '/ca.pem' },
      },
    ])
    expect(
      problems(
        'storage: {kind: io.l5d.inMemory}\ninterfaces: [{kind: io.l5d.mesh, port: 70000, authToken: x}]',
      ),
    ).toEqual([
      'interfaces[0].port: expected an integer port from 0 to 65535, found 70000',
      'interfaces[0].authToken: unknown field (known fields: kind, ip, port, tls)',
    ])
  })

  it('ignores io.l5d.thriftNameInterpreter interfaces with one warning each; io.l5d.mesh is served', () => {
    const raw = parseConfigText(
      'storage: {kind: io.l5d.inMemory}\ninterfaces:\n- kind: io.l5d.thriftNameInterpreter\n- kind: io.l5d.httpController\n- kind: io.l5d.mesh\n  port: 4321\n',
    )
    if (isLeft(raw)) throw raw.left
    const r = decodeConfig(namerdConfigCodec(), raw.right)
    if (isLeft(r)) throw r.left
    expect(r.right.interfaces.map((i) => i.kind)).toEqual(['io.l5d.httpController', 'io.l5d.mesh'])
    expect(r.right.warnings).toEqual([
      'interfaces[0]: io.l5d.thriftNameInterpreter is not served by this namerd; ignored',
    ])
    expect(
      problems('storage: {kind: io.l5d.inMemory}\ninterfaces:\n- kind: io.l5d.thriftNameInterpreter\n'),
    ).toEqual([
      'interfaces: no interface left to serve: add an io.l5d.httpController or io.l5d.mesh interface',
    ])
  })

  it("uses linkerd's messages for interfaces and namer prefixes", () => {
    expect(problems('storage: {kind: io.l5d.inMemory}')).toEqual([
      "interfaces: 'interfaces' field is required",
    ])
    expect(problems('storage: {kind: io.l5d.inMemory}\ninterfaces: []')).toEqual([
      'interfaces: One or more interfaces must be specified',
    ])
    const base = 'storage: {kind: io.l5d.inMemory}\ninterfaces: [{kind: io.l5d.httpController}]\n'
    expect(problems(`${base}namers: [{kind: io.l5d.fs, rootDir: a, prefix: ""}]`)).toEqual([
      'namers[0].prefix: Namers must not have an empty prefix',
    ])
    expect(
      problems(
        `${base}namers: [{kind: io.l5d.fs, rootDir: a, prefix: foo}, {kind: io.l5d.fs, rootDir: b, prefix: foo/bar}]`,
      ),
    ).toEqual(['namers: Namers must not have overlapping prefixes: /#/foo & /#/foo/bar'])
  })

  it('requires storage and a known storage kind', () => {
    expect(problems('interfaces: [{kind: io.l5d.httpController}]')).toEqual([
      'storage: expected a storage object, found nothing',
    ])
    expect(problems('storage: {kind: io.l5d.nope}\ninterfaces: [{kind: io.l5d.httpController}]')).toEqual([
      'storage.kind: unknown kind "io.l5d.nope" (known kinds: io.l5d.inMemory, switchboard.file, io.l5d.etcd, io.l5d.zk, io.l5d.k8s, io.l5d.consul)',
    ])
  })

  it('reports YAML syntax errors with line and column', () => {
    const r = parseConfigText('storage:\n  kind: [unclosed\n', 'x.yaml')
    expect(isLeft(r) && r.left.message).toBe(
      'invalid configuration in x.yaml:\n  (document): line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    )
  })

  it('the file store kind takes dir and seed namespaces', () => {
    const r = decodeYaml(
      'storage: {kind: switchboard.file, dir: /tmp/x, namespaces: {demo: /a=>/b}}\ninterfaces: [{kind: io.l5d.httpController, authToken: t}]',
    )
    if (!isRight(r)) throw r.left
    expect(r.right.storage.kind).toBe('switchboard.file')
    expect((r.right.interfaces[0] as HttpControllerSpec).authToken).toBe('t')
    expect(
      problems('storage: {kind: switchboard.file}\ninterfaces: [{kind: io.l5d.httpController}]'),
    ).toEqual(['storage.dir: expected a non-empty string, found nothing'])
  })
})
