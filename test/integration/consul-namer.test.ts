import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ConsulNamer, type ConsulNamerOptions, consulNamer } from '../../src/namers/consul.js'
import { ConsulApiError, nextIndex } from '../../src/namers/consul-api.js'
import type { Address } from '../../src/naming/address.js'
import { Path } from '../../src/naming/path.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { addrIs, boundLeaf, shown, sleep, stateEventually } from './discovery-helpers.js'
import { type FakeConsul, startFakeConsul } from './fake-consul.js'

describe('nextIndex (Consul blocking-query index rules)', () => {
  it('moves forward, resets to 0 when the index goes backwards, and never goes below 1', () => {
    expect(nextIndex(10n, 12n)).toBe(12n)
    expect(nextIndex(10n, 10n)).toBe(10n)
    expect(nextIndex(10n, 3n)).toBe(0n)
    expect(nextIndex(0n, 0n)).toBe(1n)
    expect(nextIndex(0n, 7n)).toBe(7n)
  })
})

describe('io.l5d.consul namer against the fake Consul', () => {
  let consul: FakeConsul
  let namer: ConsulNamer | undefined
  const keeps: (() => void)[] = []
  beforeEach(async () => {
    consul = await startFakeConsul({ domain: 'acme.co' })
  })
  afterEach(async () => {
    for (const k of keeps.splice(0)) k()
    namer?.close()
    namer = undefined
    await consul.close()
  })
  const make = (options: Partial<ConsulNamerOptions> = {}) => {
    namer = consulNamer({
      host: '127.0.0.1',
      port: consul.port,
      waitMs: 1000,
      backoff: { minMs: 10, maxMs: 200 },
      ...options,
    })
    return namer
  }
  const watch = (n: ConsulNamer, path: string) => {
    const a = n.lookup(Path.read(path))
    keeps.push(a.observe(() => {}))
    return a
  }
  const weightsOf = (addr: unknown) =>
    Object.fromEntries(
      (addr as { addresses: Address[] }).addresses.map((a) => [a.show(), a.metadata['endpoint_addr_weight']]),
    )

  it('binds /<dc>/<service> to the catalog instances (service address preferred), weighted by tag', async () => {
    consul.register('web', { node: 'n1', address: '10.0.0.1', port: 8080, tags: ['canary'] })
    consul.register('web', { node: 'n2', address: '10.0.0.2', serviceAddress: '127.0.0.2', port: 8081 })
    const n = make({ weights: [{ tag: 'canary', weight: 0.25 }] })
    const name = await boundLeaf(watch(n, '/dc1/WEB/rest/of/path'))
    expect(name.idStr).toBe('/#/io.l5d.consul/dc1/WEB')
    expect(name.path.show()).toBe('/rest/of/path')
    const addr = await addrIs(name.addr, '10.0.0.1:8080,127.0.0.2:8081')
    expect(weightsOf(addr)).toEqual({ '10.0.0.1:8080': 0.25, '127.0.0.2:8081': 1 })
    const first = consul.requests.find((r) => r.path === '/v1/catalog/service/web')!
    expect(first.query.get('dc')).toBe('dc1')
    expect(first.query.has('index')).toBe(false)
    // Then blocking queries with the index Consul gave.
    await sleep(100)
    expect(
      consul.requests.some(
        (r) => r.path === '/v1/catalog/service/web' && r.query.get('index') === String(consul.index),
      ),
    ).toBe(true)

    const n2 = consulNamer({
      host: '127.0.0.1',
      port: consul.port,
      waitMs: 1000,
      preferServiceAddress: false,
    })
    try {
      const k = n2.lookup(Path.read('/dc1/web'))
      const off = k.observe(() => {})
      await addrIs((await boundLeaf(k)).addr, '10.0.0.1:8080,10.0.0.2:8081')
      off()
    } finally {
      n2.close()
    }
  })

  it('the tag form, .local as the agent datacenter, setHost authority, token and consistency mode', async () => {
    consul.requireToken('s3cret')
    consul.register('web', { node: 'n1', address: '10.0.0.1', port: 80, tags: ['primary'] })
    consul.register('web', { node: 'n2', address: '10.0.0.2', port: 80, tags: ['replica'] })
    const n = make({ includeTag: true, setHost: true, token: 's3cret', consistencyMode: 'stale' })
    const name = await boundLeaf(watch(n, '/.local/Primary/Web'))
    expect(name.idStr).toBe('/#/io.l5d.consul/.local/Primary/Web')
    const addr = await addrIs(name.addr, '10.0.0.1:80')
    expect((addr as { metadata: Record<string, unknown> }).metadata).toEqual({
      authority: 'primary.web.service.dc1.acme.co',
    })
    const q = consul.requests.find((r) => r.path === '/v1/catalog/service/web')!
    expect(q.query.get('tag')).toBe('primary')
    expect(q.query.get('dc')).toBe('dc1')
    expect(q.query.has('stale')).toBe(true)
    expect(consul.requests.every((r) => r.token === 's3cret')).toBe(true)
    // Too few segments for the tag form.
    expect(n.lookup(Path.read('/dc1/web')).state()).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
  })

  it('useHealthCheck keeps instances whose worst check is in healthStatuses', async () => {
    consul.register('api', { node: 'a', address: '10.0.1.1', port: 1, checks: ['passing'] })
    consul.register('api', { node: 'b', address: '10.0.1.2', port: 1, checks: ['passing', 'warning'] })
    consul.register('api', { node: 'c', address: '10.0.1.3', port: 1, checks: ['critical'] })
    consul.register('api', { node: 'd', address: '10.0.1.4', port: 1, checks: ['passing', 'maintenance'] })
    const n = make({ useHealthCheck: true })
    const passing = await boundLeaf(watch(n, '/dc1/api'))
    await addrIs(passing.addr, '10.0.1.1:1')
    expect(consul.requests.find((r) => r.path === '/v1/health/service/api')!.query.get('passing')).toBe(
      'true',
    )
    n.close()

    const m = make({ useHealthCheck: true, healthStatuses: ['passing', 'warning', 'maintenance'] })
    const more = await boundLeaf(watch(m, '/dc1/api'))
    await addrIs(more.addr, '10.0.1.1:1,10.0.1.2:1,10.0.1.4:1')
    expect(
      consul.requests
        .filter((r) => r.path === '/v1/health/service/api')
        .at(-1)!
        .query.has('passing'),
    ).toBe(false)
  })

  it('follows instances added and removed; a deleted service is Neg, and comes back', async () => {
    consul.register('web', { node: 'n1', address: '10.0.0.1', port: 80 })
    const stats = inMemoryStats()
    const n = make({ stats })
    const tree = watch(n, '/dc1/web')
    const name = await boundLeaf(tree)
    let treeUpdates = 0
    keeps.push(tree.observe(() => treeUpdates++))
    const before = treeUpdates
    consul.register('web', { node: 'n2', address: '10.0.0.2', port: 80 })
    await addrIs(name.addr, '10.0.0.1:80,10.0.0.2:80')
    consul.deregister('web', 'n1')
    await addrIs(name.addr, '10.0.0.2:80')
    // Scaling changes the addresses, not the tree.
    expect(treeUpdates).toBe(before)
    consul.deleteService('web')
    await stateEventually(tree, (s) => s.kind === 'ok' && s.value.kind === 'neg')
    consul.register('web', { node: 'n3', address: '10.0.0.3', port: 80 })
    const back = await boundLeaf(tree)
    await addrIs(back.addr, '10.0.0.3:80')
    expect(stats.counterValue('updates')).toBeGreaterThanOrEqual(4)
    // An unknown service is Neg from the start.
    const none = await stateEventually(n.lookup(Path.read('/dc1/nothing')), (s) => s.kind !== 'pending')
    expect(none).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
  })

  it('keeps the last good answer while Consul is gone and recovers without a restart', async () => {
    consul.register('web', { node: 'n1', address: '10.0.0.1', port: 80 })
    const errors: ConsulApiError[] = []
    const n = make({ onError: (e) => errors.push(e) })
    const tree = watch(n, '/dc1/web')
    const name = await boundLeaf(tree)
    await addrIs(name.addr, '10.0.0.1:80')
    await consul.stop()
    consul.register('web', { node: 'n2', address: '10.0.0.2', port: 80 })
    const deadline = Date.now() + 10_000
    while (errors.length < 3 && Date.now() < deadline) await sleep(20)
    expect(errors.length).toBeGreaterThanOrEqual(3)
    expect(errors[0]).toBeInstanceOf(ConsulApiError)
    expect(shown(name.addr.sample())).toBe('10.0.0.1:80')
    expect(tree.state()).toMatchObject({ kind: 'ok', value: { kind: 'leaf' } })
    await consul.start()
    await addrIs(name.addr, '10.0.0.1:80,10.0.0.2:80')
  })

  it('survives stalls, resets, 500s and an index that goes backwards', async () => {
    consul.register('web', { node: 'n1', address: '10.0.0.1', port: 80 })
    const errors: ConsulApiError[] = []
    const n = make({ onError: (e) => errors.push(e), waitMs: 300 })
    const name = await boundLeaf(watch(n, '/dc1/web'))
    await addrIs(name.addr, '10.0.0.1:80')

    // A reset connection and two 500s: retried after a backoff.
    consul.fault('/v1/catalog', { kind: 'reset' }, 1)
    consul.fault('/v1/catalog', { kind: 'status', status: 500, body: 'rpc error: No cluster leader' }, 2)
    consul.register('web', { node: 'n2', address: '10.0.0.2', port: 80 })
    await addrIs(name.addr, '10.0.0.1:80,10.0.0.2:80')
    expect(errors.some((e) => e.status === 500 && e.message.includes('No cluster leader'))).toBe(true)

    // The index goes backwards (a restored snapshot): the next answer has a smaller index, the
    // namer reads afresh and keeps following.
    consul.resetIndex(3)
    consul.register('web', { node: 'n3', address: '10.0.0.3', port: 80 })
    await addrIs(name.addr, '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80')
    consul.deregister('web', 'n1')
    await addrIs(name.addr, '10.0.0.2:80,10.0.0.3:80')

    // A stalled request (accepted, never answered) times out after wait + wait/16 + 5 s.
    const stalledAt = consul.requests.length
    consul.fault('/v1/catalog', { kind: 'stall' }, 1)
    await sleep(400)
    consul.register('web', { node: 'n4', address: '10.0.0.4', port: 80 })
    await addrIs(name.addr, '10.0.0.2:80,10.0.0.3:80,10.0.0.4:80', 20_000)
    expect(consul.requests.length).toBeGreaterThan(stalledAt)
  }, 40_000)

  it('an answer without X-Consul-Index is an error; one with index 0 is read with index 1 next', async () => {
    consul.register('web', { node: 'n1', address: '10.0.0.1', port: 80 })
    consul.fault('/v1/catalog', { kind: 'noIndex' }, 1)
    const errors: ConsulApiError[] = []
    const n = make({ onError: (e) => errors.push(e) })
    const name = await boundLeaf(watch(n, '/dc1/web'))
    await addrIs(name.addr, '10.0.0.1:80')
    expect(errors.map((e) => e.message)).toContain('Consul answered without an X-Consul-Index header')

    for (const k of keeps.splice(0)) k()
    n.close()
    const seen = consul.requests.length
    consul.fault('/v1/catalog', { kind: 'zeroIndex' }, 1)
    const m = make()
    const k = await boundLeaf(watch(m, '/dc1/web'))
    await addrIs(k.addr, '10.0.0.1:80')
    await sleep(100)
    const asked = consul.requests
      .filter((r) => r.path === '/v1/catalog/service/web')
      .map((r) => r.query.get('index'))
    expect(asked).toContain('1')
  })

  it('a name never resolved is Neg while Consul fails (linkerd), and an unknown datacenter is Neg', async () => {
    await consul.stop()
    const errors: ConsulApiError[] = []
    const n = make({ onError: (e) => errors.push(e) })
    const s = await stateEventually(watch(n, '/dc1/web'), (s) => s.kind !== 'pending')
    expect(s).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
    await consul.start()
    consul.register('web', { node: 'n1', address: '10.0.0.1', port: 80 })
    const name = await boundLeaf(n.lookup(Path.read('/dc1/web')))
    await addrIs(name.addr, '10.0.0.1:80')

    const dc = await stateEventually(watch(n, '/dc9/web'), (s) => s.kind !== 'pending')
    expect(dc).toMatchObject({ kind: 'ok', value: { kind: 'neg' } })
    expect(errors.some((e) => e.status === 500 && e.message.includes('No path to datacenter'))).toBe(true)
  })
})
