import { describe, expect, it } from 'vitest'
import { Activity } from '../../src/core/activity.js'
import { manualClock } from '../../src/core/clock.js'
import {
  Addr,
  Address,
  boundNames,
  DelegateTree,
  Dentry,
  Dtab,
  defaultInterpreter,
  delegate,
  delegateTreeJson,
  Name,
  type NameBound,
  Namer,
  NamerExceededMaxDepthError,
  NamerRegistry,
  NameTree,
  Path,
  settleAddrs,
} from '../../src/naming/index.js'
import { fakeDns } from './helpers.js'

const errorNamer = Namer.of((path) => Activity.exception(new Error(`error naming /#/error${path.show()}`)))

function namers() {
  return NamerRegistry.create({
    resolver: fakeDns({ '127.1': ['127.0.0.1'] }),
    scheduler: manualClock(),
  }).mount('/#/error', errorNamer)
}

async function explain(
  dtab: string,
  path: string,
  options = { namers: namers() },
): Promise<DelegateTree<NameBound>> {
  return delegate(Dtab.read(dtab), Path.read(path), options).toPromise()
}

async function json(dtab: string, path: string): Promise<string> {
  const tree = await explain(dtab, path)
  return delegateTreeJson(tree, await settleAddrs(boundNames(tree)))
}

const nopLess = (d: string) => Dentry.read(d)

