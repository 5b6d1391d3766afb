// The io.l5d.k8s.daemonset and io.l5d.k8s.localnode transformers: each vector of linkerd's
// DaemonSetTransformerTest and LocalnodeTransformerTest as a case, plus ids, Neg and config errors.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Activity } from '../../src/core/activity.js'
import { InvalidOptionError } from '../../src/core/errors.js'
import { Var } from '../../src/core/var.js'
import { Addr } from '../../src/naming/addr.js'
import { Address } from '../../src/naming/address.js'
import { Dtab } from '../../src/naming/dtab.js'
import type { NameInterpreter } from '../../src/naming/interpreter.js'
import { Name, type NameBound } from '../../src/naming/name.js'
import { NameTree } from '../../src/naming/nametree.js'
import { Path } from '../../src/naming/path.js'
import { daemonsetTransformer, localnodeTransformer, sameSubnet } from '../../src/transformers/k8s.js'
import { transformInterpreter } from '../../src/transformers/transformer.js'

const node = (n: string) => ({ nodeName: n })

/** Binds through `interpreter` and the transformers, and returns the single leaf's addr. */
async function boundAddr(interpreter: NameInterpreter, path: string): Promise<{ addr: Addr; id: unknown }> {
  const tree = await interpreter.bind(Dtab.empty, Path.read(path)).toPromise()
  if (tree.kind !== 'leaf') throw new Error(`expected a leaf, got ${tree.kind}`)
  return { addr: tree.value.addr.sample(), id: tree.value.id }
}

const addrs = (a: Addr) =>
  a.kind === 'bound'
    ? a.addresses
        .map((x) => `${x.show()}${x.metadata['nodeName'] ? `@${x.metadata['nodeName']}` : ''}`)
        .sort()
    : a.kind

const daemonsetOf = (addresses: Address[]) =>
  Activity.value<NameTree<NameBound>>(
    NameTree.leaf(Name.bound(Path.read('/#/io.l5d.k8s/default/incoming/l5d'), Addr.bound(addresses))),
  )

describe('io.l5d.k8s.daemonset (linkerd DaemonSetTransformerTest)', () => {
  it('daemonset transformer uses daemonset: each address goes to the daemonset pod in its /24', async () => {
    const daemonset = daemonsetOf([
      Address.inet('1.1.1.1', 4141),
      Address.inet('1.1.2.1', 4141),
      Address.inet('1.1.3.1', 4141),
    ])
    // The interpreter binds /<ip> to <ip>:8888, as in linkerd's test.
    const interpreter: NameInterpreter = {
      bind: (_d, path) =>
        Activity.value(NameTree.leaf(Name.bound(path, Addr.bound([Address.inet(path.segments[0]!, 8888)])))),
    }
    const transformed = transformInterpreter(interpreter, [
      daemonsetTransformer({ namespace: 'default', service: 'l5d', port: 'incoming', daemonset }),
    ])
    for (const [dest, expected] of [
      ['/1.1.1.55', '1.1.1.1'],
      ['/1.1.2.55', '1.1.2.1'],
      ['/1.1.3.55', '1.1.3.1'],
    ] as const) {
      const { addr, id } = await boundAddr(transformed, dest)
      expect(addrs(addr)).toEqual([`${expected}:4141`])
      expect(id).toEqual(Path.read(`/%/io.l5d.k8s.daemonset/default/incoming/l5d${dest}`))
    }
    // No daemonset pod in the subnet: Neg.
    expect((await boundAddr(transformed, '/1.1.9.55')).addr).toEqual(Addr.Neg)
  })

  it('daemonset transformer with hostNetwork: matched by nodeName metadata', async () => {
    const daemonset = daemonsetOf(
      ['7.7.7.1', '7.7.7.2', '7.7.7.3'].map((ip) => Address.inet(ip, 4141, node(ip))),
    )
    // The interpreter binds /<ip>/<nodeName> to <ip>:8888 on that node.
    const interpreter: NameInterpreter = {
      bind: (_d, path) => {
        const [ip, nodeName] = path.segments as [string, string]
        return Activity.value(
          NameTree.leaf(Name.bound(path, Addr.bound([Address.inet(ip, 8888, node(nodeName))]))),
        )
      },
    }
    const transformed = transformInterpreter(interpreter, [
      daemonsetTransformer({
        namespace: 'default',
        service: 'l5d',
        port: 'incoming',
        daemonset,
        hostNetwork: true,
      }),
    ])
    for (const [dest, expected] of [
      ['/1.1.1.55/7.7.7.1', '7.7.7.1'],
      ['/1.1.1.55/7.7.7.2', '7.7.7.2'],
      ['/1.1.1.55/7.7.7.3', '7.7.7.3'],
    ] as const) {
      const { addr } = await boundAddr(transformed, dest)
      expect(addrs(addr)).toEqual([`${expected}:4141@${expected}`])
    }
    expect((await boundAddr(transformed, '/1.1.1.55/7.7.7.9')).addr).toEqual(Addr.Neg)
  })

  it('follows the daemonset live, and is pending while it is', async () => {
    const gw = Var.value<Addr>(Addr.Pending)
    const daemonset = Activity.value<NameTree<NameBound>>(NameTree.leaf(Name.bound(Path.read('/#/ds'), gw)))
    const interpreter: NameInterpreter = {
      bind: (_d, path) =>
        Activity.value(NameTree.leaf(Name.bound(path, Addr.bound([Address.inet('10.0.1.7', 80)])))),
    }
    const t = transformInterpreter(interpreter, [
      daemonsetTransformer({ namespace: 'default', service: 'l5d', port: 'incoming', daemonset }),
    ])
    const tree = await t.bind(Dtab.empty, Path.read('/x')).toPromise()
    const addr = (tree as Extract<NameTree<NameBound>, { kind: 'leaf' }>).value.addr
    expect(addr.sample()).toEqual(Addr.Pending)
    gw.update(Addr.bound([Address.inet('10.0.1.2', 4141)]))
    expect(addrs(addr.sample())).toEqual(['10.0.1.2:4141'])
    gw.update(Addr.bound([Address.inet('10.0.2.2', 4141)]))
    expect(addr.sample()).toEqual(Addr.Neg)
  })
})

