// The io.l5d.mesh wire contract: our server's answers decoded with mesh.proto loaded on its own by
// @grpc/proto-loader (not through our loader), raw bytes checked against the field numbers of
// linkerd's published definitions, and the converters' round trips as properties.
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  dtabFromWire,
  dtabToWire,
  MeshDecodeError,
  pathFromWire,
  pathToWire,
  replicasFromWire,
  replicasToWire,
} from '../../src/namerd/mesh/convert.js'
import { meshProtoPath } from '../../src/namerd/mesh/proto.js'
import { type MeshListening, meshInterface } from '../../src/namerd/mesh/server.js'
import { inMemoryDtabStore } from '../../src/namerd/store/memory.js'
import { Addr } from '../../src/naming/addr.js'
import { Address } from '../../src/naming/address.js'
import { Dentry, Dtab, NameTree, Path, Prefix, type PrefixElem } from '../../src/naming/index.js'

// Loaded here, independently, with proto-loader's own defaults apart from keeping field names.
const definition = protoLoader.loadSync(meshProtoPath(), { keepCase: true, enums: String, defaults: false })
const method = (service: string, name: string) => {
  const m = (definition[`io.linkerd.mesh.${service}`] as protoLoader.ServiceDefinition)[name]
  if (!m) throw new Error(`no ${service}/${name} in mesh.proto`)
  return m
}

/** A client that sends and receives raw bytes, so nothing of ours touches the encoding. */
const RawClient = grpc.makeGenericClientConstructor({}, 'raw')
let client: grpc.Client
let server: MeshListening
const store = inMemoryDtabStore({ namespaces: new Map([['default', Dtab.read('/svc=>/$/inet/127.0.0.1')]]) })

