import { describe, expect, it } from 'vitest'
import { Activity } from '../../src/core/activity.js'
import { InvalidOptionError } from '../../src/core/errors.js'
import { Addr } from '../../src/naming/addr.js'
import { Address } from '../../src/naming/address.js'
import { Dtab } from '../../src/naming/dtab.js'
import { defaultInterpreter } from '../../src/naming/interpreter.js'
import { delegateTreeJson } from '../../src/naming/json.js'
import { Name, type NameBound } from '../../src/naming/name.js'
import { Namer } from '../../src/naming/namer.js'
import { NameTree } from '../../src/naming/nametree.js'
import { Path } from '../../src/naming/path.js'
import { NamerRegistry } from '../../src/naming/registry.js'
import {
  canonicalIp,
  constTransformer,
  localhostTransformer,
  portTransformer,
  replaceTransformer,
  specificHostTransformer,
  type Transformer,
  transformInterpreter,
  transformNamer,
} from '../../src/transformers/index.js'

const disco: Record<string, string[]> = {
  users: ['10.0.0.1:8080', '127.0.0.1:8081'],
  remote: ['10.0.0.2:9000'],
}

/** /#/disco/<service> bound to fixed addresses, with a zone in the addr metadata. */
const discoNamer = Namer.of((path) => {
  const service = path.segments[0]
  const hosts = service === undefined ? undefined : disco[service]
  if (hosts === undefined) return NameTree.Neg
  const addr = Addr.bound(
    hosts.map((h) => Address.read(h, { node: h })),
    { zone: 'z1' },
  )
  return NameTree.leaf(Name.bound(Path.of('#', 'disco', service!), addr, path.drop(1)))
})

const namers = NamerRegistry.create().mount('/#/disco', discoNamer)
const dtab = Dtab.read('/svc => /#/disco')

function bindWith(transformers: readonly Transformer[], service: string) {
  return transformInterpreter(defaultInterpreter({ namers }), transformers).bind(
    dtab,
    Path.of('svc', service),
  )
}

function leafOf(tree: NameTree<NameBound>): NameBound {
  if (tree.kind !== 'leaf') throw new Error(`expected a leaf, got ${tree.kind}`)
  return tree.value
}

describe('portTransformer (io.l5d.port)', () => {
  it('rewrites every port, keeps hosts and metadata, prefixes the id', () => {
    const bound = leafOf(bindWith([portTransformer({ port: 4141 })], 'users').sample())
    expect(bound.idStr).toBe('/%/io.l5d.port/4141/#/disco/users')
    const addr = bound.addr.sample()
    expect(Addr.show(addr)).toBe('Bound(10.0.0.1:4141,127.0.0.1:4141;{"zone":"z1"})')
    if (addr.kind !== 'bound') throw new Error('bound expected')
    expect(addr.addresses[0]!.metadata).toEqual({ node: '10.0.0.1:8080' })
  })
  it('takes a configured prefix and rejects a bad port', () => {
    const bound = leafOf(bindWith([portTransformer({ port: 80, prefix: '/p' })], 'users').sample())
    expect(bound.idStr).toBe('/%/p/#/disco/users')
    expect(() => portTransformer({ port: 0 })).toThrow(InvalidOptionError)
  })
})

describe('localhostTransformer (io.l5d.localhost)', () => {
  it('keeps only local addresses; none left is Neg', () => {
    const t = localhostTransformer({ ips: ['127.0.0.1'] })
    const users = leafOf(bindWith([t], 'users').sample())
    expect(users.idStr).toBe('/%/io.l5d.localhost/#/disco/users')
    expect(Addr.show(users.addr.sample())).toBe('Bound(127.0.0.1:8081;{"zone":"z1"})')
    expect(leafOf(bindWith([t], 'remote').sample()).addr.sample()).toBe(Addr.Neg)
  })
  it('uses the interface addresses by default (loopback included)', () => {
    const users = leafOf(bindWith([localhostTransformer()], 'users').sample())
    expect(Addr.show(users.addr.sample())).toContain('127.0.0.1:8081')
  })
  it('compares IPs canonically', () => {
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('10.0.0.1')
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1')
    expect(canonicalIp('[::1]')).toBe('::1')
  })
})

