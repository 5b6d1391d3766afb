// Unit tests of the etcd and ZooKeeper stores' pure parts: version bytes, reconnection backoff,
// health tracking and their configuration. The stores themselves run against real servers in
// test/integration/.
import fc from 'fast-check'
import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type ConfigError, decodeConfig, parseConfigText } from '../../../src/config/decode.js'
import { manualClock } from '../../../src/core/clock.js'
import { seededRandom } from '../../../src/core/random.js'
import { namerdConfigCodec } from '../../../src/namerd/config.js'
import { reconnectBackoff } from '../../../src/namerd/store/backoff.js'
import { etcdRevision, etcdVersion } from '../../../src/namerd/store/etcd.js'
import { DtabStoreUnavailable, HealthTracker, hasStoreHealth } from '../../../src/namerd/store/health.js'
import { inMemoryDtabStore } from '../../../src/namerd/store/memory.js'
import { Version } from '../../../src/namerd/store/version.js'
import { zkVersion, zkVersionOf } from '../../../src/namerd/store/zk.js'
import { inMemoryStats } from '../../../src/stats/stats.js'

describe('etcd versions', () => {
  it("are the modification revision's ASCII digits, as namerd's etcd store", () => {
    expect(Version.toEtag(etcdVersion(42n))).toBe('NDI=')
    expect(etcdRevision(Version.fromEtag('NDI='))).toBe(42n)
  })

  it('round-trip every revision (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (r) => {
        expect(etcdRevision(Version.fromEtag(Version.toEtag(etcdVersion(r))))).toBe(r)
      }),
    )
  })

  it('anything but a canonical decimal is no revision (a 412, never a 400 or a match)', () => {
    for (const etag of ['yolo', '', 'MDQy' /* "042" */, 'LTE=' /* "-1" */, 'AAAAAAAAAAE=' /* a counter */]) {
      expect(etcdRevision(Version.fromEtag(etag))).toBeUndefined()
    }
  })
})

describe('ZooKeeper versions', () => {
  it("are the znode version as 4 big-endian bytes, as namerd's ZooKeeper store", () => {
    expect(Version.toEtag(zkVersion(0))).toBe('AAAAAA==')
    expect(Version.toEtag(zkVersion(258))).toBe('AAABAg==')
  })

  it('round-trip every znode version (property); other lengths and negatives are no version', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (v) => {
        expect(zkVersionOf(Version.fromEtag(Version.toEtag(zkVersion(v))))).toBe(v)
      }),
    )
    expect(zkVersionOf(Version.counter(1n))).toBeUndefined()
    expect(zkVersionOf(zkVersion(-1))).toBeUndefined()
    expect(zkVersionOf(new Uint8Array(0))).toBeUndefined()
  })
})

describe('reconnectBackoff', () => {
  it('starts at the minimum and stays within [min, max], at most tripling (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.nat(),
        (min, extra, seed) => {
          const max = min + extra
          let b = reconnectBackoff({ minMs: min, maxMs: max }, seededRandom(seed))
          expect(b.duration).toBe(min)
          for (let i = 0; i < 30; i++) {
            const next = b.next()
            expect(next.duration).toBeGreaterThanOrEqual(min)
            expect(next.duration).toBeLessThanOrEqual(Math.min(max, b.duration * 3))
            b = next
          }
        },
      ),
    )
  })
})

describe('HealthTracker', () => {
  it('moves connecting → connected → reconnecting → connected, counting and logging each change', () => {
    const clock = manualClock()
    const stats = inMemoryStats()
    const log: string[] = []
    const h = new HealthTracker(clock, stats, 'etcd a:1: connecting', (m) => log.push(m))
    expect(h.current).toEqual({ status: 'connecting', detail: 'etcd a:1: connecting', since: 0 })
    expect(stats.gaugeValue('connected')).toBe(0)
    expect(stats.gaugeValue('health')).toBe(1)
    h.lost('etcd a:1: connection refused') // never connected: still connecting
    expect(h.status).toBe('connecting')
    clock.advance(10)
    h.connected('etcd a:1: watching')
    expect(stats.gaugeValue('connected')).toBe(1)
    expect(stats.counterValue('reconnects')).toBe(0)
    clock.advance(10)
    h.lost('etcd a:1: connection dropped')
    expect(h.current).toEqual({ status: 'reconnecting', detail: 'etcd a:1: connection dropped', since: 20 })
    expect(stats.gaugeValue('health')).toBe(2)
    expect(stats.counterValue('disconnects')).toBe(1)
    expect(h.unavailable()).toBeInstanceOf(DtabStoreUnavailable)
    expect(h.unavailable().message).toBe(
      'dtab store is unavailable: reconnecting: etcd a:1: connection dropped',
    )
    h.connected('etcd a:1: watching')
    expect(stats.counterValue('reconnects')).toBe(1)
    h.failed('etcd a:1: authentication failed')
    expect(stats.gaugeValue('health')).toBe(3)
    h.close()
    h.connected('too late')
    expect(h.status).toBe('closed')
    expect(stats.gaugeValue('connected')).toBeUndefined()
    expect(log).toEqual([
      'dtab store connected: etcd a:1: watching',
      'dtab store reconnecting: etcd a:1: connection dropped',
      'dtab store connected: etcd a:1: watching',
      'dtab store failed: etcd a:1: authentication failed',
      'dtab store closed: store closed',
    ])
  })

  it('hasStoreHealth tells remote stores from local ones', () => {
    expect(hasStoreHealth(inMemoryDtabStore())).toBe(false)
    expect(hasStoreHealth({ health: new HealthTracker(manualClock(), inMemoryStats(), 'x').health })).toBe(
      true,
    )
  })
})