function unaryBytes(service: string, name: string, request: object): Promise<Buffer> {
  const m = method(service, name)
  const body = m.requestSerialize(request)
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      `/io.linkerd.mesh.${service}/${name}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      (error, value) => (error ? reject(error) : resolve(value!)),
    ),
  )
}

function streamBytes(service: string, name: string, request: object) {
  const m = method(service, name)
  const call = client.makeServerStreamRequest(
    `/io.linkerd.mesh.${service}/${name}`,
    (b: Buffer) => b,
    (b: Buffer) => b,
    m.requestSerialize(request),
  )
  const messages: Buffer[] = []
  call.on('data', (b: Buffer) => messages.push(b))
  call.on('error', () => {})
  return { call, messages }
}

const until = async (p: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs
  while (!p()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

const path = (text: string) => ({ elems: Path.read(text).segments.map((s) => Buffer.from(s)) })

beforeAll(async () => {
  server = await meshInterface({ store, port: 0 })
  client = new RawClient(server.target, grpc.credentials.createInsecure())
})
afterAll(async () => {
  client?.close()
  await server?.close()
  await store.close()
})

describe('mesh.proto, loaded independently', () => {
  it('declares linkerd’s four services with their methods', () => {
    const names = (s: string) => Object.keys(definition[`io.linkerd.mesh.${s}`] as object).sort()
    expect(names('Codec')).toEqual(['ReadDtab', 'ReadPath', 'ShowDtab', 'ShowPath'])
    expect(names('Interpreter')).toEqual(['GetBoundTree', 'StreamBoundTree'])
    expect(names('Resolver')).toEqual(['GetReplicas', 'StreamReplicas'])
    expect(names('Delegator')).toEqual(['GetDelegateTree', 'GetDtab', 'StreamDelegateTree', 'StreamDtab'])
    expect(method('Interpreter', 'StreamBoundTree').responseStream).toBe(true)
    expect(method('Interpreter', 'GetBoundTree').responseStream).toBe(false)
  })

  it('GetDtab: the exact bytes of linkerd’s DtabRsp numbering', async () => {
    await store.put('wire', Dtab.read('/a=>/b'))
    const bytes = await unaryBytes('Delegator', 'GetDtab', { root: path('/wire') })
    // DtabRsp.dtab(1) → VersionedDtab{version(1) → Version{id(1): 8 bytes}, dtab(2) → Dtab{
    // dentries(1) → Dentry{prefix(1) → Prefix{elems(1) → Elem{label(1): "a"}},
    // dst(2) → PathNameTree{leaf(6) → Leaf{id(1) → Path{elems(1): "b"}}}}}}
    const expected = Buffer.from(
      '0a20' +
        '0a0a' +
        '0a08' +
        '0000000000000001' +
        '1212' +
        '0a10' +
        '0a05' +
        '0a03' +
        '0a0161' +
        '1207' +
        '3205' +
        '0a03' +
        '0a0162',
      'hex',
    )
    expect(bytes.toString('hex')).toBe(expected.toString('hex'))
    const decoded = method('Delegator', 'GetDtab').responseDeserialize(bytes) as {
      dtab: { dtab: Parameters<typeof dtabFromWire>[0] }
    }
    expect(dtabFromWire(decoded.dtab.dtab).show()).toBe('/a=>/b')
  })

  it('GetBoundTree: a leaf is BoundNameTree.leaf(6){id(1), residual(2)} in BoundTreeRsp.tree(1)', async () => {
    const bytes = await unaryBytes('Interpreter', 'GetBoundTree', {
      root: path('/default'),
      name: path('/svc/8080/rest'),
      dtab: dtabToWire(Dtab.read('/svc=>/$/inet/10.0.0.1')),
    })
    // /svc/8080/rest => /$/inet/10.0.0.1/8080/rest: id /$/inet/10.0.0.1/8080, residual /rest
    const id = Buffer.concat(
      ['$', 'inet', '10.0.0.1', '8080'].map((s) =>
        Buffer.concat([Buffer.from([0x0a, s.length]), Buffer.from(s)]),
      ),
    )
    const residual = Buffer.from([0x0a, 4, ...Buffer.from('rest')])
    const leaf = Buffer.concat([
      Buffer.from([0x0a, id.length]),
      id,
      Buffer.from([0x12, residual.length]),
      residual,
    ])
    const tree = Buffer.concat([Buffer.from([0x32, leaf.length]), leaf])
    const rsp = Buffer.concat([Buffer.from([0x0a, tree.length]), tree])
    expect(bytes.toString('hex')).toBe(rsp.toString('hex'))
    const decoded = method('Interpreter', 'GetBoundTree').responseDeserialize(bytes) as {
      tree: { leaf: { id: { elems: Buffer[] }; residual: { elems: Buffer[] } } }
    }
    expect(pathFromWire(decoded.tree.leaf.id).show()).toBe('/$/inet/10.0.0.1/8080')
    expect(pathFromWire(decoded.tree.leaf.residual).show()).toBe('/rest')
  })

  it('GetReplicas: Replicas.bound(4){endpoints(1): Endpoint{inet_af(1), address(2), port(3)}}', async () => {
    const bytes = await unaryBytes('Resolver', 'GetReplicas', { id: path('/$/inet/::1/8080') })
    const decoded = method('Resolver', 'GetReplicas').responseDeserialize(bytes) as {
      bound: { endpoints: { inet_af: string; address: Buffer; port: number }[] }
    }
    expect(decoded.bound.endpoints).toHaveLength(1)
    const e = decoded.bound.endpoints[0]!
    expect(e.inet_af).toBe('INET6')
    expect(e.address.toString('hex')).toBe('00000000000000000000000000000001')
    expect(e.port).toBe(8080)
    // Field tags on the wire: bound = 4 (0x22), endpoints = 1 (0x0a), inet_af = 1 varint (0x08 01),
    // address = 2 (0x12, 16 bytes), port = 3 varint (0x18 0x90 0x3f).
    expect(bytes[0]).toBe(0x22)
    expect(bytes.includes(Buffer.from('080112100000000000000000000000000000000118903f', 'hex'))).toBe(true)
    const none = await unaryBytes('Resolver', 'GetReplicas', {})
    expect(method('Resolver', 'GetReplicas').responseDeserialize(none)).toEqual({
      failed: { message: 'No ID provided' },
    })
  })

  it('StreamDtab pushes every change of the namespace', async () => {
    await store.put('dedup', Dtab.read('/a=>/b'))
    const s = streamBytes('Delegator', 'StreamDtab', { root: path('/dedup') })
    await until(() => s.messages.length === 1)
    await store.put('dedup', Dtab.read('/a=>/c'))
    await until(() => s.messages.length === 2)
    const b = s.messages.map(
      (m) => method('Delegator', 'StreamDtab').responseDeserialize(m) as { dtab: { dtab: object } },
    )
    expect(b.map((x) => dtabFromWire(x.dtab.dtab).show())).toEqual(['/a=>/b', '/a=>/c'])
    s.call.cancel()
  })

  it('StreamBoundTree does not repeat a tree when the dtab changes without changing it', async () => {
    await store.put('bind', Dtab.read('/svc=>/$/inet/127.0.0.1'))
    const s = streamBytes('Interpreter', 'StreamBoundTree', { root: path('/bind'), name: path('/svc/80') })
    await until(() => s.messages.length === 1)
    await store.put('bind', Dtab.read('/svc=>/$/inet/127.0.0.1;/other=>/x'))
    await store.put('bind', Dtab.read('/svc=>/$/inet/127.0.0.2'))
    await until(() => s.messages.length >= 2)
    await new Promise((r) => setTimeout(r, 50))
    expect(s.messages).toHaveLength(2)
    s.call.cancel()
    await until(() => server.streams === 0)
  })

  it('bad requests are gRPC errors with linkerd’s messages', async () => {
    const err = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: grpc.ServiceError) => [e.code, e.details],
      )
    expect(await err(unaryBytes('Interpreter', 'GetBoundTree', { name: path('/a') }))).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'No namespace specified',
    ])
    expect(
      await err(unaryBytes('Interpreter', 'GetBoundTree', { root: path('/a/b'), name: path('/a') })),
    ).toEqual([grpc.status.INVALID_ARGUMENT, 'Invalid root: `/a/b` must have exactly one segment'])
    expect(await err(unaryBytes('Interpreter', 'GetBoundTree', { root: path('/default') }))).toEqual([
      grpc.status.NOT_FOUND,
      'No name given',
    ])
    expect(await err(unaryBytes('Delegator', 'GetDtab', { root: path('/missing') }))).toEqual([
      grpc.status.NOT_FOUND,
      'Root not found',
    ])
    expect(
      await err(
        unaryBytes('Interpreter', 'GetBoundTree', {
          root: path('/default'),
          name: { elems: [Buffer.alloc(0)] },
        }),
      ),
    ).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'name.elems[0]: a non-empty label expected but an empty label found',
    ])
    expect(await err(unaryBytes('Codec', 'ReadDtab', { text: '/a=>' }))).toEqual([
      grpc.status.INVALID_ARGUMENT,
      expect.stringContaining('expected but end of input found'),
    ])
    // Garbage bytes are refused by the decoder, and the server keeps serving.
    const garbage = await new Promise<grpc.ServiceError | undefined>((resolve) =>
      client.makeUnaryRequest(
        '/io.linkerd.mesh.Interpreter/GetBoundTree',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0xff, 0xff, 0xff, 0xff]),
        (error) => resolve(error ?? undefined),
      ),
    )
    expect(garbage?.code).toBe(grpc.status.INTERNAL)
    // A request above the 1 MiB bound is refused before it is decoded.
    const huge = await err(unaryBytes('Codec', 'ReadDtab', { text: 'x'.repeat(2 * 1024 * 1024) }))
    expect(huge?.[0]).toBe(grpc.status.RESOURCE_EXHAUSTED)
    const ok = await unaryBytes('Codec', 'ShowPath', { path: path('/a/b') })
    expect(method('Codec', 'ShowPath').responseDeserialize(ok)).toEqual({ text: '/a/b' })
  })
})

// ---- converters ----

const SHOWABLE = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_:.#$%-'
const label = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(...SHOWABLE), minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }) },
)
const anyPath = fc.array(label, { maxLength: 4 }).map((labels) => Path.from(labels))
const { tree } = fc.letrec<{ tree: NameTree<Path> }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    anyPath.map((p) => NameTree.leaf(p)),
    fc.constantFrom(NameTree.Neg, NameTree.Fail, NameTree.Empty),
    fc.array(tie('tree'), { maxLength: 3 }).map((trees) => NameTree.alt(...trees)),
    fc
      .array(fc.record({ weight: fc.double({ min: 0, max: 1e6, noNaN: true }), tree: tie('tree') }), {
        maxLength: 3,
      })
      .map((ws) => NameTree.union(...ws.map((w) => NameTree.weighted(w.weight, w.tree)))),
  ),
}))
const prefixElem: fc.Arbitrary<PrefixElem> = fc.oneof(
  label.map((l) => Prefix.label(l)),
  fc.constant(Prefix.any),
)
const anyDtab = fc
  .array(
    fc.tuple(fc.array(prefixElem, { maxLength: 3 }), tree).map(([p, t]) => new Dentry(Prefix.from(p), t)),
    { maxLength: 4 },
  )
  .map((entries) => Dtab.of(...entries))

describe('converters', () => {
  const codec = method('Codec', 'ShowDtab')
  it('a dtab survives encoding to protobuf bytes and back (property)', () => {
    fc.assert(
      fc.property(anyDtab, (d) => {
        const bytes = codec.requestSerialize({ dtab: dtabToWire(d) })
        const back = codec.requestDeserialize(bytes) as { dtab?: Parameters<typeof dtabFromWire>[0] }
        expect(dtabFromWire(back.dtab).equals(d)).toBe(true)
      }),
    )
  })

  it('a path survives encoding, labels kept byte for byte (property)', () => {
    fc.assert(
      fc.property(anyPath, (p) => {
        expect(pathFromWire(pathToWire(p)).equals(p)).toBe(true)
      }),
    )
  })

  it('an addr survives the Replicas form: IPv4, IPv6, metadata and weights', () => {
    const a = Addr.bound(
      [
        Address.inet('10.0.0.1', 80, { [Address.WeightKey]: 2.5, nodeName: 'n1' }),
        Address.inet('fe80::1', 443),
        Address.inet('users.internal', 80),
      ],
      { [Addr.WeightKey]: 0.5 },
    )
    const back = replicasFromWire(replicasToWire(a))
    expect(back.kind).toBe('bound')
    if (back.kind !== 'bound') return
    expect(back.addresses.map((x) => x.show())).toEqual(['10.0.0.1:80', '[fe80::1]:443'])
    expect(back.addresses[0]!.metadata).toEqual({ [Address.WeightKey]: 2.5, nodeName: 'n1' })
    expect(back.metadata).toEqual({ [Addr.WeightKey]: 0.5 })
    expect(Addr.show(replicasFromWire(replicasToWire(Addr.failed('boom'))))).toBe('Failed(boom)')
    expect(replicasFromWire({}).kind).toBe('neg')
  })

  it('hostile messages are MeshDecodeErrors naming the field', () => {
    expect(() => replicasFromWire({ bound: { endpoints: [{ address: Buffer.alloc(5), port: 1 }] } })).toThrow(
      MeshDecodeError,
    )
    expect(() => replicasFromWire({ bound: { endpoints: [{ address: Buffer.alloc(5), port: 1 }] } })).toThrow(
      'replicas.bound.endpoints[0].address: a 4- or 16-byte IP address expected but 5 bytes found',
    )
    expect(() => dtabFromWire({ dentries: [{ prefix: { elems: [] } }] })).toThrow(
      'dtab.dentries[0]: a dentry with a prefix and a dst expected',
    )
    // Nesting deeper than 100 levels is refused rather than recursed into.
    let deep: object = { neg: {} }
    for (let i = 0; i < 200; i++) deep = { alt: { trees: [deep] } }
    expect(() => dtabFromWire({ dentries: [{ prefix: { elems: [] }, dst: deep }] })).toThrow(
      /a tree at most 100 levels deep expected/,
    )
  })
})
