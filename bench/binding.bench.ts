// Binding benchmarks: a path through dtab hops and a namer to bound names, live re-binding, and
// delegation. Run: `npx tsx bench/binding.bench.ts` (or `npm run bench -- binding`).
//
// To add a case, push onto `cases` below: a name and a synchronous function. Every binding here is
// synchronous (constant namers, IP literals), so one call measures one whole bind.
import { Bench } from 'tinybench'
import { Activity } from '../src/core/index.js'
import {
  Addr,
  Address,
  Dtab,
  defaultInterpreter,
  delegate,
  Name,
  Namer,
  NamerRegistry,
  type Name as NameT,
  NameTree,
  Path,
  resolve,
} from '../src/naming/index.js'

const staticPrefix = Path.read('/#/static')
const addrs = Addr.bound([Address.read('10.0.0.1:8080'), Address.read('10.0.0.2:8080')])
const staticNamer = Namer.of((path) =>
  NameTree.leaf(Name.bound(staticPrefix.concat(path.take(1)), addrs, path.drop(1))),
)

// Three hops: /svc → /srv → /#/static → the namer binds.
const threeHops = Dtab.read('/#/static => ~; /srv => /#/static; /svc => /srv; /other => /$/fail')
const canary = Dtab.read(
  '/srv => /#/static; /svc => /srv; /svc/users => 1 * /srv/users-canary & 9 * /srv/users',
)
const loop = Dtab.read('/a => /b; /b => /a')
const path = Path.read('/svc/users/api')
const namers = NamerRegistry.create().mount(staticPrefix, staticNamer)
const interpreter = defaultInterpreter({ namers })

// A live namer: every update re-binds an observed tree.
const [liveAnswer, witness] = Activity.mutable<NameTree<NameT>>()
const liveNamers = NamerRegistry.create().mount('/#/live', { lookup: () => liveAnswer })
const liveTree = defaultInterpreter({ namers: liveNamers }).bind(Dtab.read('/svc => /#/live'), path)
let liveSeen = 0
liveTree.observe(() => liveSeen++)
const answers = [
  NameTree.leaf(Name.bound(Path.read('/#/live/a'), addrs)),
  NameTree.leaf(Name.bound(Path.read('/#/live/b'), addrs)),
]
let flip = 0

const sink: unknown[] = []

export const cases: { name: string; fn: () => unknown }[] = [
  { name: 'bind through three hops', fn: () => sink.push(interpreter.bind(threeHops, path).state()) },
  { name: 'bind three hops, 1:9 canary union', fn: () => sink.push(interpreter.bind(canary, path).state()) },
  {
    name: 'resolve three hops to a Var<Addr>',
    fn: () => sink.push(resolve(interpreter, threeHops, path).sample()),
  },
  { name: 'delegate three hops', fn: () => sink.push(delegate(threeHops, path, { namers }).state()) },
  {
    name: 'live re-bind on a namer update',
    fn: () => {
      witness.ok(answers[flip++ & 1]!)
      return liveSeen
    },
  },
  {
    name: 'bind loop to the depth limit (100)',
    fn: () => sink.push(interpreter.bind(loop, Path.read('/a')).state()),
  },
]

async function main(): Promise<void> {
  const bench = new Bench({ name: 'binding', time: 1000, warmup: true, retainSamples: false })
  for (const c of cases) {
    bench.add(c.name, () => {
      c.fn()
      if (sink.length > 1000) sink.length = 0
    })
  }
  await bench.run()
  console.table(
    bench.tasks.map((task) => {
      const r = task.result
      if (r.state !== 'completed') return { case: task.name, state: r.state }
      return {
        case: task.name,
        'median (µs)': (r.latency.p50 * 1000).toFixed(2),
        'mean (µs)': (r.latency.mean * 1000).toFixed(2),
        'p99 (µs)': (r.latency.p99 * 1000).toFixed(2),
        'median ops/s': Math.round(1000 / r.latency.p50).toLocaleString('en-US'),
        samples: r.latency.df + 1,
      }
    }),
  )
  const failures = bench.tasks.filter((t) => t.result.state !== 'completed')
  // Sanity: the measured binds really bound (a bench of a broken bind would flatter us).
  const bound = interpreter.bind(threeHops, path).state()
  const ok = bound.kind === 'ok' && NameTree.show(bound.value) === '/#/static/users'
  console.log(`${ok ? 'PASS' : 'FAIL'} three hops bind to /#/static/users`)
  if (!ok || failures.length > 0) process.exitCode = 1
}

await main()
