// A client that routes through namerd: it asks namerd (namerdInterpreter) what /svc/users is,
// splits requests across the branches of a weighted union by their weights, and prints each second
// which versions answered. Leave it running while you change the dtab with namerctl.
//
//   npx tsx examples/canary-client.ts                       # namerd at 127.0.0.1:4180, namespace demo
//   npx tsx examples/canary-client.ts http://127.0.0.1:4180 demo /svc/users

import { pathToFileURL } from 'node:url'
import { request } from 'undici'
import { systemRandom } from '../src/core/random.js'
import { Var } from '../src/core/var.js'
import { pickName } from '../src/http/index.js'
import { namerdInterpreter } from '../src/namerd/index.js'
import { Addr, Dtab, type NameBound, type NameTree, Path } from '../src/naming/index.js'

export interface CanaryClientOptions {
  readonly baseUrl: string
  readonly namespace: string
  readonly path: string
  /** Requests per second. */
  readonly rate: number
  /** Stop after this many requests (default: run until stopped). */
  readonly requests?: number | undefined
  readonly log: (line: string) => void
}

/** Sends `rate` requests a second to whatever namerd says the path is; returns the tallies. */
export async function runCanaryClient(options: CanaryClientOptions): Promise<Record<string, number>> {
  const interpreter = namerdInterpreter({ baseUrl: options.baseUrl, namespace: options.namespace })
  const tree = interpreter.bind(Dtab.empty, Path.read(options.path))
  const current = Var.value<NameTree<NameBound> | undefined>(undefined)
  const stopTree = tree.observe((s) => {
    if (s.kind === 'ok') current.update(s.value)
  })
  // Keep every bound name's addresses streaming while it is in the tree.
  const watching = new Map<string, () => void>()
  const stopWatch = current.observe((t) => {
    const names = new Map<string, NameBound>()
    const collect = (n: NameTree<NameBound>): void => {
      if (n.kind === 'leaf') names.set(n.value.idStr, n.value)
      else if (n.kind === 'alt') n.trees.forEach(collect)
      else if (n.kind === 'union') for (const w of n.trees) collect(w.tree)
    }
    if (t) collect(t)
    for (const [id, stop] of watching) {
      if (names.has(id)) continue
      stop()
      watching.delete(id)
    }
    for (const [id, n] of names)
      if (!watching.has(id))
        watching.set(
          id,
          n.addr.observe(() => {}),
        )
  })

  // Wait for namerd's first answer (pending while namerd cannot be reached).
  await tree.toPromise()

  const total: Record<string, number> = {}
  let second: Record<string, number> = {}
  let sent = 0
  const ticker = setInterval(() => {
    const line = Object.entries(second)
      .sort()
      .map(([v, n]) => `${v}: ${n}`)
      .join('  ')
    options.log(line === '' ? '(no answers)' : line)
    second = {}
  }, 1000)
  try {
    while (options.requests === undefined || sent < options.requests) {
      await new Promise((r) => setTimeout(r, 1000 / options.rate))
      sent++
      const t = current.sample()
      const name = t === undefined ? undefined : pickName(t, systemRandom)
      const addr = name?.addr.sample()
      let answer: string
      if (addr === undefined || addr.kind !== 'bound' || addr.addresses.length === 0) {
        answer = `no endpoint (${addr === undefined ? 'unbound' : Addr.show(addr)})`
      } else {
        const a = addr.addresses[Math.floor(Math.random() * addr.addresses.length)]!
        try {
          const res = await request(`http://${a.host}:${a.port}/`, {
            headersTimeout: 2000,
            bodyTimeout: 2000,
          })
          answer = (await res.body.text()).trim()
        } catch (error) {
          answer = `error (${(error as Error).message})`
        }
      }
      second[answer] = (second[answer] ?? 0) + 1
      total[answer] = (total[answer] ?? 0) + 1
    }
  } finally {
    clearInterval(ticker)
    stopWatch()
    for (const stop of watching.values()) stop()
    stopTree()
    await interpreter.close()
  }
  return total
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [baseUrl = 'http://127.0.0.1:4180', namespace = 'demo', path = '/svc/users'] = process.argv.slice(2)
  console.log(
    `routing ${path} through namerd ${baseUrl} (namespace ${namespace}), 20 requests/s; Ctrl-C to stop`,
  )
  await runCanaryClient({ baseUrl, namespace, path, rate: 20, log: (l) => console.log(l) })
}
