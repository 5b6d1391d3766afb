// linkerd's own published example configs (test/fixtures/published, sources in SOURCES.tsv): each one
// loads, or is refused with ONE ConfigError whose problems are exactly the listed fields. The
// expected outcome per file is data: when another kind lands (consul, serversets namers...), its line here changes from `refused` to `ok`.
import { readdirSync, readFileSync } from 'node:fs'
import { isLeft } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { decodeConfig, parseConfigText } from '../../src/config/decode.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { readLinkerConfig } from '../../src/router/config.js'

type Expected = { ok: true; warnings?: readonly string[] } | { refused: readonly string[] }

const DIR = new URL('../fixtures/published/', import.meta.url)

/** The problem paths each refused file must name (and no others); `ok` files load. */
const LINKERD: Record<string, Expected> = {
  // Pre-1.0 keys (tracers, router-level failFast/timeoutMs/responseClassifier, tls kinds), thrift
  // and mux routers, and namers that are not implemented here.
  'acceptance-test.yaml': {
    refused: [
      'tracers',
      // namers[1..3] (io.l5d.serversets, io.l5d.consul, io.l5d.k8s) are accepted since their kinds
      // landed; io.l5d.marathon is not implemented.
      'namers[4].kind',
      'routers[0].failFast',
      'routers[0].timeoutMs',
      'routers[0].responseClassifier',
      'routers[0].client.hostConnectionPool.minSize',
      'routers[1].protocol',
      'routers[2].protocol',
      'routers[3].protocol',
      'routers[4].timeoutMs',
      'routers[4].client.tls.kind',
      'routers[4].client.tls.caCertPath',
      'routers[5].timeoutMs',
      'routers[5].client.tls.kind',
      'routers[5].client.tls.caCertPath',
      'routers[5].client.tls.strict',
      'routers[5].client.tls.names',
    ],
  },
  'access-logs.yaml': { ok: true },
  'admin-tls.yaml': { ok: true },
  // The thrift namerd interpreter (io.l5d.namerd) is not implemented; io.l5d.namerd.http is.
  'admin.yaml': { refused: ['routers[2].interpreter.kind'] },
  'client-options.yaml': { ok: true },
  // The io.l5d.fs interpreter (dtab from a watched file) is not implemented.
  'fs.yaml': { refused: ['routers[0].interpreter.kind'] },
  // `engine` (netty4 / http2 switches) is a pre-1.0 key.
  'http.yaml': { refused: ['routers[0].client.engine', 'routers[0].servers[0].engine'] },
  'l2l.yaml': { ok: true },
  'namerd-http.yaml': { ok: true },
  'prometheus.yaml': { ok: true },
  // Pre-1.0 placement of responseClassifier and retries (1.x has both under `service:`).
  'retries.yaml': { refused: ['routers[0].responseClassifier', 'routers[0].client.retries'] },
  'router-options.yaml': { refused: ['routers[0].failFast', 'routers[0].timeoutMs'] },
  'tls.yaml': { ok: true },
}

const NAMERD: Record<string, Expected> = {
  'all.yaml': {
    ok: true,
    // io.l5d.mesh is served since its interface kind landed.
    warnings: ['interfaces[2]: io.l5d.thriftNameInterpreter is not served by this namerd; ignored'],
  },
  'basic.yaml': {
    ok: true,
    warnings: ['interfaces[0]: io.l5d.thriftNameInterpreter is not served by this namerd; ignored'],
  },
  // `key` is the pre-1.0 name of pathPrefix; etcd without experimental: true is accepted.
  'etcd.yaml': { refused: ['storage.key'] },
  'mesh.yaml': { ok: true, warnings: [] },
  'minimal.yaml': { ok: true, warnings: [] },
  'static.yaml': {
    ok: true,
    warnings: ['interfaces[0]: io.l5d.thriftNameInterpreter is not served by this namerd; ignored'],
  },
  'tls.yaml': {
    ok: true,
    warnings: ['interfaces[0]: io.l5d.thriftNameInterpreter is not served by this namerd; ignored'],
  },
  'zk.yaml': {
    ok: true,
    warnings: ['interfaces[0]: io.l5d.thriftNameInterpreter is not served by this namerd; ignored'],
  },
}

/** Keys the issue lists as accepted: no problem may be about one of them as such. */
const ACCEPTED =
  /^(admin|namers|telemetry|usage|routers\[\d+\]\.(servers|label|dtab|interpreter|identifier|client|service|httpAccessLog|bindingTimeoutMs|bindingCache|dstPrefix))$/

function check(
  file: string,
  expected: Expected,
  result: { problems?: readonly { path: string }[]; warnings?: readonly string[] },
) {
  if ('ok' in expected) {
    expect(result.problems, `${file} should load`).toBeUndefined()
    if (expected.warnings !== undefined) expect(result.warnings).toEqual(expected.warnings)
  } else {
    expect(result.problems, `${file} should be refused`).toBeDefined()
    const paths = result.problems!.map((p) => p.path)
    expect(paths).toEqual(expected.refused)
    for (const p of paths) expect(p, `${file}: refused for an accepted key`).not.toMatch(ACCEPTED)
  }
}

describe("linkerd's published router configs (linkerd/examples)", () => {
  it('has an expectation for every fixture', () => {
    expect(readdirSync(new URL('linkerd/', DIR)).sort()).toEqual(Object.keys(LINKERD).sort())
  })
  for (const [file, expected] of Object.entries(LINKERD)) {
    it(`${file}: ${'ok' in expected ? 'loads' : `refused naming ${expected.refused.length} problem(s)`}`, () => {
      const r = readLinkerConfig(readFileSync(new URL(`linkerd/${file}`, DIR), 'utf8'), file)
      if (isLeft(r)) {
        // ONE error that lists every problem.
        expect(r.left.message.split('\n').length).toBe(r.left.problems.length + 1)
        check(file, expected, { problems: r.left.problems })
      } else check(file, expected, { warnings: r.right.spec.warnings })
    })
  }
})

describe("linkerd's published namerd configs (namerd/examples)", () => {
  it('has an expectation for every fixture', () => {
    expect(readdirSync(new URL('namerd/', DIR)).sort()).toEqual(Object.keys(NAMERD).sort())
  })
  for (const [file, expected] of Object.entries(NAMERD)) {
    it(`${file}: ${'ok' in expected ? 'loads' : 'refused'}`, () => {
      const raw = parseConfigText(readFileSync(new URL(`namerd/${file}`, DIR), 'utf8'), file)
      if (isLeft(raw)) throw raw.left
      const r = decodeConfig(namerdConfigCodec(), raw.right, file)
      if (isLeft(r)) check(file, expected, { problems: r.left.problems })
      else check(file, expected, { warnings: r.right.warnings ?? [] })
    })
  }
})
