import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { manualClock } from '../../src/core/clock.js'
import {
  Addr,
  domainToPath,
  domainToPathPfx,
  hostportPfx,
  InvalidAddressError,
  inetAddr,
  type Name,
  NameBound,
  type Namer,
  NameTree,
  Path,
  porthostPfx,
  subdomainOf,
  subdomainOfPfx,
  systemNamer,
  UnknownNamerError,
} from '../../src/naming/index.js'
import { anyHost, anyHostPfx, anyMethod, anyMethodPfx } from '../../src/naming/system/rewriting.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { fakeDns, flush } from './helpers.js'

const lookupTree = (namer: Namer, path: string): NameTree<Name> => namer.lookup(Path.read(path)).sample()
const rewrite = (namer: Namer, path: string): string => NameTree.show(lookupTree(namer, path))

function boundAt(namer: Namer, path: string): NameBound {
  const t = lookupTree(namer, path)
  if (t.kind !== 'leaf' || !(t.value instanceof NameBound))
    throw new Error(`not a bound leaf: ${NameTree.show(t)}`)
  return t.value
}

describe('/$/inet', () => {
  const global = systemNamer({ resolver: fakeDns({}), scheduler: manualClock() })

  it('binds host and port, the rest is residual; /$/inet/1/2/3 is host 1, port 2 (surprise 13)', () => {
    const n = boundAt(global, '/$/inet/10.0.0.1/8080/x/y')
    expect([n.idStr, n.path.show(), Addr.show(n.addr.sample())]).toEqual([
      '/$/inet/10.0.0.1/8080',
      '/x/y',
      'Bound(10.0.0.1:8080)',
    ])
    const odd = boundAt(global, '/$/inet/1/2/3')
    expect([odd.idStr, odd.path.show()]).toEqual(['/$/inet/1/2', '/3'])
  })

  it('a port alone means localhost: /$/inet/1234/foobar is id /$/inet/1234, residual /foobar', () => {
    const n = boundAt(global, '/$/inet/1234/foobar')
    expect([n.idStr, n.path.show(), Addr.show(n.addr.sample())]).toEqual([
      '/$/inet/1234',
      '/foobar',
      'Bound(127.0.0.1:1234)',
    ])
  })

  it('without a valid port it is an unknown namer, not Neg (surprise 13)', () => {
    for (const p of ['/$/inet', '/$/inet/notaport', '/$/inet/host/notaport']) {
      const s = global.lookup(Path.read(p)).state()
      expect(s.kind === 'failed' && s.error).toBeInstanceOf(UnknownNamerError)
      expect(s.kind === 'failed' && (s.error as Error).message).toBe(`Unknown namer: inet for path: ${p}`)
    }
  })

  it('accepts a signed port as Java does; a port outside 0..65535 is a failed addr', () => {
    const signed = global.lookup(Path.of('$', 'inet', '10.0.0.1', '+80', 'x')).sample()
    expect(signed.kind === 'leaf' && Addr.show((signed.value as NameBound).addr.sample())).toBe(
      'Bound(10.0.0.1:80)',
    )
    for (const port of ['70000', '-1']) {
      const bad = boundAt(global, `/$/inet/10.0.0.1/${port}`).addr.sample()
      expect(bad.kind === 'failed' && bad.cause).toBeInstanceOf(InvalidAddressError)
    }
    // Too large for a Java int: not a port at all.
    expect(global.lookup(Path.read('/$/inet/10.0.0.1/99999999999')).state().kind).toBe('failed')
  })

  it('IPv6 literals bind at once too', () => {
    expect(Addr.show(boundAt(global, '/$/inet/::1/80').addr.sample())).toBe('Bound([::1]:80)')
  })
})

