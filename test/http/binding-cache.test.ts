// The bounded caches of a client (issue 13): path stacks and bound clients (LRU, linkerd's
// bindingCache), per-name stats that go with an evicted name, and parsed dtab headers. Fake clock,
// fake endpoints: no timing.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Activity } from '../../src/core/activity.js'
import { manualClock } from '../../src/core/clock.js'
import { Service } from '../../src/core/service.js'
import { ResponseBody } from '../../src/http/body.js'
import { createClient } from '../../src/http/client.js'
import type { HttpResponse } from '../../src/http/endpoint.js'
import { DtabHeaderCache, DtabHeaderTooLargeError, readDtabHeaders } from '../../src/http/propagation.js'
import type { HttpRequest } from '../../src/http/request.js'
import { Addr } from '../../src/naming/addr.js'
import { Address } from '../../src/naming/address.js'
import { Dtab } from '../../src/naming/dtab.js'
import type { NameInterpreter } from '../../src/naming/interpreter.js'
import { Name } from '../../src/naming/name.js'
import { NameTree } from '../../src/naming/nametree.js'
import { ParseError } from '../../src/naming/parse-error.js'
import { Path } from '../../src/naming/path.js'

const ok = (): HttpResponse => ({
  statusCode: 200,
  statusMessage: '',
  headers: {},
  body: ResponseBody.of('ok'),
})

/** Binds /svc/<x> to the bound name /#/x/<x> (or, with `shared`, every name to /#/x/shared). */
function interpreter(binds: string[], shared = false): NameInterpreter {
  return {
    bind: (_dtab, path) => {
      binds.push(path.show())
      const id = shared ? '/#/x/shared' : `/#/x${path.drop(1).show()}`
      return Activity.value(
        NameTree.leaf(Name.bound(Path.read(id), Addr.bound([Address.read('127.0.0.1:1')]))),
      )
    },
  }
}

/** Endpoints that record requests per bound name and count closes. */
function endpoints() {
  const closed: string[] = []
  let hold: Promise<void> | undefined
  const make = (address: Address, options: { stats?: unknown }) => {
    void address
    void options
    const svc = Service.of(async (_req: HttpRequest) => {
      if (hold) await hold
      return ok()
    })
    return Service.of(svc, {
      close: () => {
        closed.push('endpoint')
      },
    })
  }
  return {
    make,
    closed,
    holdUntil(p: Promise<void>) {
      hold = p
    },
    release() {
      hold = undefined
    },
  }
}

const get = async (
  c: ReturnType<typeof createClient>,
  host: string,
  headers: Record<string, string> = {},
) => {
  const rep = await c.request(`http://${host}/`, { headers })
  await rep.body.text()
  return rep.statusCode
}

