// `npm run -s bench:dtab-headers -- [--json] [--requests N] [--rounds N]`: what an `l5d-dtab`
// header costs a client (issue 13). The same client sends the same requests without a header, with a
// 10-entry and with a 1,000-entry `l5d-dtab` (the same text on every request, as a caller that sets
// one override does), in paired rounds (the order rotates), 64 in flight. Two transports:
//   http   one loopback backend in a separate process (bench/http/backend.ts); the client forwards
//          the dtab as `l5d-ctx-dtab`, so the 1,000-entry case also moves 85 KB per request
//   stack  a fake endpoint that answers at once in-process: the stack's own cost of the header
// Ratios are throughput with the header ÷ without, median over rounds.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href
const { createClient } = (await import(dist('http/client.js'))) as typeof import('../../src/http/client.js')
const { Service } = (await import(dist('core/service.js'))) as typeof import('../../src/core/service.js')
const { ResponseBody } = (await import(dist('http/body.js'))) as typeof import('../../src/http/body.js')

const args = process.argv.slice(2)
const json = args.includes('--json')
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const requests = flag('--requests', 5_000)
const rounds = flag('--rounds', 10)
const concurrency = 64

/** The realistic entries of bench/naming.bench.ts: about 85 characters each. */
function dtabText(n: number): string {
  const out: string[] = []
  for (let i = 0; i < n; i++)
    out.push(
      i % 2 === 0
        ? `/svc/service${i} => 1 * /srv/service${i}-canary & 9 * /srv/service${i} | /$/inet/127.0.0.1/${8000 + i}`
        : `/svc/*/service${i} => /#/io.l5d.k8s/prod/http/service${i} | ~`,
    )
  return out.join(';')
}
const headers = {
  none: undefined,
  dtab10: { 'l5d-dtab': dtabText(10) },
  dtab1000: { 'l5d-dtab': dtabText(1000) },
}

const child = fork(fileURLToPath(new URL('./backend.ts', import.meta.url)), ['1'], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
const [port] = await new Promise<number[]>((resolve, reject) => {
  child.once('message', (m) => resolve((m as { ports: number[] }).ports))
  child.once('exit', (code) => reject(new Error(`backend exited with ${code}`)))
})
const options = { dtab: `/svc => /$/inet/127.0.0.1/${port}`, maxDtabHeaderLength: 1 << 20 }
const clients = {
  http: createClient(options),
  stack: createClient({
    ...options,
    endpoint: () =>
      Service.of(async () => ({
        statusCode: 200,
        statusMessage: '',
        headers: {},
        body: ResponseBody.of('ok'),
      })),
  }),
}

type Client = ReturnType<typeof createClient>
async function round(client: Client, h: Record<string, string> | undefined, n: number): Promise<number> {
  let next = 0
  const worker = async () => {
    while (next < n) {
      next++
      const res = await client.request('http://bench/bench', h ? { headers: h } : {})
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      await res.body.text()
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return n / ((performance.now() - t0) / 1000)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const result: Record<string, number> = {}
for (const [transport, client] of Object.entries(clients)) {
  const names = Object.keys(headers) as (keyof typeof headers)[]
  for (const k of names) await round(client, headers[k], Math.min(requests, 2000)) // warm-up
  const rps = new Map(names.map((k) => [k, [] as number[]]))
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(r + i) % names.length]!)
    for (const k of order) rps.get(k)!.push(await round(client, headers[k], requests))
  }
  const none = rps.get('none')!
  result[`${transport}NoneRps`] = Math.round(median(none))
  for (const k of ['dtab10', 'dtab1000'] as const) {
    result[`${transport}${k[0]!.toUpperCase()}${k.slice(1)}Rps`] = Math.round(median(rps.get(k)!))
    result[`${transport}${k[0]!.toUpperCase()}${k.slice(1)}Ratio`] = Number(
      median(rps.get(k)!.map((x, i) => x / none[i]!)).toFixed(3),
    )
  }
}
if (json) console.log(JSON.stringify(result))
else console.log(JSON.stringify(result, null, 2))
await clients.http.close()
await clients.stack.close()
child.disconnect()
