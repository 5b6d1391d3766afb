import { describe, expect, it } from 'vitest'
import { Activity } from '../../src/core/activity.js'
import { Var } from '../../src/core/var.js'
import {
  Addr,
  Address,
  BindingTooDeepError,
  bindTree,
  configuredDtabInterpreter,
  Dtab,
  defaultInterpreter,
  Name,
  type NameBound,
  Namer,
  NamerExceededMaxDepthError,
  NamerRegistry,
  NameTree,
  ParseError,
  Path,
  resolve,
  UnknownNamerError,
} from '../../src/naming/index.js'
import { drivenNamer, leaves, showState } from './helpers.js'

const bindText = (dtab: string, path: string, options: Parameters<typeof defaultInterpreter>[0] = {}) =>
  showState(defaultInterpreter(options).bind(Dtab.read(dtab), Path.read(path)).state())

const boundLeaf = (id: string, addr: Addr = Addr.bound([Address.read('10.0.0.1:80')]), residual = '/') =>
  NameTree.leaf(Name.bound(Path.read(id), addr, Path.read(residual)))

function withNamer(prefix = '/#/test') {
  const driven = drivenNamer()
  return { ...driven, namers: NamerRegistry.create().mount(prefix, driven.namer) }
}

describe('binding through the dtab and the system namers', () => {
  it('follows dentries to an /$/inet name, with the unconsumed part as residual', () => {
    const tree = defaultInterpreter().bind(
      Dtab.read('/s => /a; /a => /$/inet/127.0.0.1'),
      Path.read('/s/8080/x/y'),
    )
    const s = tree.state()
    expect(s.kind).toBe('ok')
    if (s.kind !== 'ok') return
    expect(leaves(s.value)).toEqual([
      { id: '/$/inet/127.0.0.1/8080', residual: '/x/y', addr: 'Bound(127.0.0.1:8080)' },
    ])
  })

  it('an unknown name binds to Neg; /$/nil to Empty; /$/fail to Fail', () => {
    expect(bindText('', '/nope')).toBe('~')
    expect(bindText('/s=>/$/nil', '/s/x')).toBe('$')
    expect(bindText('/s=>/$/fail', '/s/x')).toBe('!')
  })

  it('an unknown /$/ kind fails with UnknownNamerError', () => {
    const s = defaultInterpreter().bind(Dtab.empty, Path.read('/$/com.example.nope/x')).state()
    expect(s.kind === 'failed' && s.error).toBeInstanceOf(UnknownNamerError)
    expect(bindText('', '/$/com.example.nope/x')).toBe(
      'failed: Unknown namer: com.example.nope for path: /$/com.example.nope/x',
    )
  })
})

describe('the depth limit', () => {
  it('fails with "Max recursion level: <N> reached in Namer lookup" (namerMaxDepth=2, /s => /s/srv)', () => {
    const interpreter = defaultInterpreter({ maxDepth: 2 })
    const s = interpreter.bind(Dtab.read('/s => /s/srv'), Path.read('/s/foo/bar')).state()
    expect(s.kind === 'failed' && s.error).toBeInstanceOf(NamerExceededMaxDepthError)
    expect(showState(s)).toBe('failed: Max recursion level: 2 reached in Namer lookup')
    const addr = resolve(interpreter, Dtab.read('/s => /s/srv'), Path.read('/s/foo/bar')).sample()
    expect(addr.kind === 'failed' && (addr.cause as Error).message).toBe(
      'Max recursion level: 2 reached in Namer lookup',
    )
  })

  it('counts the final system-namer lookup (surprise 10)', () => {
    expect(bindText('/foo=>/$/inet/8080', '/foo', { maxDepth: 1 })).toBe(
      'failed: Max recursion level: 1 reached in Namer lookup',
    )
    expect(bindText('/foo=>/$/inet/8080', '/foo', { maxDepth: 2 })).toBe('/$/inet/8080')
    expect(bindText('', '/$/inet/8080', { maxDepth: 0 })).toBe(
      'failed: Max recursion level: 0 reached in Namer lookup',
    )
    expect(bindText('', '/x', { maxDepth: 0 })).toBe('failed: Max recursion level: 0 reached in Namer lookup')
    expect(bindText('', '/x', { maxDepth: 1 })).toBe('~')
  })

  it('ends a binding loop with the depth error, not a stack overflow', () => {
    expect(bindText('/foo/bar=>/bar/foo;/bar/foo=>/foo/bar', '/foo/bar')).toBe(
      'failed: Max recursion level: 100 reached in Namer lookup',
    )
    // The empty prefix matches the rewritten path again.
    expect(bindText('/=>/$/inet/1', '/x')).toBe('failed: Max recursion level: 100 reached in Namer lookup')
    // A large limit still ends (no recursion of the JS stack per lookup beyond the Activity chain).
    expect(bindText('/a=>/a/a', '/a', { maxDepth: 1000 })).toBe(
      'failed: Max recursion level: 1000 reached in Namer lookup',
    )
  })

  it('a loop through a union costs one lookup per level, not one per branch', () => {
    let lookups = 0
    const lookup = (p: Path) => {
      lookups++
      return Activity.value(NameTree.map(Dtab.read('/a => /a & /a').lookup(p), (x) => Name.path(x)))
    }
    const s = bindTree(lookup, NameTree.leaf(Path.read('/a'))).state()
    expect(showState(s)).toBe('failed: Max recursion level: 100 reached in Namer lookup')
    expect(lookups).toBeLessThanOrEqual(101)
  })
})

