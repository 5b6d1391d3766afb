import fc from 'fast-check'
import { isLeft } from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { byKind } from '../../src/config/decode.js'
import { defaultNamerKinds, defaultStoreKinds } from '../../src/namerd/config.js'
import { parseConsulInstances } from '../../src/namers/consul.js'
import { nextIndex } from '../../src/namers/consul-api.js'
import { isSrvName } from '../../src/namers/dnssrv.js'
import { parseServersetMember } from '../../src/namers/serversets.js'

const hostArb = fc.oneof(fc.ipV4(), fc.domain())
const endpointArb = fc.record({ host: hostArb, port: fc.integer({ min: 0, max: 65535 }) })

describe('parseServersetMember', () => {
  it('reads back every entry it is given, service endpoint first', () => {
    fc.assert(
      fc.property(
        endpointArb,
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), endpointArb, { maxKeys: 4 }),
        fc.constantFrom('ALIVE', 'DEAD', 'STARTING', 'STOPPING'),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        (main, extra, status, shard) => {
          const text = JSON.stringify({ serviceEndpoint: main, additionalEndpoints: extra, status, shard })
          const eps = parseServersetMember(text)
          expect(eps).toEqual([
            { name: undefined, ...main, shard, status },
            ...Object.entries(extra).map(([name, e]) => ({ name, ...e, shard, status })),
          ])
        },
      ),
    )
  })
  it('never throws: any text is endpoints or a message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const r = parseServersetMember(text)
        expect(typeof r === 'string' || Array.isArray(r)).toBe(true)
      }),
    )
  })
})

describe('isSrvName', () => {
  it('accepts DNS names of SRV labels and refuses what a DNS query cannot carry', () => {
    fc.assert(
      fc.property(fc.domain(), (d) => {
        expect(isSrvName(`_http._tcp.${d}`)).toBe(true)
      }),
    )
    for (const bad of ['', 'a b', 'a..b', '-a.b', `${'a'.repeat(64)}.b`, `${'a.'.repeat(127)}aa`, 'a/b'])
      expect(isSrvName(bad)).toBe(false)
    expect(isSrvName('web.example.org.')).toBe(true)
  })
})

describe('nextIndex', () => {
  it('is never below 1 unless it resets to 0, and resets exactly when the index went backwards', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 63n }),
        fc.bigInt({ min: 0n, max: 2n ** 63n }),
        (prev, got) => {
          const n = nextIndex(prev, got)
          if (got < prev) expect(n).toBe(0n)
          else expect(n).toBe(got < 1n ? 1n : got)
        },
      ),
    )
  })
})

describe('parseConsulInstances', () => {
  it('never throws on any JSON, and skips nothing of the right shape', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (body, health) => {
        expect(Array.isArray(parseConsulInstances(body, health))).toBe(true)
      }),
    )
    const [i] = parseConsulInstances(
      [
        {
          Node: { Address: '10.0.0.1', Meta: { rack: 'a' } },
          Service: { Address: '', Port: 80, Tags: ['x'], Meta: { v: '1' } },
          Checks: [{ Status: 'passing' }, { CheckID: '_node_maintenance', Status: 'critical' }],
        },
      ],
      true,
    )
    expect(i).toEqual({
      nodeAddress: '10.0.0.1',
      serviceAddress: '',
      port: 80,
      tags: ['x'],
      nodeMeta: { rack: 'a' },
      serviceMeta: { v: '1' },
      status: 'maintenance',
    })
  })
})

describe('discovery kinds in namerd and router YAML', () => {
  const namer = byKind('a namer object', defaultNamerKinds)
  const storage = byKind('a storage object', defaultStoreKinds)
  const messages = (r: t.Validation<unknown>) =>
    isLeft(r)
      ? r.left.map(
          (e) =>
            `${e.context
              .map((c) => c.key)
              .filter(Boolean)
              .join('.')}: ${e.message}`,
        )
      : []

  it('decodes linkerd-shaped configs with defaults and prefixes', () => {
    const ss = namer.decode({ kind: 'io.l5d.serversets', zkAddrs: [{ host: 'zk1' }] })
    expect(isLeft(ss) ? ss.left : ss.right.prefix.show()).toBe('/#/io.l5d.serversets')
    const c = namer.decode({
      kind: 'io.l5d.consul',
      prefix: '/consul',
      includeTag: true,
      healthStatuses: ['warning'],
    })
    expect(isLeft(c) ? c.left : c.right.prefix.show()).toBe('/#/consul')
    const d = namer.decode({
      kind: 'io.l5d.dnssrv',
      experimental: true,
      dnsHosts: ['10.0.0.2'],
      domain: 'x.org',
    })
    expect(isLeft(d)).toBe(false)
  })

  it('names the field and what was expected', () => {
    expect(messages(namer.decode({ kind: 'io.l5d.serversets', zkAddrs: [] }))).toEqual([
      'zkAddrs: expected a non-empty list of ZooKeeper addresses, found []',
    ])
    expect(messages(namer.decode({ kind: 'io.l5d.dnssrv', refreshIntervalSeconds: 5 }))).toEqual([
      'experimental: io.l5d.dnssrv is experimental and must be configured with "experimental: true", found nothing',
    ])
    expect(messages(namer.decode({ kind: 'io.l5d.consul', consistencyMode: 'eventual' }))).toEqual([
      'consistencyMode: expected one of default, stale, consistent, found "eventual"',
    ])
    expect(messages(namer.decode({ kind: 'io.l5d.consul', healthStatuses: ['ok'] }))[0]).toMatch(
      /healthStatuses\.0: expected one of passing, warning, critical, maintenance/,
    )
    expect(messages(namer.decode({ kind: 'io.l5d.consul', tls: {} }))).toEqual([
      'tls: tls is not supported yet, found {}',
    ])
    expect(
      messages(storage.decode({ kind: 'io.l5d.consul', backoff: { kind: 'jittered', minMs: 5, maxMs: 1 } })),
    ).toEqual(['backoff: minMs (5) must not be greater than maxMs (1)'])
    expect(messages(storage.decode({ kind: 'io.l5d.consul', pathPrefix: 'dtabs' }))[0]).toMatch(
      /pathPrefix: expected an absolute path/,
    )
  })
})