describe('binding cache: path stacks', () => {
  it('keeps at most `paths` stacks, evicting the least recently used, and rebinds an evicted name on its next request', async () => {
    const binds: string[] = []
    const eps = endpoints()
    const c = createClient({
      interpreter: interpreter(binds, true),
      scheduler: manualClock(),
      bindingCache: { paths: 2 },
      endpoint: eps.make,
    })
    await get(c, 'a')
    await get(c, 'b')
    await get(c, 'a') // a is now more recent than b
    await get(c, 'c') // evicts b
    expect(c.stats.counterValue('rt/bindcache/path/evicts')).toBe(1)
    expect(binds).toEqual(['/svc/a', '/svc/b', '/svc/c'])
    await get(c, 'a') // still cached: no new bind
    expect(binds).toEqual(['/svc/a', '/svc/b', '/svc/c'])
    expect(await get(c, 'b')).toBe(200) // bound again, and it works
    expect(binds).toEqual(['/svc/a', '/svc/b', '/svc/c', '/svc/b'])
    expect(c.stats.counterValue('rt/bindcache/path/misses')).toBe(4)
    await c.close()
  })

  it("an evicted name's stats are removed; a name still cached keeps its own", async () => {
    const c = createClient({
      interpreter: interpreter([], true),
      scheduler: manualClock(),
      bindingCache: { paths: 1 },
      endpoint: endpoints().make,
    })
    await get(c, 'a')
    await get(c, 'a')
    expect(c.stats.counterValue('rt/service/svc/a/requests')).toBe(2)
    await get(c, 'b')
    const keys = Object.keys(c.stats.json())
    expect(keys.filter((k) => k.startsWith('rt/service/svc/a/'))).toEqual([])
    expect(c.stats.counterValue('rt/service/svc/b/requests')).toBe(1)
    expect(c.stats.statSummary('rt/service/svc/b/request_latency_ms')?.count).toBe(1)
    // the bound client every name shares is still there with all its counts
    expect(c.stats.counterValue('rt/client/#/x/shared/requests')).toBe(3)
    // and a name that comes back counts from zero
    await get(c, 'a')
    expect(c.stats.counterValue('rt/service/svc/a/requests')).toBe(1)
    await c.close()
  })

  it('stacks of one name under different local dtabs share its stats until the last one goes', async () => {
    const c = createClient({
      interpreter: interpreter([], true),
      scheduler: manualClock(),
      bindingCache: { paths: 2 },
      endpoint: endpoints().make,
    })
    await get(c, 'a', { 'l5d-dtab': '/x=>/y' })
    await get(c, 'a', { 'l5d-dtab': '/x=>/z' })
    expect(c.stats.counterValue('rt/service/svc/a/requests')).toBe(2)
    await get(c, 'b') // evicts the first stack of a; the second keeps a's stats
    expect(c.stats.counterValue('rt/service/svc/a/requests')).toBe(2)
    await get(c, 'c') // evicts the second: a's stats go
    expect(c.stats.counterValue('rt/service/svc/a/requests')).toBe(0)
    await c.close()
  })

  it('never evicts a stack with a request in flight', async () => {
    const eps = endpoints()
    const c = createClient({
      interpreter: interpreter([], true),
      scheduler: manualClock(),
      bindingCache: { paths: 1 },
      endpoint: eps.make,
    })
    let open: () => void = () => {}
    eps.holdUntil(new Promise<void>((r) => (open = r)))
    const slow = c.request('http://a/')
    await new Promise((r) => setTimeout(r, 1))
    eps.release()
    await get(c, 'b') // over the cap: a is busy, so the cache grows
    expect(c.stats.counterValue('rt/bindcache/path/evicts')).toBe(0)
    open()
    expect((await slow).statusCode).toBe(200)
    await get(c, 'c') // now a (idle, least recent) goes
    expect(c.stats.counterValue('rt/bindcache/path/evicts')).toBeGreaterThanOrEqual(1)
    await c.close()
  })

  it('keeps at most `clients` bound clients and closes the evicted one', async () => {
    const eps = endpoints()
    const c = createClient({
      interpreter: interpreter([]),
      scheduler: manualClock(),
      bindingCache: { clients: 2 },
      endpoint: eps.make,
    })
    await get(c, 'a')
    await get(c, 'b')
    await get(c, 'c')
    expect(c.stats.counterValue('rt/bindcache/client/evicts')).toBe(1)
    await new Promise((r) => setTimeout(r, 1))
    expect(eps.closed.length).toBe(1)
    expect(await get(c, 'a')).toBe(200)
    await c.close()
  })

  it('under any sequence of names, holds at most `paths` stacks of idle names and answers every request (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 40 }),
        async (cap, seq) => {
          const binds: string[] = []
          const c = createClient({
            interpreter: interpreter(binds, true),
            scheduler: manualClock(),
            bindingCache: { paths: cap },
            endpoint: endpoints().make,
          })
          for (const n of seq) expect(await get(c, `n${n}`)).toBe(200)
          const misses = c.stats.counterValue('rt/bindcache/path/misses')
          const evicts = c.stats.counterValue('rt/bindcache/path/evicts')
          expect(misses - evicts).toBeLessThanOrEqual(cap)
          expect(misses).toBe(binds.length)
          await c.close()
        },
      ),
      { numRuns: 40 },
    )
  })

  it('refuses a bad bindingCache option when the client is made', () => {
    expect(() => createClient({ bindingCache: { paths: 0 } })).toThrow(/bindingCache.paths/)
    expect(() => createClient({ bindingCache: { clients: 1.5 } })).toThrow(/bindingCache.clients/)
  })
})