describe('/$/inet host names', () => {
  it('are pending until DNS answers, then re-resolved every 5 s while observed', async () => {
    const clock = manualClock()
    const dns = fakeDns({ users: ['10.0.0.1'] })
    const n = boundAt(systemNamer({ resolver: dns, scheduler: clock }), '/$/inet/users/8080')
    const seen: string[] = []
    const stop = n.addr.observe((a) => seen.push(Addr.show(a)))
    expect(seen).toEqual(['Pending'])
    await flush()
    expect(seen).toEqual(['Pending', 'Bound(10.0.0.1:8080)'])
    expect(clock.nextAt()).toBe(5000)
    dns.set('users', ['10.0.0.1']) // same answer: no update
    clock.advance(5000)
    await flush()
    dns.set('users', ['10.0.0.2', '10.0.0.3'])
    clock.advance(5000)
    await flush()
    expect(seen).toEqual(['Pending', 'Bound(10.0.0.1:8080)', 'Bound(10.0.0.2:8080,10.0.0.3:8080)'])
    expect(dns.calls).toEqual(['users', 'users', 'users'])
    stop()
    expect(clock.pending).toBe(0)
    clock.advance(60_000)
    await flush()
    expect(dns.calls).toHaveLength(3)
  })

  it('an unknown host is Neg, any other DNS failure is Failed, and recovery is seen', async () => {
    const clock = manualClock()
    const dns = fakeDns({ flaky: 'EAI_AGAIN' })
    const global = systemNamer({ resolver: dns, scheduler: clock, pollIntervalMs: 1000 })
    const seen: string[] = []
    const stop1 = boundAt(global, '/$/inet/nope/80').addr.observe((a) => seen.push(Addr.show(a)))
    const stop2 = boundAt(global, '/$/inet/flaky/80').addr.observe((a) => seen.push(Addr.show(a)))
    await flush()
    expect(seen).toEqual(['Pending', 'Pending', 'Neg', 'Failed(EAI_AGAIN flaky)'])
    dns.set('flaky', ['10.0.0.9'])
    clock.advance(1000)
    await flush()
    expect(seen.at(-1)).toBe('Bound(10.0.0.9:80)')
    stop1()
    stop2()
    expect(clock.pending).toBe(0)
  })

  it('a resolver that throws synchronously is a failure, not a crash', async () => {
    const clock = manualClock()
    const resolver = {
      lookup(): Promise<readonly string[]> {
        throw new Error('resolver bug')
      },
    }
    const addr = inetAddr('users', 80, { resolver, scheduler: clock })
    const seen: string[] = []
    const stop = addr.observe((a) => seen.push(Addr.show(a)))
    await flush()
    stop()
    expect(seen).toEqual(['Pending', 'Failed(resolver bug)'])
  })

  it('fixedinet resolves once and only retries after a failure', async () => {
    const clock = manualClock()
    const dns = fakeDns({ users: 'EAI_AGAIN' })
    const n = boundAt(systemNamer({ resolver: dns, scheduler: clock }), '/$/fixedinet/users/80')
    const stop = n.addr.observe(() => {})
    await flush()
    dns.set('users', ['10.0.0.1'])
    clock.advance(5000)
    await flush()
    expect(Addr.show(n.addr.sample())).toBe('Bound(10.0.0.1:80)')
    expect(clock.pending).toBe(0)
    stop()
    expect(dns.calls).toEqual(['users', 'users'])
  })

  it('an answer arriving after the last observer left is dropped and schedules nothing', async () => {
    const clock = manualClock()
    const dns = fakeDns({ users: ['10.0.0.1'] })
    const stop = inetAddr('users', 80, { resolver: dns, scheduler: clock }).observe(() => {})
    stop()
    await flush()
    expect(clock.pending).toBe(0)
  })

  it('counts lookups into the injected stats', async () => {
    const stats = inMemoryStats()
    const dns = fakeDns({ users: ['10.0.0.1'] })
    const stop = inetAddr('users', 80, { resolver: dns, scheduler: manualClock(), stats }).observe(() => {})
    const stop2 = inetAddr('nope', 80, { resolver: dns, scheduler: manualClock(), stats }).observe(() => {})
    await flush()
    stop()
    stop2()
    expect(stats.counterValue('dns/successes')).toBe(1)
    expect(stats.counterValue('dns/failures')).toBe(1)
  })
})