describe('Alt binding (surprise 7)', () => {
  it('is lazy: once a branch binds, later branches are never looked up', () => {
    const t = withNamer()
    t.answer('/a').ok(boundLeaf('/#/test/a'))
    const tree = defaultInterpreter({ namers: t.namers }).bind(
      Dtab.read('/s => /#/test/a | /#/test/b'),
      Path.read('/s'),
    )
    expect(showState(tree.state())).toBe('/#/test/a')
    expect(t.asked).toEqual(['/a'])
  })

  it('moves past Neg to the next branch, and follows the head when it changes', () => {
    const t = withNamer()
    t.answer('/a').ok(NameTree.Neg)
    t.answer('/b').ok(boundLeaf('/#/test/b'))
    const tree = defaultInterpreter({ namers: t.namers }).bind(
      Dtab.read('/s => /#/test/a | /#/test/b'),
      Path.read('/s'),
    )
    const seen: string[] = []
    const stop = tree.observe((s) => seen.push(showState(s)))
    t.answer('/a').ok(boundLeaf('/#/test/a'))
    stop()
    expect(seen).toEqual(['/#/test/b', '/#/test/a'])
  })

  it('does not fall back when the head is pending or failed', () => {
    const t = withNamer()
    t.answer('/b').ok(boundLeaf('/#/test/b'))
    const tree = defaultInterpreter({ namers: t.namers }).bind(
      Dtab.read('/s => /#/test/a | /#/test/b'),
      Path.read('/s'),
    )
    expect(showState(tree.state())).toBe('pending')
    t.answer('/a').fail(new Error('zk down'))
    expect(showState(tree.state())).toBe('failed: zk down')
  })

  it('Fail stops it; Empty is an answer', () => {
    expect(bindText('/s => /$/fail | /$/inet/127.0.0.1/1', '/s')).toBe('!')
    expect(bindText('/s => /$/nil | /$/inet/127.0.0.1/1', '/s')).toBe('$')
    expect(bindText('/s => ~ | /nope | /$/inet/127.0.0.1/1', '/s')).toBe('/$/inet/127.0.0.1/1')
    expect(bindText('/s => /x | /y', '/s')).toBe('~')
  })
})