describe('specificHostTransformer (io.l5d.specificHost)', () => {
  it('keeps the addresses of one IP', () => {
    const t = specificHostTransformer({ host: '10.0.0.1' })
    expect(Addr.show(leafOf(bindWith([t], 'users').sample()).addr.sample())).toBe(
      'Bound(10.0.0.1:8080;{"zone":"z1"})',
    )
  })
  it('resolves a host name once, pending until then', async () => {
    let answer!: (ip: string) => void
    let calls = 0
    const t = specificHostTransformer({
      host: 'db.internal',
      resolve: () => {
        calls++
        return new Promise((r) => {
          answer = r
        })
      },
    })
    const bound = bindWith([t], 'users')
    const states: string[] = []
    const stop = bound.observe((s) => states.push(s.kind))
    expect(states).toEqual(['pending'])
    answer('127.0.0.1')
    await new Promise((r) => setTimeout(r, 0))
    expect(Addr.show(leafOf(bound.sample()).addr.sample())).toBe('Bound(127.0.0.1:8081;{"zone":"z1"})')
    expect(leafOf(bindWith([t], 'remote').sample()).addr.sample()).toBe(Addr.Neg)
    expect(calls).toBe(1)
    stop()
  })
  it('fails the bind when the name does not resolve', async () => {
    const t = specificHostTransformer({
      host: 'nowhere',
      resolve: () => Promise.reject(new Error('ENOTFOUND')),
    })
    await expect(bindWith([t], 'users').toPromise()).rejects.toThrow('ENOTFOUND')
  })
})

describe('replaceTransformer and constTransformer', () => {
  it('replace swaps every leaf for the bound path, leaving Neg alone', () => {
    const t = replaceTransformer({ path: '/$/inet/127.0.0.1/4140' })
    const users = leafOf(bindWith([t], 'users').sample())
    expect(users.idStr).toBe('/%/io.l5d.replace/$/inet/127.0.0.1/4140')
    expect(Addr.show(users.addr.sample())).toBe('Bound(127.0.0.1:4140)')
    expect(bindWith([t], 'missing').sample()).toEqual(NameTree.Neg)
  })
  it('const answers the bound path even for Neg', () => {
    const t = constTransformer({ path: '/$/inet/127.0.0.1/4140' })
    expect(leafOf(bindWith([t], 'missing').sample()).idStr).toBe('/%/io.l5d.const/$/inet/127.0.0.1/4140')
  })
  it('rejects a path that does not parse', () => {
    expect(() => replaceTransformer({ path: 'nope' })).toThrow(InvalidOptionError)
  })
})

describe('composition', () => {
  it('applies transformers in configured order', () => {
    // port first, then localhost: ids nest in that order
    const bound = leafOf(
      bindWith(
        [portTransformer({ port: 4141 }), localhostTransformer({ ips: ['127.0.0.1'] })],
        'users',
      ).sample(),
    )
    expect(bound.idStr).toBe('/%/io.l5d.localhost/%/io.l5d.port/4141/#/disco/users')
    expect(Addr.show(bound.addr.sample())).toBe('Bound(127.0.0.1:4141;{"zone":"z1"})')
  })

  it('a namer-level transformer changes bound answers only', () => {
    const rewriting = Namer.of(() => NameTree.leaf(Name.path('/#/disco/users')))
    const t = [portTransformer({ port: 1 })]
    expect(transformNamer(rewriting, t).lookup(Path.of('x')).sample()).toEqual(
      NameTree.leaf(Name.path('/#/disco/users')),
    )
    const answer = transformNamer(discoNamer, t).lookup(Path.of('users')).sample()
    if (answer.kind !== 'leaf' || answer.value.kind !== 'bound') throw new Error('bound leaf expected')
    expect(answer.value.idStr).toBe('/%/io.l5d.port/1/#/disco/users')
  })

  it('shows each step as a transformation node in the delegation', async () => {
    const interpreter = transformInterpreter(defaultInterpreter({ namers }), [
      portTransformer({ port: 4141 }),
    ])
    const tree = await interpreter.delegate!(dtab, Path.read('/svc/users')).toPromise()
    const json = JSON.parse(delegateTreeJson(tree)) as Record<string, unknown>
    const find = (node: Record<string, unknown>): Record<string, unknown> | undefined => {
      if (node['type'] === 'transformation') return node
      const child = (node['delegate'] ?? node['tree']) as Record<string, unknown> | undefined
      return child ? find(child) : undefined
    }
    const transformation = find(json)!
    expect(transformation['name']).toBe('PortTransformer')
    expect(transformation['path']).toBe('/#/disco/users')
    expect((transformation['tree'] as Record<string, unknown>)['path']).toBe(
      '/%/io.l5d.port/4141/#/disco/users',
    )
    expect((transformation['bound'] as Record<string, unknown>)['id']).toBe('/#/disco/users')
  })

  it('with no transformers is the interpreter itself', () => {
    const i = defaultInterpreter({ namers })
    expect(transformInterpreter(i, [])).toBe(i)
    expect(transformNamer(discoNamer, [])).toBe(discoNamer)
    expect(Activity.value(1)).toBeInstanceOf(Activity)
  })
})