describe('DtabHeaderCache', () => {
  it('parses a header once: the same text gives the same Dtab object', () => {
    const cache = new DtabHeaderCache()
    const a = cache.read({ 'l5d-dtab': '/svc/users=>/svc/users-v2' })
    expect(cache.read({ 'l5d-dtab': '/svc/users=>/svc/users-v2' })).toBe(a)
    expect(a.show()).toBe('/svc/users=>/svc/users-v2')
    expect(cache.read({}).isEmpty).toBe(true)
  })

  it('keeps l5d-ctx-dtab before l5d-dtab, and tells a ctx value from the same l5d-dtab text', () => {
    const cache = new DtabHeaderCache()
    const both = cache.read({ 'l5d-ctx-dtab': '/a=>/b', 'l5d-dtab': '/a=>/c' })
    expect(both.show()).toBe('/a=>/b;/a=>/c')
    const ctx = cache.read({ 'l5d-ctx-dtab': '/a=>/b' })
    const own = cache.read({ 'l5d-dtab': '/a=>/b' })
    expect(ctx).not.toBe(own)
    expect(ctx.show()).toBe(own.show())
  })

  it('is bounded by entries and by characters, oldest first, and answers the same after eviction', () => {
    const cache = new DtabHeaderCache({ maxEntries: 2, maxChars: 1000 })
    const texts = ['/a=>/b', '/c=>/d', '/e=>/f']
    const first = texts.map((t) => cache.read({ 'l5d-dtab': t }))
    expect(cache.size).toBe(2)
    const again = cache.read({ 'l5d-dtab': texts[0]! })
    expect(again).not.toBe(first[0]) // it was evicted, so parsed anew
    expect(again.show()).toBe(first[0]!.show())
    const small = new DtabHeaderCache({ maxChars: 10 })
    small.read({ 'l5d-dtab': '/a=>/b' })
    small.read({ 'l5d-dtab': '/c=>/d' })
    expect(small.size).toBe(1)
  })

  it('refuses a header longer than maxLength before parsing, and does not keep texts that fail', () => {
    const cache = new DtabHeaderCache({ maxLength: 20 })
    expect(() => cache.read({ 'l5d-dtab': '/a=>/b;'.repeat(5) })).toThrow(DtabHeaderTooLargeError)
    expect(() =>
      cache.read({ 'l5d-dtab': '/a=>/b;'.repeat(2), 'l5d-ctx-dtab': '/c=>/d;'.repeat(2) }),
    ).toThrow('l5d-dtab and l5d-ctx-dtab headers must be at most 20 characters together, got 28')
    expect(() => cache.read({ 'l5d-dtab': '/a=>' })).toThrow(ParseError)
    expect(cache.size).toBe(0)
    expect(() => readDtabHeaders({ 'l5d-dtab': 'x'.repeat(9000) })).toThrow(DtabHeaderTooLargeError)
  })

  it('reads what readDtabHeaders reads, for any list of values (property)', () => {
    const entry = fc.constantFrom('/a=>/b', '/svc/x=>/srv/y', '/c=>/d|/e', '/f=>2*/g&/h')
    const values = fc.array(
      fc.array(entry, { minLength: 1, maxLength: 3 }).map((es) => es.join(';')),
      {
        maxLength: 3,
      },
    )
    fc.assert(
      fc.property(values, values, (ctx, own) => {
        const cache = new DtabHeaderCache({ maxEntries: 3 })
        const headers: Record<string, string | string[]> = {}
        if (ctx.length > 0) headers['l5d-ctx-dtab'] = ctx
        if (own.length > 0) headers['l5d-dtab'] = own
        for (let i = 0; i < 2; i++) expect(cache.read(headers).show()).toBe(readDtabHeaders(headers).show())
      }),
    )
  })
})

describe('dtab headers through a client', () => {
  it('a too large l5d-dtab is refused: DtabHeaderTooLargeError, or 400 with errorResponses', async () => {
    const long = { 'l5d-dtab': '/a=>/b;'.repeat(2000) }
    const c = createClient({ interpreter: interpreter([], true), endpoint: endpoints().make })
    await expect(c.request('http://a/', { headers: long })).rejects.toBeInstanceOf(DtabHeaderTooLargeError)
    await c.close()
    const r = createClient({
      interpreter: interpreter([], true),
      endpoint: endpoints().make,
      errorResponses: true,
      maxDtabHeaderLength: 100,
    })
    const rep = await r.request('http://a/', { headers: { 'l5d-dtab': '/a=>/b;'.repeat(20) } })
    expect(rep.statusCode).toBe(400)
    expect(rep.headers['l5d-err']).toContain('must+be+at+most+100+characters')
    await rep.body.text()
    // a header under the limit still routes
    expect(await get(r, 'a', { 'l5d-dtab': '/a=>/b' })).toBe(200)
    await r.close()
  })

  it('Dtab.show is memoised and still exact', () => {
    const d = Dtab.read('/a => /b | /c; /d => 1*/e & 2*/f')
    expect(d.show()).toBe(d.show())
    expect(d.show()).toBe('/a=>/b | /c;/d=>/e & 2.00*/f')
  })
})
