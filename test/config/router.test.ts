import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/decode.js'
import { createClientFromConfig, readRouterConfig } from '../../src/config/router.js'
import { startServer, type TestServer } from '../http/servers.js'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function backend(name: string, status = 200): Promise<TestServer> {
  const s = await startServer((req, res) => {
    res.statusCode = status
    res.end(JSON.stringify({ backend: name, host: req.headers.host }))
  })
  cleanup.push(() => s.close())
  return s
}

function disco(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-config-'))
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function problems(text: string): string[] {
  const r = readRouterConfig(text)
  if (isRight(r)) throw new Error('expected the config to be refused')
  return r.left.problems.map((p) => `${p.path}: ${p.message}`)
}

describe('router config', () => {
  it('builds a working client from linkerd-style YAML: namers with transformers, dtab, identifier, client, service', async () => {
    const users = await backend('users')
    // The service file names a port nothing listens on; the namer's port transformer fixes it.
    const dir = disco({ users: '127.0.0.1 1\n' })
    const client = createClientFromConfig(`
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
  transformers:
  - kind: io.l5d.port
    port: ${users.port}
dtab: |
  /svc => /#/io.l5d.fs;
identifier:
  kind: io.l5d.header.token
  header: Host
client:
  kind: io.l5d.static
  configs:
  - prefix: /
    loadBalancer:
      kind: ewma
      decayTimeMs: 5000
    failureAccrual:
      kind: io.l5d.consecutiveFailures
      failures: 3
      backoff:
        kind: constant
        ms: 100
  - prefix: /%/io.l5d.port/*/#/io.l5d.fs/{service}
    requestAttemptTimeoutMs: 2000
    hostConnectionPool:
      maxSize: 10
service:
  totalTimeoutMs: 5000
  retries:
    budget: { ttlSecs: 10, minRetriesPerSec: 5, percentCanRetry: 0.1 }
    backoff: { kind: jittered, minMs: 10, maxMs: 100 }
  responseClassifier:
    kind: io.l5d.http.retryableRead5XX
`)
    cleanup.push(() => client.close())
    const rep = await client.request('http://users/')
    expect(await rep.body.json()).toEqual({ backend: 'users', host: 'users' })
    expect(
      client.stats.counterValue('rt/client/%/io.l5d.port/' + users.port + '/#/io.l5d.fs/users/requests'),
    ).toBe(1)
  })

  it('applies service settings by prefix, later entries winning', async () => {
    let calls = 0
    const flaky = await startServer((_req, res) => {
      calls++
      res.statusCode = 503
      res.end()
    })
    cleanup.push(() => flaky.close())
    const client = createClientFromConfig(`
dtab: /svc => /$/inet/127.0.0.1/${flaky.port}
identifier: { kind: io.l5d.static, path: /x }
service:
  kind: io.l5d.static
  configs:
  - prefix: /svc
    responseClassifier: { kind: io.l5d.http.retryableRead5XX }
    retries: { backoff: { kind: constant, ms: 0 } }
  - prefix: /svc/x
    responseClassifier: { kind: io.l5d.http.nonRetryable5XX }
`)
    cleanup.push(() => client.close())
    const rep = await client.request('http://anything/')
    expect(rep.statusCode).toBe(503)
    await rep.body.dump()
    // /svc/x matched both entries; the later one's classifier does not retry.
    expect(calls).toBe(1)
  })

  it('accepts a whole linkerd config with one http router and top-level namers', () => {
    const dir = disco({})
    const r = readRouterConfig(`
admin: { port: 9990 }
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  label: outgoing
  dstPrefix: /http
  dtab: /http => /#/io.l5d.fs
`)
    expect(isRight(r)).toBe(true)
    if (isLeft(r)) return
    expect(r.right.namers.map((n) => n.prefix.show())).toEqual(['/#/io.l5d.fs'])
    expect(r.right.options.dtab?.toString()).toContain('/http=>/#/io.l5d.fs')
  })

  it('reads the namerd interpreter with its dst', () => {
    const r = readRouterConfig(`
interpreter:
  kind: io.l5d.namerd.http
  dst: /$/inet/127.0.0.1/4180
  namespace: internal
  transformers:
  - kind: io.l5d.localhost
`)
    expect(isRight(r) && r.right.interpreter.kind).toBe('io.l5d.namerd.http')
    expect(isRight(r) && r.right.interpreter.transformers.length).toBe(1)
    expect(problems('interpreter: { kind: io.l5d.namerd.http, dst: /svc/namerd }')).toEqual([
      'interpreter: dst must be /$/inet/<host>/<port>, found /svc/namerd',
    ])
  })

  it('reads the io.l5d.mesh interpreter as linkerd writes it', async () => {
    const r = readRouterConfig(`
interpreter:
  kind: io.l5d.mesh
  dst: /$/inet/127.1/4321
  root: /default
  experimental: true
  retry: {baseSeconds: 1, maxSeconds: 600}
  failureThreshold: {minPeriodMs: 5000, closeTimeoutMs: 6000}
  initialStreamWindowSizeKB: 1024
  tls: {commonName: namerd, disableValidation: true}
  transformers:
  - kind: io.l5d.localhost
`)
    if (!isRight(r)) throw r.left
    expect(r.right.interpreter.kind).toBe('io.l5d.mesh')
    expect(r.right.interpreter.transformers.length).toBe(1)
    const interpreter = r.right.interpreter.make!({
      stats: undefined as never,
      scheduler: undefined as never,
      log: () => {},
    })
    await (interpreter as unknown as { ready(): Promise<void> }).ready()
    await interpreter.close?.()
    expect(problems('interpreter: { kind: io.l5d.mesh }')).toEqual([
      'interpreter.dst: expected a path such as "/svc", found nothing',
    ])
    expect(problems('interpreter: { kind: io.l5d.mesh, dst: /svc/namerd }')).toEqual([
      'interpreter: dst must be /$/inet/<host>/<port>, found /svc/namerd',
    ])
    expect(problems('interpreter: { kind: io.l5d.mesh, dst: /$/inet/127.1/4321, root: /a/b }')).toEqual([
      'interpreter: root may only contain a single path element (the namerd namespace), found /a/b',
    ])
    expect(
      problems(
        'interpreter: { kind: io.l5d.mesh, dst: /$/inet/127.1/4321, retry: {baseSeconds: 9, maxSeconds: 1} }',
      ),
    ).toEqual(['interpreter: retry.baseSeconds must not be greater than retry.maxSeconds'])
    expect(problems('interpreter: { kind: io.l5d.mesh, dst: /$/inet/127.1/4321, namespace: x }')[0]).toMatch(
      /^interpreter\.namespace: unknown field/,
    )
  })

  it('names every wrong field at once', () => {
    const found = problems(`
namers:
- kind: io.l5d.fs
  prefix: io.l5d.fs
  transformers:
  - kind: io.l5d.port
    port: "4141"
dtab: /svc =>
identifier:
- kind: io.l5d.header.token
- kind: io.l5d.nope
client:
  loadBalancer: { kind: p2c, maxEffort: 0 }
  requeueBudget: { ttlSecs: 100 }
  failFsat: true
service:
  retries:
    backoff: { kind: jittered, minMs: 10 }
  responseClassifier: { kind: io.l5d.http.retryableEverything }
`)
    const paths = found.map((p) => p.split(':')[0])
    expect(paths).toEqual(
      expect.arrayContaining([
        'namers[0].rootDir',
        'namers[0].transformers[0].port',
        'dtab',
        'identifier[1].kind',
        'client.loadBalancer.maxEffort',
        'client.requeueBudget.ttlSecs',
        'client.failFsat',
        'service.retries.backoff.maxMs',
        'service.responseClassifier.kind',
      ]),
    )
    expect(found).toContain(
      'client.failFsat: unknown field (known fields: kind, tls, loadBalancer, failureAccrual, failFast, requeueBudget, requestAttemptTimeoutMs, hostConnectionPool)',
    )
    expect(found.find((p) => p.startsWith('identifier[1].kind'))).toContain('unknown kind "io.l5d.nope"')
    expect(found.find((p) => p.startsWith('client.requeueBudget.ttlSecs'))).toContain('found 100')
  })

  it('refuses to build a client from a bad config, before anything starts', () => {
    expect(() => createClientFromConfig('dtab: 42')).toThrow(ConfigError)
    expect(() => createClientFromConfig('client: { kind: io.l5d.dynamic }')).toThrow(
      /unknown kind "io.l5d.dynamic"/,
    )
    expect(() =>
      createClientFromConfig('namers: [ { kind: io.l5d.fs, rootDir: x, prefix: / } ]\n  bad: indent'),
    ).toThrow(ConfigError)
  })
})