describe('/$/io.buoyant.rinet', () => {
  const global = systemNamer({ resolver: fakeDns({ localhost: ['127.0.0.1'] }), scheduler: manualClock() })

  it('binds port then host, with id /$/io.buoyant.rinet/<port>/<host> and the rest residual', async () => {
    const n = boundAt(global, '/$/io.buoyant.rinet/12345/localhost/residual')
    expect([n.idStr, n.path.show()]).toEqual(['/$/io.buoyant.rinet/12345/localhost', '/residual'])
    const stop = n.addr.observe(() => {})
    await flush()
    expect(Addr.show(n.addr.sample())).toBe('Bound(127.0.0.1:12345)')
    stop()
  })

  it('is Neg with fewer than two labels and fails the lookup for a port that is not a number', () => {
    expect(rewrite(global, '/$/io.buoyant.rinet/80')).toBe('~')
    expect(rewrite(global, '/$/io.buoyant.rinet')).toBe('~')
    const s = global.lookup(Path.read('/$/io.buoyant.rinet/http/localhost')).state()
    expect(s.kind === 'failed' && (s.error as Error).message).toBe(
      "port expected but 'http' found in /$/io.buoyant.rinet/http/localhost",
    )
  })
})

describe('/$/nil, /$/fail and other paths', () => {
  const global = systemNamer({ resolver: fakeDns({}), scheduler: manualClock() })
  it('match element-wise', () => {
    expect(rewrite(global, '/$/nil')).toBe('$')
    expect(rewrite(global, '/$/nil/x/y')).toBe('$')
    expect(rewrite(global, '/$/fail')).toBe('!')
    expect(rewrite(global, '/$/fail/x')).toBe('!')
    expect(global.lookup(Path.read('/$/nilly')).state().kind).toBe('failed')
    expect(rewrite(global, '/x/$/nil')).toBe('~')
    expect(rewrite(global, '/$')).toBe('~')
    expect(rewrite(global, '/#/io.l5d.fs/x')).toBe('~')
  })
  it('an unknown kind names itself and the whole path', () => {
    const s = global.lookup(Path.read('/$/failure')).state()
    expect(s.kind === 'failed' && (s.error as Error).message).toBe(
      'Unknown namer: failure for path: /$/failure',
    )
  })
  it('user kinds are reachable as /$/<kind>', () => {
    const extra = systemNamer({
      kinds: { 'com.example.nil': { lookup: () => global.lookup(Path.read('/$/nil')) } },
    })
    expect(rewrite(extra, '/$/com.example.nil/x')).toBe('$')
  })
})