describe('Union binding (surprise 8)', () => {
  it('ignores pending and failed branches when any branch is ok', () => {
    const t = withNamer()
    t.answer('/ok').ok(boundLeaf('/#/test/ok'))
    t.answer('/bad').fail(new Error('boom'))
    const bind = (dst: string) =>
      showState(
        defaultInterpreter({ namers: t.namers })
          .bind(Dtab.read(`/s => ${dst}`), Path.read('/s'))
          .state(),
      )
    expect(bind('/#/test/ok & /#/test/pending')).toBe('/#/test/ok')
    expect(bind('/#/test/bad & /#/test/ok')).toBe('/#/test/ok')
    expect(bind('/#/test/pending & /#/test/bad')).toBe('failed: boom')
    expect(bind('/#/test/pending & /#/test/pending2')).toBe('pending')
  })

  it('a union of Fails binds to Neg; Empty branches are kept', () => {
    expect(bindText('/s => /$/fail & /$/fail', '/s')).toBe('~')
    expect(bindText('/s => /$/nil & 2 * /$/inet/127.0.0.1/1', '/s')).toBe('$ & 2.00*/$/inet/127.0.0.1/1')
    expect(bindText('/s => /$/fail & 2 * /$/inet/127.0.0.1/1', '/s')).toBe('/$/inet/127.0.0.1/1')
  })

  it('a failed branch turning ok joins the union live', () => {
    const t = withNamer()
    t.answer('/a').ok(boundLeaf('/#/test/a'))
    const tree = defaultInterpreter({ namers: t.namers }).bind(
      Dtab.read('/s => /#/test/a & 3 * /#/test/b'),
      Path.read('/s'),
    )
    const seen: string[] = []
    const stop = tree.observe((s) => seen.push(showState(s)))
    t.answer('/b').fail(new Error('x'))
    t.answer('/b').ok(boundLeaf('/#/test/b'))
    stop()
    expect(seen).toEqual(['/#/test/a', '/#/test/a & 3.00*/#/test/b'])
  })
})

describe('weights (surprise 9)', () => {
  const weightsOf = (tree: NameTree<NameBound>) =>
    Object.fromEntries(
      leavesOf(tree).map((n) => {
        const a = n.addr.sample()
        return [n.idStr, a.kind === 'bound' ? a.metadata[Addr.WeightKey] : undefined]
      }),
    )
  const leavesOf = (t: NameTree<NameBound>): NameBound[] =>
    t.kind === 'leaf' ? [t.value] : t.kind === 'union' ? t.trees.flatMap((w) => leavesOf(w.tree)) : []

  it('attaches only the innermost union weight, to bound addrs', () => {
    const dtab = Dtab.read(
      '/s=>3*/a & /b; /a=>5*/$/inet/127.0.0.1/1 & /$/inet/127.0.0.1/3; /b=>/$/inet/127.0.0.2/1',
    )
    const tree = defaultInterpreter().bind(dtab, Path.read('/s')).sample()
    expect(weightsOf(tree)).toEqual({
      '/$/inet/127.0.0.1/1': 5,
      '/$/inet/127.0.0.1/3': 1,
      '/$/inet/127.0.0.2/1': 1,
    })
  })

  it('passes through Alts and further lookups; a name outside any union gets none', () => {
    const dtab = Dtab.read(
      '/s => 4 * (~ | /a) & /b; /a => /c; /c => /$/inet/127.0.0.1/1; /b => /$/inet/127.0.0.1/2',
    )
    expect(weightsOf(defaultInterpreter().bind(dtab, Path.read('/s')).sample())).toEqual({
      '/$/inet/127.0.0.1/1': 4,
      '/$/inet/127.0.0.1/2': 1,
    })
    const single = defaultInterpreter()
      .bind(Dtab.read('/s => 3 * /$/inet/127.0.0.1/1'), Path.read('/s'))
      .sample()
    expect(weightsOf(single)).toEqual({ '/$/inet/127.0.0.1/1': undefined })
  })
})

describe('fall-through to the namers only on exactly Neg (surprise 6)', () => {
  it('a single ~ entry still reaches the system namer', () => {
    expect(bindText('/$/inet=>~', '/$/inet/8080')).toBe('/$/inet/8080')
  })
  it('~ | ~ and two ~ entries block it', () => {
    expect(bindText('/$/inet=>~ | ~', '/$/inet/8080')).toBe('~')
    expect(bindText('/$/inet=>~;/$/inet=>~', '/$/inet/8080')).toBe('~')
  })
  it('a dentry can override a system path', () => {
    expect(bindText('/$/inet=>!', '/$/inet/8080')).toBe('!')
  })
  it('the empty prefix matches system paths too, so it rewrites its own output forever (surprise 5)', () => {
    expect(bindText('/=>/$/nil', '/$/inet/8080')).toBe(
      'failed: Max recursion level: 100 reached in Namer lookup',
    )
    expect(bindText('/$/inet=>/$/nil', '/$/inet/8080')).toBe('$')
  })
})

