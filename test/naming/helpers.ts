import { Activity, type ActivityState, type ActivityWitness } from '../../src/core/activity.js'
import {
  type Addr,
  Addr as Addrs,
  type DnsResolver,
  type Name,
  type NameBound,
  type Namer,
  NameTree,
  type Path,
} from '../../src/naming/index.js'

/** The text form of a bound tree (leaves print their id), or the state's kind. */
export function showState(s: ActivityState<NameTree<NameBound>>): string {
  if (s.kind === 'ok') return NameTree.show(s.value)
  if (s.kind === 'failed') return `failed: ${(s.error as Error).message}`
  return 'pending'
}

/** The leaves of a bound tree, in order, with their current addr shown. */
export function leaves(tree: NameTree<NameBound>): { id: string; residual: string; addr: string }[] {
  const out: { id: string; residual: string; addr: string }[] = []
  const go = (t: NameTree<NameBound>) => {
    if (t.kind === 'leaf')
      out.push({ id: t.value.idStr, residual: t.value.path.show(), addr: Addrs.show(t.value.addr.sample()) })
    else if (t.kind === 'alt') t.trees.forEach(go)
    else if (t.kind === 'union') for (const w of t.trees) go(w.tree)
  }
  go(tree)
  return out
}

/** A namer whose answers the test drives, recording every path it was asked. */
export function drivenNamer(): {
  namer: Namer
  asked: string[]
  answer(path: string): ActivityWitness<NameTree<Name>>
} {
  const asked: string[] = []
  const answers = new Map<string, [Activity<NameTree<Name>>, ActivityWitness<NameTree<Name>>]>()
  const entry = (p: string) => {
    let e = answers.get(p)
    if (!e) {
      e = Activity.mutable<NameTree<Name>>()
      answers.set(p, e)
    }
    return e
  }
  return {
    asked,
    namer: {
      lookup(path: Path) {
        asked.push(path.show())
        return entry(path.show())[0]
      },
    },
    answer: (p) => entry(p)[1],
  }
}

/** A DNS resolver the test controls: answers from a table, or errors with a code. */
export function fakeDns(table: Record<string, readonly string[] | string>): DnsResolver & {
  calls: string[]
  set(host: string, answer: readonly string[] | string): void
} {
  const calls: string[] = []
  const answers = new Map(Object.entries(table))
  return {
    calls,
    set: (host, answer) => answers.set(host, answer),
    async lookup(host) {
      calls.push(host)
      const a = answers.get(host) ?? 'ENOTFOUND'
      if (typeof a === 'string') throw Object.assign(new Error(`${a} ${host}`), { code: a })
      return a
    },
  }
}

/** Lets pending promise callbacks (the fake resolver's answers) run. */
export const flush = () => new Promise<void>((r) => setImmediate(r))

export function addrOf(name: NameBound): Addr {
  return name.addr.sample()
}