describe('io.l5d.etcd and io.l5d.zk configuration', () => {
  const decode = (storage: string) => {
    const raw = parseConfigText(
      `storage:\n${storage}\ninterfaces: [{kind: io.l5d.httpController}]\n`,
      'test.yaml',
    )
    if (isLeft(raw)) throw raw.left
    return decodeConfig(namerdConfigCodec(), raw.right, 'test.yaml')
  }
  const problems = (storage: string) => {
    const r = decode(storage)
    if (!isLeft(r)) throw new Error('expected a ConfigError')
    return (r.left as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)
  }

  it('accepts linkerd-shaped etcd and ZooKeeper storage', () => {
    const etcd = decode('  kind: io.l5d.etcd\n  experimental: true\n  host: 10.0.0.1\n  pathPrefix: /dtabs')
    expect(isRight(etcd) && etcd.right.storage.kind).toBe('io.l5d.etcd')
    const zk = decode(
      '  kind: io.l5d.zk\n  zkAddrs: [{host: a, port: 2181}, {host: b}]\n  sessionTimeoutMs: 5000\n  authInfo: {scheme: digest, auth: "u:p"}\n  acls: [{scheme: world, id: anyone, perms: r}]',
    )
    expect(isRight(zk) && zk.right.storage.kind).toBe('io.l5d.zk')
  })

  it("etcd without experimental: true is accepted with a warning, as linkerd's own example writes it", () => {
    const etcd = decode('  kind: io.l5d.etcd')
    expect(isRight(etcd) && etcd.right.warnings).toEqual([
      'storage: io.l5d.etcd is experimental in linkerd ("experimental: true" is missing); accepted',
    ])
    const flagged = decode('  kind: io.l5d.etcd\n  experimental: true')
    expect(isRight(flagged) && flagged.right.warnings).toEqual([])
  })

  it('names every wrong etcd field', () => {
    expect(
      problems(
        '  kind: io.l5d.etcd\n  experimental: true\n  port: 99999\n  pathPrefix: namerd\n  endpoints: [ftp://x]\n  tls: {disableValidation: true}',
      ),
    ).toEqual([
      'storage.port: expected an integer port from 0 to 65535, found 99999',
      'storage.pathPrefix: expected an absolute path such as "/namerd/dtabs", found "namerd"',
      'storage.endpoints[0]: expected an http:// or https:// URL, found "ftp://x"',
      `storage.tls.disableValidation: disableValidation is not supported by the etcd store: give the server's CA in trustCerts (or trustCertsBundle), found true`,
    ])
  })

  it('names every wrong ZooKeeper field', () => {
    expect(problems('  kind: io.l5d.zk')).toEqual([
      'storage.zkAddrs: expected a non-empty list of ZooKeeper addresses, found nothing',
    ])
    expect(
      problems(
        '  kind: io.l5d.zk\n  zkAddrs: []\n  sessionTimeoutMs: -1\n  acls: [{scheme: world, id: anyone, perms: rwx}, {scheme: world, id: anyone, perms: rr}]',
      ),
    ).toEqual([
      'storage.zkAddrs: expected a non-empty list of ZooKeeper addresses, found []',
      'storage.sessionTimeoutMs: expected a positive whole number of milliseconds, found -1',
      'storage.acls[0].perms: expected letters of "crwda" (create, read, write, delete, admin), each at most once, found "rwx"',
      'storage.acls[1].perms: expected letters of "crwda" (create, read, write, delete, admin), each at most once, found "rr"',
    ])
  })
})