describe('live binding', () => {
  it('a namer changing its answer changes the bound tree', () => {
    const t = withNamer()
    const tree = defaultInterpreter({ namers: t.namers }).bind(
      Dtab.read('/svc => /#/test'),
      Path.read('/svc/users'),
    )
    const seen: string[] = []
    const stop = tree.observe((s) => seen.push(showState(s)))
    t.answer('/users').ok(boundLeaf('/#/test/users'))
    t.answer('/users').ok(
      NameTree.union(
        NameTree.weighted(1, boundLeaf('/#/test/users')),
        NameTree.weighted(9, boundLeaf('/#/test/users-v2')),
      ),
    )
    t.answer('/users').ok(NameTree.Neg)
    stop()
    expect(seen).toEqual(['pending', '/#/test/users', '/#/test/users & 9.00*/#/test/users-v2', '~'])
  })

  it('a dtab held in a Var re-binds when it changes', () => {
    const dtab = Var.value(Dtab.read('/svc => /$/inet/127.0.0.1/1'))
    const tree = configuredDtabInterpreter(dtab).bind(Dtab.empty, Path.read('/svc'))
    const seen: string[] = []
    const stop = tree.observe((s) => seen.push(showState(s)))
    dtab.update(Dtab.read('/svc => /$/inet/127.0.0.1/2'))
    stop()
    expect(seen).toEqual(['/$/inet/127.0.0.1/1', '/$/inet/127.0.0.1/2'])
  })

  it('a configured dtab is pending until known, and the local dtab wins over it', () => {
    const [dtab, witness] = Activity.mutable<Dtab>()
    const interpreter = configuredDtabInterpreter(dtab)
    const tree = interpreter.bind(Dtab.read('/svc => /$/inet/127.0.0.1/9'), Path.read('/svc'))
    expect(showState(tree.state())).toBe('pending')
    witness.ok(Dtab.read('/svc => /$/inet/127.0.0.1/1'))
    expect(showState(tree.state())).toBe('/$/inet/127.0.0.1/9')
    expect(showState(interpreter.bind(Dtab.empty, Path.read('/svc')).state())).toBe('/$/inet/127.0.0.1/1')
  })

  it('an addr change does not report a new bound tree (names compare by id)', () => {
    const live = Var.value<Addr>(Addr.Pending)
    const namers = NamerRegistry.create().mount(
      '/#/x',
      Namer.of(() => NameTree.leaf(Name.bound(Path.read('/#/x'), live))),
    )
    const tree = defaultInterpreter({ namers }).bind(Dtab.empty, Path.read('/#/x'))
    let reports = 0
    const stop = tree.observe(() => reports++)
    live.update(Addr.bound([Address.read('10.0.0.1:1')]))
    live.update(Addr.bound([Address.read('10.0.0.2:1')]))
    stop()
    expect(reports).toBe(1)
  })

  it('stops observing namers when the last observer leaves', () => {
    let observers = 0
    const source = Var.async<Addr>(Addr.Pending, () => {
      observers++
      return () => observers--
    })
    const namers = NamerRegistry.create().mount(
      '/#/x',
      Namer.of(() => Activity.of(source.map(() => ({ kind: 'ok', value: NameTree.Neg }) as const))),
    )
    const stop = defaultInterpreter({ namers })
      .bind(Dtab.empty, Path.read('/#/x'))
      .observe(() => {})
    expect(observers).toBe(1)
    stop()
    expect(observers).toBe(0)
  })
})

describe('namers that throw', () => {
  const throwing = Namer.of(() => {
    throw new Error('namer bug')
  })
  const raw = {
    lookup: () => {
      throw new Error('raw bug')
    },
  }
  const namers = NamerRegistry.create().mount('/#/bad', throwing).mount('/#/raw', raw)

  it('fail their branch instead of the caller', () => {
    const bind = (dst: string) =>
      showState(
        defaultInterpreter({ namers })
          .bind(Dtab.read(`/s => ${dst}`), Path.read('/s'))
          .state(),
      )
    expect(bind('/#/bad')).toBe('failed: namer bug')
    expect(bind('/#/raw')).toBe('failed: raw bug')
    expect(bind('/#/raw & /$/inet/127.0.0.1/1')).toBe('/$/inet/127.0.0.1/1')
    const addr = resolve(defaultInterpreter({ namers }), Dtab.read('/s => /#/bad'), Path.read('/s')).sample()
    expect(Addr.show(addr)).toBe('Failed(namer bug)')
  })
})

