import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DnsSrvLookupError, type DnsSrvNamer, dnsSrvNamer } from '../../src/namers/dnssrv.js'
import { Address } from '../../src/naming/address.js'
import { Path } from '../../src/naming/path.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { addrIs, boundLeaf, shown, sleep, stateEventually } from './discovery-helpers.js'
import { type DnsServer, startDnsmasq } from './servers.js'

const WEB = '_http._tcp.web.test'
const base = {
  srv: [
    { name: WEB, target: 'a.web.test', port: 8080, weight: 10 },
    { name: WEB, target: 'b.web.test', port: 8081, weight: 30 },
  ],
  a: {
    'a.web.test': '127.0.0.2',
    'b.web.test': '127.0.0.3',
    'c.web.test': '127.0.0.4',
    'plain.test': '127.0.0.9',
  },
}

let dns: DnsServer
beforeAll(async () => {
  dns = await startDnsmasq(base)
}, 60_000)
afterAll(async () => {
  await dns?.close()
})

describe('io.l5d.dnssrv against a real dnsmasq', () => {
  let namer: DnsSrvNamer | undefined
  afterEach(async () => {
    namer?.close()
    namer = undefined
    if (!dns.running) await dns.start()
    await dns.setRecords(base)
  })
  const make = (stats = inMemoryStats()) => {
    namer = dnsSrvNamer({ dnsHosts: [dns.address], refreshIntervalMs: 200, timeoutMs: 500, stats })
    return namer
  }

  it('binds a SRV name to its targets resolved to IPs, weighted by SRV weight, the rest residual', async () => {
    const n = make()
    const name = await boundLeaf(n.lookup(Path.read(`/${WEB}/extra/path`)))
    expect(name.idStr).toBe(`/#/io.l5d.dnssrv/${WEB}`)
    expect(name.path.show()).toBe('/extra/path')
    const addr = await addrIs(name.addr, '127.0.0.2:8080,127.0.0.3:8081')
    const weights = Object.fromEntries(
      (addr as unknown as { addresses: Address[] }).addresses.map((a) => [
        a.show(),
        a.metadata[Address.WeightKey],
      ]),
    )
    expect(weights).toEqual({ '127.0.0.2:8080': 10, '127.0.0.3:8081': 30 })
  })

  it('follows instances added and removed, and a deleted service becomes Neg', async () => {
    const stats = inMemoryStats()
    const n = make(stats)
    const lookup = n.lookup(Path.read(`/${WEB}`))
    const name = await boundLeaf(lookup)
    await addrIs(name.addr, '127.0.0.2:8080,127.0.0.3:8081')

    await dns.setRecords({ ...base, srv: [...base.srv, { name: WEB, target: 'c.web.test', port: 8082 }] })
    await addrIs(name.addr, '127.0.0.2:8080,127.0.0.3:8081,127.0.0.4:8082')

    await dns.setRecords({ ...base, srv: [base.srv[1]!] })
    await addrIs(name.addr, '127.0.0.3:8081')
    // Only the addresses changed: the tree is still the same leaf.
    expect(lookup.state()).toMatchObject({ kind: 'ok', value: { kind: 'leaf' } })

    await dns.setRecords({ ...base, srv: [] })
    await stateEventually(lookup, (s) => s.kind === 'ok' && s.value.kind === 'neg')
    expect(stats.counterValue('lookup_failures_total')).toBeGreaterThan(0) // NXDOMAIN counts as linkerd's

    await dns.setRecords(base)
    const again = await boundLeaf(lookup)
    await addrIs(again.addr, '127.0.0.2:8080,127.0.0.3:8081')
  }, 60_000)

  it('NXDOMAIN and a name without SRV records are Neg; a name that is no DNS name is Neg', async () => {
    const n = make()
    const nx = await stateEventually(
      n.lookup(Path.read('/_http._tcp.nothing.test')),
      (s) => s.kind !== 'pending',
    )
    expect(nx).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
    const nodata = await stateEventually(n.lookup(Path.read('/plain.test')), (s) => s.kind !== 'pending')
    expect(nodata).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
    expect(n.lookup(Path.read('/not%20a%20name')).state()).toMatchObject({
      kind: 'ok',
      value: { kind: 'neg' },
    })
    expect(n.lookup(Path.empty).state()).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
  })

  it('a domain is appended to names without a trailing dot', async () => {
    namer = dnsSrvNamer({
      dnsHosts: [dns.address],
      refreshIntervalMs: 200,
      timeoutMs: 500,
      domain: 'web.test',
    })
    const name = await boundLeaf(namer.lookup(Path.read('/_http._tcp/rest')))
    expect(name.idStr).toBe('/#/io.l5d.dnssrv/_http._tcp')
    await addrIs(name.addr, '127.0.0.2:8080,127.0.0.3:8081')
    const absolute = await boundLeaf(namer.lookup(Path.read(`/${WEB}.`)))
    await addrIs(absolute.addr, '127.0.0.2:8080,127.0.0.3:8081')
  })

  it('keeps the last good answer while the DNS server is down and recovers without a restart', async () => {
    const errors: DnsSrvLookupError[] = []
    const stats = inMemoryStats()
    namer = dnsSrvNamer({
      dnsHosts: [dns.address],
      refreshIntervalMs: 200,
      timeoutMs: 300,
      stats,
      onError: (e) => errors.push(e),
    })
    const lookup = namer.lookup(Path.read(`/${WEB}`))
    const name = await boundLeaf(lookup)
    // A router keeps observing what it bound; so does this test.
    const keep = lookup.observe(() => {})
    await addrIs(name.addr, '127.0.0.2:8080,127.0.0.3:8081')

    await dns.kill()
    const before = stats.counterValue('lookup_failures_total')
    const deadline = Date.now() + 20_000
    while (errors.length < 2 && Date.now() < deadline) await sleep(50)
    expect(errors.length).toBeGreaterThanOrEqual(2)
    expect(errors[0]).toBeInstanceOf(DnsSrvLookupError)
    expect(stats.counterValue('lookup_failures_total')).toBeGreaterThan(before)
    expect(shown(name.addr.sample())).toBe('127.0.0.2:8080,127.0.0.3:8081')
    expect(lookup.state()).toMatchObject({ kind: 'ok', value: { kind: 'leaf' } })

    await dns.setRecords({ ...base, srv: [base.srv[0]!] })
    await addrIs(name.addr, '127.0.0.2:8080')
    keep()
  }, 60_000)

  it('a name never resolved fails with DnsSrvLookupError while the server is down', async () => {
    await dns.kill()
    const n = make()
    const s = await stateEventually(n.lookup(Path.read(`/${WEB}`)), (s) => s.kind === 'failed')
    expect((s as { error: unknown }).error).toBeInstanceOf(DnsSrvLookupError)
    expect(String((s as { error: Error }).error.message)).toContain(WEB)
  })

  it('close() stops every refresh loop', async () => {
    const stats = inMemoryStats()
    const n = make(stats)
    const name = await boundLeaf(n.lookup(Path.read(`/${WEB}`)))
    const dispose = name.addr.observe(() => {})
    n.close()
    await sleep(100)
    const count = stats.counterValue('lookup_successes_total')
    await sleep(600)
    expect(stats.counterValue('lookup_successes_total')).toBe(count)
    dispose()
  })
})