describe('delegate (linkerd DelegateTree)', () => {
  it('explains the DelegatorTest dtab: Alt children last dentry first, same-path Alts spliced', async () => {
    const dtab =
      '/bah/humbug=>/$/inet/127.1/8080; /beh=>/#/error; /foo=>/bah | /$/fail; /foo=>/bar; /boo=>/foo; /meh=>/heh'
    const t = await explain(dtab, '/boo/lol')
    const expected: DelegateTree<NameBound> = {
      kind: 'delegate',
      path: Path.read('/boo/lol'),
      dentry: Dentry.nop,
      tree: {
        kind: 'alt',
        path: Path.read('/foo/lol'),
        dentry: nopLess('/boo=>/foo'),
        trees: [
          { kind: 'neg', path: Path.read('/bar/lol'), dentry: nopLess('/foo=>/bar') },
          { kind: 'neg', path: Path.read('/bah/lol'), dentry: nopLess('/foo=>/bah | /$/fail') },
          { kind: 'fail', path: Path.read('/$/fail/lol'), dentry: nopLess('/foo=>/bah | /$/fail') },
        ],
      },
    }
    expect(DelegateTree.render(t)).toBe(DelegateTree.render(expected))
    expect(t).toEqual(expected)
  })

  it('writes the delegate JSON of linkerd DelegateApiHandlerTest byte for byte', async () => {
    const dtab =
      '/beh => /#/error; /bah/humbug => /$/inet/127.1/8080; /foo => /bah | /beh | /$/fail; /foo => /bar; /boo => /foo; /meh => /heh'
    expect(await json(dtab, '/boo/humbug')).toBe(
      [
        '{"type":"delegate","path":"/boo/humbug","delegate":{',
        '"type":"alt","path":"/foo/humbug","dentry":{"prefix":"/boo","dst":"/foo"},"alt":[',
        '{"type":"neg","path":"/bar/humbug","dentry":{"prefix":"/foo","dst":"/bar"}},',
        '{"type":"delegate","path":"/bah/humbug",',
        '"dentry":{"prefix":"/foo","dst":"/bah | /beh | /$/fail"},"delegate":{',
        '"type":"leaf","path":"/$/inet/127.1/8080","dentry":{"prefix":"/bah/humbug",',
        '"dst":"/$/inet/127.1/8080"},',
        '"bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":8080,"meta":{}}],"meta":{}},',
        '"id":"/$/inet/127.1/8080","path":"/"}}},',
        '{"type":"delegate","path":"/beh/humbug",',
        '"dentry":{"prefix":"/foo","dst":"/bah | /beh | /$/fail"},"delegate":{',
        '"type":"exception","path":"/#/error/humbug","dentry":{"prefix":"/beh","dst":"/#/error"},',
        '"message":"error naming /#/error/humbug"}},',
        '{"type":"fail","path":"/$/fail/humbug",',
        '"dentry":{"prefix":"/foo","dst":"/bah | /beh | /$/fail"}}]}}',
      ].join(''),
    )
  })

  it('an explicit ~ gives Neg an empty path, shown as "~"; a lone ~ entry does not reach the namers (surprise 16)', async () => {
    const t = await explain('/a=>~', '/a')
    expect(t).toEqual({
      kind: 'delegate',
      path: Path.read('/a'),
      dentry: Dentry.nop,
      tree: { kind: 'neg', path: Path.empty, dentry: nopLess('/a=>~') },
    })
    expect(await json('/a=>~', '/a')).toBe(
      '{"type":"delegate","path":"/a","delegate":{"type":"neg","path":"~","dentry":{"prefix":"/a","dst":"~"}}}',
    )
    // Binding, unlike delegation, falls through a lone ~ to the system namer.
    expect(await json('/$/inet=>~', '/$/inet/127.0.0.1/1')).toBe(
      '{"type":"delegate","path":"/$/inet/127.0.0.1/1","delegate":{"type":"neg","path":"~","dentry":{"prefix":"/$/inet","dst":"~"}}}',
    )
  })

  it('a path nothing matches is a root Neg with its path and no dentry', async () => {
    expect(await json('/a=>/b', '/nope/x')).toBe('{"type":"neg","path":"/nope/x"}')
  })

  it('a Fail prints "!" unless its path is under /$/fail', async () => {
    expect(await json('/a=>!', '/a')).toBe(
      '{"type":"delegate","path":"/a","delegate":{"type":"fail","path":"!","dentry":{"prefix":"/a","dst":"!"}}}',
    )
    expect(await json('/a=>/$/fail', '/a')).toBe(
      '{"type":"delegate","path":"/a","delegate":{"type":"fail","path":"/$/fail","dentry":{"prefix":"/a","dst":"/$/fail"}}}',
    )
  })

  it('a Delegate collapses into a same-path child, which takes over its dentry (surprise 16)', async () => {
    const t = await explain('/a => /b | /c', '/a')
    expect(t.kind).toBe('alt')
    expect(t.kind === 'alt' && t.dentry).toBe(Dentry.nop)
    expect(await json('/a => /b | /c', '/a')).toBe(
      '{"type":"alt","path":"/a","alt":[{"type":"neg","path":"/b","dentry":{"prefix":"/a","dst":"/b | /c"}},{"type":"neg","path":"/c","dentry":{"prefix":"/a","dst":"/b | /c"}}]}',
    )
    // ...but not into Neg, Fail or Empty, so the rule that led there stays visible.
    expect((await explain('/a => /$/nil', '/a')).kind).toBe('delegate')
  })

  it('explains a union with Java-style weights, and binds every branch', async () => {
    const dtab = '/s => 3 * /$/inet/127.0.0.1/1 & /$/inet/127.0.0.1/2'
    expect(await json(dtab, '/s')).toBe(
      [
        '{"type":"union","path":"/s","union":[',
        '{"weight":3.0,"tree":{"type":"leaf","path":"/$/inet/127.0.0.1/1","dentry":{"prefix":"/s","dst":"3.00*/$/inet/127.0.0.1/1 & /$/inet/127.0.0.1/2"},',
        '"bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":1,"meta":{}}],"meta":{}},"id":"/$/inet/127.0.0.1/1","path":"/"}}},',
        '{"weight":1.0,"tree":{"type":"leaf","path":"/$/inet/127.0.0.1/2","dentry":{"prefix":"/s","dst":"3.00*/$/inet/127.0.0.1/1 & /$/inet/127.0.0.1/2"},',
        '"bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":2,"meta":{}}],"meta":{}},"id":"/$/inet/127.0.0.1/2","path":"/"}}}]}',
      ].join(''),
    )
  })

  it('shows every alternative, even after one that binds (unlike bind)', async () => {
    const t = await explain('/s => /$/inet/127.0.0.1/1 | /$/inet/127.0.0.1/2', '/s')
    expect(t.kind === 'alt' && t.trees.map((c) => c.kind)).toEqual(['leaf', 'leaf'])
  })

  it('the depth limit fails the whole explanation with "Max recursion level reached."', async () => {
    const p = explain('/a => /b; /b => /a', '/a')
    await expect(p).rejects.toThrow(NamerExceededMaxDepthError)
    await expect(p).rejects.toThrow(/^Max recursion level reached\.$/)
  })

  it('inside an Alt or a Union a failing branch becomes an Exception node of that node', async () => {
    const t = await explain('/a => /b | /c; /b => /b/b; /c => /$/nil', '/a')
    expect(t.kind).toBe('alt')
    if (t.kind !== 'alt') return
    // Created while the Alt still carried its dentry; simplification then moved the root's onto the Alt.
    expect(t.trees[0]).toMatchObject({
      kind: 'exception',
      path: Path.read('/a'),
      dentry: nopLess('/a=>/b | /c'),
    })
    expect(t.trees[0]?.kind === 'exception' && (t.trees[0].error as Error).message).toBe(
      'Max recursion level reached.',
    )
    expect(t.trees[1]?.kind).toBe('delegate')
    const u = await explain('/a => /b & /c; /b => /b/b; /c => /$/nil', '/a')
    expect(u.kind === 'union' && u.trees[0]?.tree.kind).toBe('exception')
  })

  it('an unknown /$/ kind is an Exception node naming it', async () => {
    expect(await json('/s => /$/com.example.nope', '/s/x')).toBe(
      '{"type":"delegate","path":"/s/x","delegate":{"type":"exception","path":"/$/com.example.nope/x","dentry":{"prefix":"/s","dst":"/$/com.example.nope"},"message":"Unknown namer: com.example.nope for path: /$/com.example.nope/x"}}',
    )
  })

  it("a rewriting namer's output is delegated further, credited to the dentry that led to the namer", async () => {
    const t = await explain(
      '/h => /$/io.buoyant.porthostPfx/ph; /ph => /$/io.buoyant.rinet',
      '/h/127.0.0.1:8080',
    )
    expect(DelegateTree.render(t)).toBe(
      [
        '/h/127.0.0.1:8080',
        '└─ /ph/8080/127.0.0.1  (/h=>/$/io.buoyant.porthostPfx/ph)',
        '   └─ /$/io.buoyant.rinet/8080/127.0.0.1  => /$/io.buoyant.rinet/8080/127.0.0.1  (/ph=>/$/io.buoyant.rinet)',
      ].join('\n'),
    )
  })

  it('the interpreter delegates with its own namers', async () => {
    const interpreter = defaultInterpreter({ namers: namers() })
    const t = await interpreter.delegate(Dtab.read('/s => /#/error'), Path.read('/s')).toPromise()
    expect(t).toMatchObject({ kind: 'delegate', tree: { kind: 'exception', path: Path.read('/#/error') } })
  })
})

