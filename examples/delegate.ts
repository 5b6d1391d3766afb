// Prints how a path is delegated under a dtab: every rewrite step, the dentry behind it, and the
// addresses each name resolves to, then the same tree as namerd's /api/1/delegate JSON.
//
//   npx tsx examples/delegate.ts                      # the demo dtab, path /svc/users
//   npx tsx examples/delegate.ts /svc/web             # another path under the demo dtab
//   npx tsx examples/delegate.ts /s/8080 '/s => /$/inet/127.0.0.1'
//
// The demo mounts a custom namer, `/#/static`, written in ten lines below.
import { pathToFileURL } from 'node:url'
import {
  Addr,
  Address,
  boundNames,
  DelegateTree,
  Dtab,
  defaultInterpreter,
  delegateTreeJson,
  Name,
  type NameBound,
  Namer,
  NamerRegistry,
  NameTree,
  Path,
  settleAddrs,
} from '../src/naming/index.js'

/** A custom namer: /#/static/<service>/rest → the service's fixed addresses, `rest` residual. */
function staticNamer(prefix: Path, services: Record<string, string[]>): Namer {
  return Namer.of((path) => {
    const service = path.segments[0]
    const hosts = service === undefined ? undefined : services[service]
    if (hosts === undefined) return NameTree.Neg
    const addr = Addr.bound(hosts.map((h) => Address.read(h)))
    return NameTree.leaf(Name.bound(prefix.concat(path.take(1)), addr, path.drop(1)))
  })
}

const DEMO_DTAB = `
  /svc       => /#/static ;
  /svc/users => 1 * /#/static/users-canary & 9 * /#/static/users ;   # canary gets 10%
  /svc/web   => /$/inet/127.0.0.1/8080 | /$/fail ;
  /svc/old   => ~ ;                                                  # retired: falls to /#/static
`

const staticPrefix = Path.read('/#/static')
const namers = NamerRegistry.create().mount(
  staticPrefix,
  staticNamer(staticPrefix, {
    users: ['10.0.0.1:8080', '10.0.0.2:8080'],
    'users-canary': ['10.0.1.1:8080'],
    old: ['10.0.9.9:80'],
  }),
)

function describe(name: NameBound, addrOf: (n: NameBound) => Addr): string {
  const residual = name.path.isEmpty ? '' : ` residual ${name.path.show()}`
  return `${name.idStr}${residual}  ${Addr.show(addrOf(name))}`
}

export async function main(args: readonly string[], out: (line: string) => void): Promise<number> {
  const [pathText = '/svc/users', dtabText = DEMO_DTAB] = args
  const path = Path.parse(pathText)
  if (path._tag === 'Left') {
    out(`Invalid path: ${pathText} / ${path.left.message}`)
    return 2
  }
  const dtab = Dtab.parse(dtabText)
  if (dtab._tag === 'Left') {
    out(`Invalid dtab: ${dtab.left.message}`)
    return 2
  }
  const interpreter = defaultInterpreter({ namers })
  const signal = AbortSignal.timeout(2000) // namerd's delegate timeout
  try {
    const tree = await interpreter.delegate(dtab.right, path.right).toPromise(signal)
    const addrOf = await settleAddrs(boundNames(tree), signal)
    out(`dtab: ${dtab.right.show()}`)
    out('')
    out(DelegateTree.render(tree, (n) => describe(n, addrOf)))
    out('')
    out(delegateTreeJson(tree, addrOf))
    const bound = await interpreter.bind(dtab.right, path.right).toPromise(signal)
    out('')
    out(`bound: ${NameTree.show(bound)}`)
    return 0
  } catch (e) {
    out(`error: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}

// Run when executed directly (npx tsx examples/delegate.ts), not when imported by a test.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), (line) => console.log(line))
}