describe('the namer registry', () => {
  it('strips the prefix; the most recently mounted namer is asked first, Neg passes on', () => {
    const first = drivenNamer()
    const second = drivenNamer()
    const namers = NamerRegistry.create().mount('/#/x', first.namer).mount('/#/x', second.namer)
    const tree = defaultInterpreter({ namers }).bind(Dtab.empty, Path.read('/#/x/users'))
    expect(second.asked).toEqual(['/users'])
    expect(first.asked).toEqual([])
    second.answer('/users').ok(NameTree.Neg)
    first.answer('/users').ok(boundLeaf('/#/x/users'))
    expect(showState(tree.state())).toBe('/#/x/users')
    expect(first.asked).toEqual(['/users'])
  })

  it('NamerRegistry.of takes configuration order: the last listed wins', () => {
    const a = Namer.of(() => boundLeaf('/#/a'))
    const b = Namer.of(() => boundLeaf('/#/b'))
    const namers = NamerRegistry.of([
      { prefix: Path.read('/#/x'), namer: a },
      { prefix: Path.read('/#/x'), namer: b },
    ])
    expect(NameTree.show(namers.lookup(Path.read('/#/x/y')).sample())).toBe('/#/b')
  })

  it('an unclaimed /#/ path is Neg', () => {
    expect(NameTree.show(NamerRegistry.create().lookup(Path.read('/#/io.l5d.fs/users')).sample())).toBe('~')
  })
})

describe('resolve (Namer.resolve)', () => {
  it('maps a Fail tree to Addr.Neg and /$/nil to an empty bound set (surprise 11)', () => {
    const interpreter = defaultInterpreter()
    expect(resolve(interpreter, Dtab.empty, Path.read('/$/fail')).sample()).toBe(Addr.Neg)
    expect(resolve(interpreter, Dtab.empty, Path.read('/$/nil')).sample()).toEqual(Addr.bound([]))
    expect(
      Addr.show(
        resolve(
          interpreter,
          Dtab.read('/s => /$/inet/127.0.0.1/1 & /$/inet/127.0.0.1/2'),
          Path.read('/s'),
        ).sample(),
      ),
    ).toBe('Bound(127.0.0.1:1,127.0.0.1:2)')
  })
  it('evaluation merges leaves that share an id, so one name remains and keeps its metadata (surprise 12)', () => {
    const dtab = Dtab.read('/s => 2 * /$/inet/127.0.0.1/1 & /t; /t => /$/inet/127.0.0.1/1')
    const tree = defaultInterpreter().bind(dtab, Path.read('/s')).sample()
    expect(NameTree.show(tree)).toBe('2.00*/$/inet/127.0.0.1/1 & /$/inet/127.0.0.1/1')
    const addr = resolve(defaultInterpreter(), dtab, Path.read('/s')).sample()
    expect(addr).toEqual(Addr.bound([Address.read('127.0.0.1:1')], { [Addr.WeightKey]: 2 }))
  })

  it('resolves a path given as text, and text that does not parse to Addr.Failed (resolve(String))', () => {
    const interpreter = defaultInterpreter()
    expect(Addr.show(resolve(interpreter, Dtab.read('/s => /$/inet/127.0.0.1'), '/s/8080').sample())).toBe(
      'Bound(127.0.0.1:8080)',
    )
    const failed = resolve(interpreter, Dtab.empty, 'invalid').sample()
    expect(failed.kind).toBe('failed')
    const cause = failed.kind === 'failed' ? failed.cause : undefined
    expect(cause).toBeInstanceOf(ParseError)
    expect((cause as ParseError).message).toBe("'/' expected but 'i' found at '[i]nvalid'")
  })

  it('keeps the one name metadata of a single weighted-union survivor', () => {
    const a = resolve(
      defaultInterpreter(),
      Dtab.read('/s => 3 * /$/inet/127.0.0.1/1 & /nope'),
      Path.read('/s'),
    ).sample()
    expect(a).toEqual(Addr.bound([Address.read('127.0.0.1:1')], { [Addr.WeightKey]: 3 }))
  })
})