describe('DelegateTree functions', () => {
  const d = Dentry.read('/a=>/b')
  const leaf = (p: string, value = 'v'): DelegateTree<string> => ({
    kind: 'leaf',
    path: Path.read(p),
    dentry: d,
    value,
  })

  it('simplify: empty Alt/Union are Neg, one-child ones a Delegate (weight dropped)', () => {
    const p = Path.read('/x')
    expect(DelegateTree.simplify({ kind: 'alt', path: p, dentry: d, trees: [] })).toEqual({
      kind: 'neg',
      path: p,
      dentry: d,
    })
    expect(DelegateTree.simplify({ kind: 'union', path: p, dentry: d, trees: [] })).toEqual({
      kind: 'neg',
      path: p,
      dentry: d,
    })
    expect(
      DelegateTree.simplify({ kind: 'union', path: p, dentry: d, trees: [{ weight: 2, tree: leaf('/y') }] }),
    ).toEqual({
      kind: 'delegate',
      path: p,
      dentry: d,
      tree: leaf('/y'),
    })
    expect(DelegateTree.simplify({ kind: 'alt', path: p, dentry: Dentry.nop, trees: [leaf('/x')] })).toEqual({
      ...leaf('/x'),
      dentry: Dentry.nop,
    })
  })

  it('simplify splices only child Alts with the same path', () => {
    const inner = (p: string): DelegateTree<string> => ({
      kind: 'alt',
      path: Path.read(p),
      dentry: d,
      trees: [leaf('/1'), leaf('/2')],
    })
    const t: DelegateTree<string> = {
      kind: 'alt',
      path: Path.read('/x'),
      dentry: d,
      trees: [inner('/x'), inner('/y')],
    }
    const s = DelegateTree.simplify(t)
    expect(s.kind === 'alt' && s.trees.map((c) => c.path.show())).toEqual(['/1', '/2', '/y'])
  })

  it('toNameTree drops delegates and rethrows exceptions', () => {
    const t: DelegateTree<string> = {
      kind: 'delegate',
      path: Path.read('/x'),
      dentry: d,
      tree: {
        kind: 'union',
        path: Path.read('/x'),
        dentry: d,
        trees: [
          { weight: 2, tree: leaf('/y', 'a') },
          { weight: 1, tree: { kind: 'empty', path: Path.empty, dentry: d } },
        ],
      },
    }
    expect(NameTree.show(DelegateTree.toNameTree(t), String)).toBe('2.00*a & $')
    const boom = new Error('boom')
    expect(() =>
      DelegateTree.toNameTree({ kind: 'exception', path: Path.empty, dentry: d, error: boom }),
    ).toThrow(boom)
  })

  it('find lists (path, dentry) from the root to the first matching leaf; the root dentry shows as ""', () => {
    const t: DelegateTree<string> = {
      kind: 'delegate',
      path: Path.read('/s'),
      dentry: Dentry.nop,
      tree: { kind: 'alt', path: Path.read('/t'), dentry: d, trees: [leaf('/u', 'no'), leaf('/v', 'yes')] },
    }
    expect(DelegateTree.find(t, (v) => v === 'yes')?.map(([p, s]) => [p.show(), s])).toEqual([
      ['/s', ''],
      ['/t', '/a=>/b'],
      ['/v', '/a=>/b'],
    ])
    expect(DelegateTree.find(t, () => false)).toBeUndefined()
  })

  it('find swaps the labels of a transformation right above the leaf', () => {
    const bound = Name.bound(Path.read('/$/inet/127.0.0.1/1'), Addr.bound([Address.read('127.0.0.1:1')]))
    const t: DelegateTree<NameBound> = {
      kind: 'transformation',
      path: Path.read('/%/io.l5d.port/4141/$/inet/127.0.0.1/1'),
      name: 'io.l5d.port',
      value: bound,
      tree: { kind: 'leaf', path: Path.read('/$/inet/127.0.0.1/4141'), dentry: d, value: bound },
    }
    expect(DelegateTree.find(t, () => true)?.map(([p, s]) => [p.show(), s])).toEqual([
      ['/%/io.l5d.port/4141/$/inet/127.0.0.1/1', '/a=>/b'],
      ['/$/inet/127.0.0.1/4141', 'io.l5d.port'],
    ])
    expect(delegateTreeJson(t)).toBe(
      '{"type":"transformation","path":"/%/io.l5d.port/4141/$/inet/127.0.0.1/1","name":"io.l5d.port","bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":1,"meta":{}}],"meta":{}},"id":"/$/inet/127.0.0.1/1","path":"/"},"tree":{"type":"leaf","path":"/$/inet/127.0.0.1/4141","dentry":{"prefix":"/a","dst":"/b"},"bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":1,"meta":{}}],"meta":{}},"id":"/$/inet/127.0.0.1/1","path":"/"}}}',
    )
  })
})