describe('rewriting namers (namerd.md §5.2)', () => {
  const global = systemNamer({ resolver: fakeDns({}), scheduler: manualClock() })

  it('domainToPathPfx reverses the host labels, a port stays on its label', () => {
    expect(rewrite(global, '/$/io.buoyant.http.domainToPathPfx/pfx/foo.buoyant.io/resource/name')).toBe(
      '/pfx/io/buoyant/foo/resource/name',
    )
    expect(rewrite(domainToPathPfx, '/pfx/foo.io:80')).toBe('/pfx/io:80/foo')
    expect(rewrite(domainToPathPfx, '/pfx/foo.io./x')).toBe('/pfx/io/foo/x')
    expect(rewrite(domainToPathPfx, '/pfx/a%b')).toBe('~')
    expect(rewrite(domainToPathPfx, '/pfx')).toBe('~')
    expect(rewrite(domainToPathPfx, '/')).toBe('~')
    expect(rewrite(domainToPath, '/foo.buoyant.io/x')).toBe('/io/buoyant/foo/x')
  })

  it('subdomainOfPfx keeps the part before .<domain>, ignoring a port; no subdomain is Neg', () => {
    expect(
      rewrite(global, '/$/io.buoyant.http.subdomainOfPfx/buoyant.io/pfx/foo.buoyant.io/resource/name'),
    ).toBe('/pfx/foo/resource/name')
    expect(rewrite(subdomainOfPfx, '/buoyant.io/pfx/foo.buoyant.io:8080/x')).toBe('/pfx/foo/x')
    expect(rewrite(subdomainOfPfx, '/buoyant.io/pfx/a.b.buoyant.io')).toBe('/pfx/a.b')
    expect(rewrite(subdomainOfPfx, '/buoyant.io/pfx/buoyant.io')).toBe('~')
    expect(rewrite(subdomainOfPfx, '/buoyant.io/pfx/.buoyant.io')).toBe('~')
    expect(rewrite(subdomainOfPfx, '/buoyant.io/pfx/foo.example.com')).toBe('~')
    expect(rewrite(subdomainOfPfx, '/buoyant.io/pfx')).toBe('~')
    expect(rewrite(subdomainOf, '/buoyant.io/foo.buoyant.io/x')).toBe('/foo/x')
  })

  it('hostportPfx and porthostPfx split host:port with a lower-case DNS-label port', () => {
    expect(rewrite(global, '/$/io.buoyant.hostportPfx/pfx/host:8080/etc')).toBe('/pfx/host/8080/etc')
    expect(rewrite(global, '/$/io.buoyant.porthostPfx/pfx/host:8080/etc')).toBe('/pfx/8080/host/etc')
    expect(rewrite(porthostPfx, '/pfx/host:http')).toBe('/pfx/http/host')
    expect(rewrite(porthostPfx, '/pfx/host:HTTP')).toBe('~')
    expect(rewrite(porthostPfx, '/pfx/host')).toBe('~')
    expect(rewrite(porthostPfx, '/pfx/a:b:c')).toBe('~')
    expect(rewrite(porthostPfx, '/pfx/host:')).toBe('~')
    expect(rewrite(porthostPfx, `/pfx/host:${'a'.repeat(64)}`)).toBe('~')
    expect(rewrite(porthostPfx, `/pfx/host:${'a'.repeat(63)}`)).toBe(`/pfx/${'a'.repeat(63)}/host`)
    expect(rewrite(hostportPfx, '/pfx/:80')).toBe('~')
  })

  it('anyMethod(Pfx) and anyHost(Pfx) drop a method or a host', () => {
    expect(rewrite(anyMethod, '/POST/svc/name')).toBe('/svc/name')
    expect(rewrite(anyMethod, '/post/svc')).toBe('~')
    expect(rewrite(anyMethodPfx, '/pfx/GET/svc')).toBe('/pfx/svc')
    expect(rewrite(anyHost, '/foo.buoyant.io/r')).toBe('/r')
    expect(rewrite(anyHostPfx, '/pfx/foo.buoyant.io/r')).toBe('/pfx/r')
    expect(rewrite(anyHostPfx, '/pfx/a%b/r')).toBe('~')
  })

  const label = fc.stringMatching(/^[A-Za-z0-9.:_%-]{1,12}$/)
  const rewriters = [
    anyMethod,
    anyMethodPfx,
    anyHost,
    anyHostPfx,
    subdomainOf,
    subdomainOfPfx,
    domainToPath,
    domainToPathPfx,
    hostportPfx,
    porthostPfx,
  ]

  it('never fail on any labels: a path or Neg (property)', () => {
    fc.assert(
      fc.property(fc.array(label, { maxLength: 5 }), (labels) => {
        for (const r of rewriters) {
          const s = r.lookup(Path.from(labels)).state()
          expect(s.kind).toBe('ok')
        }
      }),
    )
  })

  it('porthostPfx is hostportPfx with the two labels swapped (property)', () => {
    const host = fc.stringMatching(/^[a-z0-9.]{1,10}$/)
    const port = fc.stringMatching(/^[a-z0-9][-a-z0-9]{0,8}[a-z0-9]$/)
    fc.assert(
      fc.property(host, port, (h, p) => {
        const hp = lookupTree(hostportPfx, `/pfx/${h}:${p}/rest`)
        const ph = lookupTree(porthostPfx, `/pfx/${h}:${p}/rest`)
        expect(hp.kind === 'leaf' && hp.value.show()).toBe(`/pfx/${h}/${p}/rest`)
        expect(ph.kind === 'leaf' && ph.value.show()).toBe(`/pfx/${p}/${h}/rest`)
      }),
    )
  })

  it('domainToPathPfx twice gives the labels back for dotted hosts (property)', () => {
    const host = fc
      .array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 })
      .map((ls) => ls.join('.'))
    fc.assert(
      fc.property(host, (h) => {
        const once = lookupTree(domainToPathPfx, `/pfx/${h}`)
        if (once.kind !== 'leaf') throw new Error('no match')
        const reversed = once.value.show().split('/').slice(2).join('.')
        expect(rewrite(domainToPathPfx, `/pfx/${reversed}`)).toBe(`/pfx/${h.split('.').join('/')}`)
      }),
    )
  })
})