describe('io.l5d.k8s.localnode (linkerd LocalnodeTransformerTest)', () => {
  const four = (meta: (i: number) => Record<string, string>) => (_d: Dtab, path: Path) =>
    Activity.value<NameTree<NameBound>>(
      NameTree.leaf(
        Name.bound(
          path,
          Addr.bound(
            ['1.1.1.2', '1.1.1.3', '1.1.2.2', '1.1.2.3'].map((ip, i) => Address.inet(ip, 8888, meta(i))),
          ),
        ),
      ),
    )

  it('localnode transformer selects local instance (same /24 as POD_IP)', async () => {
    const t = transformInterpreter({ bind: four(() => ({})) }, [localnodeTransformer({ podIp: '1.1.1.1' })])
    const { addr, id } = await boundAddr(t, '/svc')
    expect(addrs(addr)).toEqual(['1.1.1.2:8888', '1.1.1.3:8888'])
    expect(id).toEqual(Path.read('/%/io.l5d.k8s.localnode/1.1.1.1/svc'))
  })

  it('localnode transformer with host network (nodeName == NODE_NAME)', async () => {
    const interpreter: NameInterpreter = {
      bind: (_d, path) =>
        Activity.value(
          NameTree.leaf(
            Name.bound(
              path,
              Addr.bound([
                Address.inet('1.1.1.1', 8888, node('7.7.7.7')),
                Address.inet('1.1.1.2', 8888, node('7.7.7.7')),
                Address.inet('1.1.1.3', 8888, node('7.7.7.8')),
                Address.inet('1.1.1.4', 8888, node('7.7.7.8')),
              ]),
            ),
          ),
        ),
    }
    const t = transformInterpreter(interpreter, [
      localnodeTransformer({ hostNetwork: true, nodeName: '7.7.7.7' }),
    ])
    const { addr, id } = await boundAddr(t, '/svc')
    expect(addrs(addr)).toEqual(['1.1.1.1:8888@7.7.7.7', '1.1.1.2:8888@7.7.7.7'])
    expect(id).toEqual(Path.read('/%/io.l5d.k8s.localnode/7.7.7.7/svc'))
  })

  it('nothing local is Neg; the environment variables are the defaults; missing ones are config errors', async () => {
    const t = transformInterpreter({ bind: four(() => ({})) }, [localnodeTransformer({ podIp: '9.9.9.9' })])
    expect((await boundAddr(t, '/svc')).addr).toEqual(Addr.Neg)
    const saved = { POD_IP: process.env['POD_IP'], NODE_NAME: process.env['NODE_NAME'] }
    try {
      delete process.env['POD_IP']
      delete process.env['NODE_NAME']
      expect(() => localnodeTransformer()).toThrow(InvalidOptionError)
      expect(() => localnodeTransformer({ hostNetwork: true })).toThrow(/NODE_NAME/)
      process.env['POD_IP'] = '1.1.2.9'
      const fromEnv = transformInterpreter({ bind: four(() => ({})) }, [localnodeTransformer()])
      expect(addrs((await boundAddr(fromEnv, '/svc')).addr)).toEqual(['1.1.2.2:8888', '1.1.2.3:8888'])
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
    }
  })
})

describe('sameSubnet', () => {
  it('is an equivalence on IPv4 addresses: equal under the mask (property)', () => {
    const octet = fc.integer({ min: 0, max: 255 })
    const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'))
    fc.assert(
      fc.property(ip, ip, (a, b) => {
        expect(sameSubnet(a, a)).toBe(true)
        expect(sameSubnet(a, b)).toBe(sameSubnet(b, a))
        expect(sameSubnet(a, b)).toBe(
          a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.'),
        )
      }),
    )
  })
  it('puts nothing that is not IPv4 in a subnet', () => {
    expect(sameSubnet('::1', '::1')).toBe(false)
    expect(sameSubnet('host', '1.1.1.1')).toBe(false)
    expect(sameSubnet('::ffff:1.1.1.2', '1.1.1.1')).toBe(true)
  })
})
