import { describe, expect, it } from 'vitest'
import { Var } from '../../src/core/var.js'
import {
  Addr,
  Address,
  AddrFailedError,
  addrJson,
  boundJson,
  boundNames,
  boundTreeJson,
  Dtab,
  defaultInterpreter,
  javaHostAddress,
  Name,
  type NameBound,
  NameTree,
  Path,
  settleAddrs,
} from '../../src/naming/index.js'

describe('addrJson (namerd Addr JSON)', () => {
  it('writes each state with type first', () => {
    expect(addrJson(Addr.Neg)).toBe('{"type":"neg"}')
    expect(addrJson(Addr.Pending)).toBe('{"type":"pending"}')
    expect(addrJson(Addr.failed('no quorum'))).toBe('{"type":"failed","cause":"no quorum"}')
    expect(addrJson(Addr.failed(new AddrFailedError()))).toBe('{"type":"failed"}')
    expect(addrJson(Addr.bound([]))).toBe('{"type":"bound","addrs":[],"meta":{}}')
  })

  it('writes addresses with ip, port and meta; weights as Java doubles; other metadata as JSON', () => {
    const a = Address.inet('10.0.0.1', 8080, {
      [Address.WeightKey]: 0.23,
      authority: 'users',
      n: 1,
      nested: { a: [1] },
    })
    expect(addrJson(Addr.bound([a], { [Addr.WeightKey]: 2 }))).toBe(
      '{"type":"bound","addrs":[{"ip":"10.0.0.1","port":8080,"meta":{"endpoint_addr_weight":0.23,"authority":"users","n":1,"nested":{"a":[1]}}}],"meta":{"namer_nametree_weight":2.0}}',
    )
  })

  it('leaves out unresolved host names and prints IPv6 as the JVM does', () => {
    const addr = Addr.bound([
      Address.read('users.internal:80'),
      Address.read('[::1]:80'),
      Address.read('[::ffff:10.0.0.1]:80'),
    ])
    expect(addrJson(addr)).toBe(
      '{"type":"bound","addrs":[{"ip":"0:0:0:0:0:0:0:1","port":80,"meta":{}},{"ip":"10.0.0.1","port":80,"meta":{}}],"meta":{}}',
    )
  })

  it('javaHostAddress expands IPv6 fully and keeps a scope', () => {
    expect(javaHostAddress('2001:db8::ff00:42:8329')).toBe('2001:db8:0:0:0:ff00:42:8329')
    expect(javaHostAddress('::')).toBe('0:0:0:0:0:0:0:0')
    expect(javaHostAddress('fe80::1%eth0')).toBe('fe80:0:0:0:0:0:0:1%eth0')
    expect(javaHostAddress('::1.2.3.4')).toBe('0:0:0:0:0:0:102:304')
    expect(javaHostAddress('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8')
    expect(javaHostAddress('127.0.0.1')).toBe('127.0.0.1')
    expect(javaHostAddress('localhost')).toBeUndefined()
  })
})

describe('boundJson and boundTreeJson (namerd /api/1/bind)', () => {
  const inet = (id: string, addr: Addr = Addr.bound([Address.read('127.0.0.1:8080')]), residual = '/') =>
    Name.bound(Path.read(id), addr, Path.read(residual))

  it('a bound name has addr, id and residual ("/" when empty); a non-path id is left out', () => {
    expect(boundJson(inet('/$/inet/127.0.0.1/8080', Addr.Neg, '/x/y'), Addr.Neg)).toBe(
      '{"addr":{"type":"neg"},"id":"/$/inet/127.0.0.1/8080","path":"/x/y"}',
    )
    expect(boundJson(Name.bound('not-a-path', Addr.Neg), Addr.Neg)).toBe('{"addr":{"type":"neg"},"path":"/"}')
    expect(boundJson(Name.bound('not-a-path', Addr.Neg), Addr.Neg, Path.read('/fallback'))).toBe(
      '{"addr":{"type":"neg"},"id":"/fallback","path":"/"}',
    )
  })

  it('writes trees with no paths and no dentries', () => {
    expect(boundTreeJson(NameTree.Neg)).toBe('{"type":"neg"}')
    expect(boundTreeJson(NameTree.Fail)).toBe('{"type":"fail"}')
    expect(boundTreeJson(NameTree.Empty)).toBe('{"type":"empty"}')
    const leaf = NameTree.leaf(inet('/#/io.l5d.namer/foo'))
    expect(boundTreeJson(leaf)).toBe(
      '{"type":"leaf","bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":8080,"meta":{}}],"meta":{}},"id":"/#/io.l5d.namer/foo","path":"/"}}',
    )
    const neg = NameTree.leaf(inet('/b', Addr.Neg))
    expect(boundTreeJson(NameTree.alt(neg, NameTree.Neg))).toBe(
      '{"type":"alt","alt":[{"type":"leaf","bound":{"addr":{"type":"neg"},"id":"/b","path":"/"}},{"type":"neg"}]}',
    )
    expect(
      boundTreeJson(
        NameTree.union(
          NameTree.weighted(0.5, neg),
          NameTree.weighted(Number.POSITIVE_INFINITY, NameTree.Empty),
        ),
      ),
    ).toBe(
      '{"type":"union","union":[{"weight":0.5,"tree":{"type":"leaf","bound":{"addr":{"type":"neg"},"id":"/b","path":"/"}}},{"weight":"Infinity","tree":{"type":"empty"}}]}',
    )
  })

  it('a bound union carries the weights in the addr metadata as the JVM writes them', async () => {
    const tree = await defaultInterpreter()
      .bind(Dtab.read('/s => 1 * /$/inet/127.0.0.1/1 & 3 * /$/inet/127.0.0.1/2'), Path.read('/s'))
      .toPromise()
    expect(boundTreeJson(tree)).toBe(
      [
        '{"type":"union","union":[',
        '{"weight":1.0,"tree":{"type":"leaf","bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":1,"meta":{}}],',
        '"meta":{"namer_nametree_weight":1.0}},"id":"/$/inet/127.0.0.1/1","path":"/"}}},',
        '{"weight":3.0,"tree":{"type":"leaf","bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":2,"meta":{}}],',
        '"meta":{"namer_nametree_weight":3.0}},"id":"/$/inet/127.0.0.1/2","path":"/"}}}]}',
      ].join(''),
    )
  })
})

describe('settleAddrs', () => {
  it('waits for every addr to leave pending and answers with the settled values', async () => {
    const a = Var.value<Addr>(Addr.Pending)
    const b = Var.value<Addr>(Addr.Neg)
    const names: NameBound[] = [Name.bound(Path.read('/a'), a), Name.bound(Path.read('/b'), b)]
    let settled = false
    const p = settleAddrs(names).then((f) => {
      settled = true
      return f
    })
    await Promise.resolve()
    expect(settled).toBe(false)
    a.update(Addr.bound([Address.read('10.0.0.1:1')]))
    const addrOf = await p
    a.update(Addr.Neg) // later changes do not alter the snapshot
    expect(Addr.show(addrOf(names[0]!))).toBe('Bound(10.0.0.1:1)')
    expect(addrOf(names[1]!)).toBe(Addr.Neg)
  })

  it('rejects with the signal reason when aborted, and stops observing', async () => {
    let observers = 0
    const never = Var.async<Addr>(Addr.Pending, () => {
      observers++
      return () => observers--
    })
    const ac = new AbortController()
    const p = settleAddrs([Name.bound(Path.read('/a'), never)], ac.signal)
    expect(observers).toBe(1)
    ac.abort(new Error('timed out'))
    await expect(p).rejects.toThrow('timed out')
    expect(observers).toBe(0)
  })

  it('boundNames lists each bound leaf once', () => {
    const n = Name.bound(Path.read('/a'), Addr.Neg)
    expect(
      boundNames(NameTree.alt(NameTree.leaf(n), NameTree.union(NameTree.weighted(1, NameTree.leaf(n))))),
    ).toEqual([n])
  })
})