describe('hostile trees', () => {
  it('binds a 4,000-alternative dentry without recursing per branch', () => {
    const alts = Array.from({ length: 4000 }, () => '~').join('|')
    expect(bindText(`/a=>${alts}|/$/inet/127.0.0.1/8080`, '/a')).toBe('/$/inet/127.0.0.1/8080')
    expect(bindText(`/a=>${alts}`, '/a')).toBe('~')
    const union = Array.from({ length: 4000 }, (_, i) => `/$/inet/127.0.0.1/${i + 1}`).join(' & ')
    const t = defaultInterpreter()
      .bind(Dtab.read(`/a=>${union}`), Path.read('/a'))
      .sample()
    expect(t.kind === 'union' && t.trees.length).toBe(4000)
  })

  it('a wide Alt watches its branches lazily and follows the first non-Neg one', () => {
    const [answer, witness] = Activity.mutable<NameTree<Name>>({ kind: 'ok', value: NameTree.Neg })
    let looked = 0
    const lookup = (p: Path) => {
      looked++
      if (p.show() === '/late') return answer
      return Activity.value<NameTree<Name>>(NameTree.leaf(Name.bound(p, Addr.Neg)))
    }
    const alts = NameTree.alt(
      ...Array.from({ length: 3000 }, () => NameTree.Neg),
      NameTree.leaf(Path.read('/late')),
      NameTree.leaf(Path.read('/fallback')),
      NameTree.leaf(Path.read('/never')),
    )
    const bound = bindTree(lookup, alts)
    const seen: string[] = []
    const stop = bound.observe((s) => seen.push(showState(s)))
    expect(seen).toEqual(['/fallback'])
    expect(looked).toBe(2)
    witness.ok(NameTree.leaf(Name.bound(Path.read('/late'), Addr.Neg)))
    witness.ok(NameTree.Neg)
    stop()
    expect(seen).toEqual(['/fallback', '/late', '/fallback'])
  })

  it('trees nested past the binding budget fail with BindingTooDeepError, never a stack overflow', () => {
    const nest = (n: number, inner: string, op: string) => {
      let s = inner
      for (let i = 0; i < n; i++) s = `(${s} ${op} ~)`
      return s
    }
    // One tree as deep as the parser allows binds.
    expect(bindText(`/a=>${nest(999, '/$/inet/127.0.0.1/1', '|')}`, '/a')).toBe('/$/inet/127.0.0.1/1')
    expect(bindText(`/a=>${nest(999, '/$/inet/127.0.0.1/1', '&')}`, '/a')).toBe('/$/inet/127.0.0.1/1')
    // A loop through a deep tree nests once per lookup: it ends with the budget error.
    const state = defaultInterpreter()
      .bind(Dtab.read(`/a=>${nest(999, '/a', '|')}`), Path.read('/a'))
      .state()
    expect(state.kind === 'failed' && state.error).toBeInstanceOf(BindingTooDeepError)
    expect(showState(state)).toBe('failed: name tree nested more than 2000 levels deep while binding')
  })

  it('NameTree functions handle the deepest and very wide parser trees', () => {
    let deep = '/a'
    for (let i = 0; i < 999; i++) deep = `(${deep} | ~) & (/b | !)`
    const d = NameTree.read(deep)
    const wide = NameTree.read(Array.from({ length: 50_000 }, (_, i) => `${i % 7}*/s${i}`).join(' & '))
    for (const t of [d, wide]) {
      const shown = NameTree.show(t)
      expect(NameTree.show(NameTree.read(shown))).toBe(shown)
      expect(
        NameTree.equals(
          NameTree.map(t, (p) => p),
          t,
        ),
      ).toBe(true)
      expect(NameTree.equals(NameTree.simplify(NameTree.simplify(t)), NameTree.simplify(t))).toBe(true)
      expect(NameTree.eval(t)?.size).toBeGreaterThan(0)
      expect(NameTree.toDebugString(t).length).toBeGreaterThan(shown.length)
    }
  })
})
