// A protocol-faithful fake Consul agent for the io.l5d.consul namer and dtab store tests (no real
// Consul can be installed here). It implements the documented semantics those clients rely on
// (https://developer.hashicorp.com/consul/api-docs): one Raft-like index that grows with every
// write; blocking queries (`index` + `wait`: answer when the watched index passes `index`, or when
// the wait is over, with the same index); `X-Consul-Index` on every read (a single key's
// ModifyIndex, else the table's index); KV with `?raw`, `?keys&separator=/`, `?cas=` (0: create
// only) answering `true`/`false`; 404s for missing keys; `/v1/agent/self`; health and catalog
// service endpoints with bodies in the shapes real Consul returns; ACL tokens (`X-Consul-Token`,
// 403 "ACL not found"); unknown datacenters (500 "No path to datacenter").
//
// Faults: stalls (accept and never answer), connection resets, 500s, a missing or zero
// `X-Consul-Index`, the index going backwards (a restored snapshot), and the whole agent going away
// and coming back on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** A registered service instance (one node, one service, its checks). */
export interface FakeInstance {
  readonly node: string
  readonly address: string
  readonly serviceAddress?: string
  readonly port: number
  readonly tags?: readonly string[]
  readonly nodeMeta?: Readonly<Record<string, string>>
  readonly serviceMeta?: Readonly<Record<string, string>>
  /** Check statuses, e.g. `['passing']`; `maintenance` is Consul's `_service_maintenance` check. */
  readonly checks?: readonly ('passing' | 'warning' | 'critical' | 'maintenance')[]
}

interface KvEntry {
  value: Buffer
  createIndex: number
  modifyIndex: number
}

/** What the fake can be told to do wrong to the requests whose path matches. */
export type FakeFault =
  | { readonly kind: 'stall' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'status'; readonly status: number; readonly body: string }
  | { readonly kind: 'noIndex' }
  | { readonly kind: 'zeroIndex' }

/** A request the fake received. */
export interface FakeRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly token: string | undefined
}

export interface FakeConsul {
  readonly host: string
  readonly port: number
  readonly address: string
  /** Every request, in arrival order. */
  readonly requests: FakeRequest[]
  /** The current index. */
  readonly index: number
  /** Registers (or replaces, by node + service) an instance of `service` in `dc`. */
  register(service: string, instance: FakeInstance, dc?: string): void
  /** Removes the instance of `service` on `node`. */
  deregister(service: string, node: string, dc?: string): void
  /** Removes every instance of `service`. */
  deleteService(service: string, dc?: string): void
  /** Sets a key as a client PUT would (for data written by someone else). */
  kvPut(key: string, value: string): void
  kvGet(key: string): string | undefined
  kvDelete(key: string): void
  /** Injects `fault` into the next `times` requests whose (decoded) path starts with `pathPrefix` (forever if omitted). */
  fault(pathPrefix: string, fault: FakeFault, times?: number): void
  clearFaults(): void
  /** Sets the index back to `to` (a restored snapshot): every later answer has a smaller index. */
  resetIndex(to: number): void
  /** Requires this ACL token on every request (undefined: none). */
  requireToken(token: string | undefined): void
  /** Drops every connection and stops listening (stalled requests die with it). */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  close(): Promise<void>
}

const KNOWN_DCS = new Set(['dc1', 'dc2'])

function parseWait(text: string | null): number {
  // Consul's duration syntax as used for `wait`: "10s", "500ms", "5m"; default 5 minutes, cap 10.
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text ?? '')
  if (!m) return 300_000
  const n = Number(m[1])
  const unit = m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 1000
  return Math.min(n * unit, 600_000)
}

/**
 * Starts a fake Consul agent (datacenter `dc1`, also knowing `dc2`) on a free loopback port.
 *
 * @example
 * ```ts
 * const consul = await startFakeConsul()
 * consul.register('web', { node: 'n1', address: '10.0.0.1', port: 8080, checks: ['passing'] })
 * await consul.close()
 * ```
 */
export async function startFakeConsul(
  options: { datacenter?: string; domain?: string } = {},
): Promise<FakeConsul> {
  const localDc = options.datacenter ?? 'dc1'
  let index = 10
  const services = new Map<
    string,
    Map<string, { instances: FakeInstance[]; modifyIndex: number; createIndex: number }>
  >()
  let servicesIndex = index
  const kv = new Map<string, KvEntry>()
  let kvIndex = index
  const requests: FakeRequest[] = []
  const faults: { prefix: string; fault: FakeFault; left: number }[] = []
  let token: string | undefined
  const waiters = new Set<() => void>()
  const sockets = new Set<Socket>()
  const pending = new Set<ServerResponse>()

  const bump = () => {
    index += 1
    return index
  }
  const wake = () => {
    for (const w of [...waiters]) w()
  }
  const servicesOf = (dc: string) => {
    let m = services.get(dc)
    if (!m) {
      m = new Map()
      services.set(dc, m)
    }
    return m
  }

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    idx: number | undefined,
    fault?: FakeFault,
  ) => {
    const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body : JSON.stringify(body)
    const headers: Record<string, string> = {
      'Content-Type':
        typeof body === 'string' || Buffer.isBuffer(body) ? 'text/plain; charset=utf-8' : 'application/json',
      'X-Consul-Effective-Consistency': 'leader',
      'X-Consul-KnownLeader': 'true',
      'X-Consul-LastContact': '0',
    }
    if (idx !== undefined && fault?.kind !== 'noIndex')
      headers['X-Consul-Index'] = fault?.kind === 'zeroIndex' ? '0' : String(idx)
    pending.delete(res)
    res.writeHead(status, headers)
    res.end(text)
  }

  /** Answers now if the watched index passed `min`, else when it does or the wait is over. */
  const blocking = (
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    current: () => number,
    answer: () => void,
  ) => {
    const min = Number(q.get('index') ?? '0')
    if (!Number.isFinite(min) || min <= 0 || current() > min) return answer()
    const wait = parseWait(q.get('wait'))
    let done = false
    const finish = () => {
      if (done) return
      done = true
      waiters.delete(check)
      clearTimeout(timer)
      answer()
    }
    const check = () => {
      if (current() > min) finish()
    }
    const timer = setTimeout(finish, wait)
    waiters.add(check)
    req.socket.once('close', () => {
      done = true
      waiters.delete(check)
      clearTimeout(timer)
    })
  }

  const serviceIndex = (dc: string, name: string) => servicesOf(dc).get(name)?.modifyIndex ?? servicesIndex

  const worst = (i: FakeInstance) => {
    const rank = { passing: 0, warning: 1, critical: 2, maintenance: 3 } as const
    let w: keyof typeof rank = 'passing'
    for (const c of i.checks ?? ['passing']) if (rank[c] > rank[w]) w = c
    return w
  }

  const healthEntry = (dc: string, name: string, i: FakeInstance) => ({
    Node: {
      ID: `00000000-0000-0000-0000-${i.node.padStart(12, '0').slice(-12)}`,
      Node: i.node,
      Address: i.address,
      Datacenter: dc,
      TaggedAddresses: { lan: i.address, wan: i.address },
      Meta: i.nodeMeta ?? {},
      CreateIndex: 5,
      ModifyIndex: 5,
    },
    Service: {
      ID: name,
      Service: name,
      Tags: i.tags ?? [],
      Address: i.serviceAddress ?? '',
      Meta: i.serviceMeta ?? {},
      Port: i.port,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      CreateIndex: 6,
      ModifyIndex: 6,
    },
    Checks: [
      {
        Node: i.node,
        CheckID: 'serfHealth',
        Name: 'Serf Health Status',
        Status: 'passing',
        Notes: '',
        Output: 'Agent alive and reachable',
        ServiceID: '',
        ServiceName: '',
        ServiceTags: [],
        CreateIndex: 5,
        ModifyIndex: 5,
      },
      ...(i.checks ?? []).map((s, n) => ({
        Node: i.node,
        CheckID: s === 'maintenance' ? `_service_maintenance:${name}` : `service:${name}:${n}`,
        Name: s === 'maintenance' ? 'Service Maintenance Mode' : `Service '${name}' check`,
        Status: s === 'maintenance' ? 'critical' : s,
        Notes: '',
        Output: '',
        ServiceID: name,
        ServiceName: name,
        ServiceTags: i.tags ?? [],
        CreateIndex: 6,
        ModifyIndex: 6,
      })),
    ],
  })

  const catalogEntry = (dc: string, name: string, i: FakeInstance) => ({
    ID: `00000000-0000-0000-0000-${i.node.padStart(12, '0').slice(-12)}`,
    Node: i.node,
    Address: i.address,
    Datacenter: dc,
    TaggedAddresses: { lan: i.address, wan: i.address },
    NodeMeta: i.nodeMeta ?? {},
    ServiceKind: '',
    ServiceID: name,
    ServiceName: name,
    ServiceTags: i.tags ?? [],
    ServiceAddress: i.serviceAddress ?? '',
    ServiceWeights: { Passing: 1, Warning: 1 },
    ServiceMeta: i.serviceMeta ?? {},
    ServicePort: i.port,
    ServiceEnableTagOverride: false,
    CreateIndex: 6,
    ModifyIndex: 6,
  })

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    const tokenHeader = req.headers['x-consul-token']
    const given = typeof tokenHeader === 'string' ? tokenHeader : (url.searchParams.get('token') ?? undefined)
    requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, token: given })
    pending.add(res)
    let decoded = url.pathname
    try {
      decoded = decodeURIComponent(url.pathname)
    } catch {}
    const f = faults.find((x) => decoded.startsWith(x.prefix) && x.left !== 0)
    if (f && f.left > 0) f.left -= 1
    const fault = f?.fault
    if (fault?.kind === 'stall') return // never answered
    if (fault?.kind === 'reset') {
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'status') return send(res, fault.status, fault.body, index)
    if (token !== undefined && given !== token) return send(res, 403, 'ACL not found', undefined)

    const q = url.searchParams
    const dc = q.get('dc') ?? localDc
    const path = url.pathname
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (path === '/v1/agent/self' && req.method === 'GET')
        return send(
          res,
          200,
          {
            Config: {
              Datacenter: localDc,
              NodeName: 'fake-agent',
              Server: true,
              Version: '1.15.4',
              ...(options.domain ? { Domain: options.domain } : {}),
            },
            DebugConfig: { DNSDomain: `${options.domain ?? 'consul'}.`, Datacenter: localDc },
            Member: { Name: 'fake-agent', Addr: '127.0.0.1', Port: 8301, Status: 1 },
          },
          undefined,
        )
      const svc = /^\/v1\/(health|catalog)\/service\/([^/]+)$/.exec(path)
      if (svc && req.method === 'GET') {
        if (!KNOWN_DCS.has(dc)) return send(res, 500, 'No path to datacenter', undefined)
        const name = decodeURIComponent(svc[2]!)
        return blocking(
          req,
          res,
          q,
          () => serviceIndex(dc, name),
          () => {
            const tag = q.get('tag')
            let list = (servicesOf(dc).get(name)?.instances ?? []).filter(
              (i) => tag === null || (i.tags ?? []).includes(tag),
            )
            if (svc[1] === 'health') {
              if (q.get('passing') !== null && q.get('passing') !== 'false')
                list = list.filter((i) => worst(i) === 'passing')
              send(
                res,
                200,
                list.map((i) => healthEntry(dc, name, i)),
                serviceIndex(dc, name),
                fault,
              )
            } else
              send(
                res,
                200,
                list.map((i) => catalogEntry(dc, name, i)),
                serviceIndex(dc, name),
                fault,
              )
          },
        )
      }
      if (path.startsWith('/v1/kv/')) {
        if (!KNOWN_DCS.has(dc)) return send(res, 500, 'No path to datacenter', undefined)
        const key = decodeURIComponent(path.slice('/v1/kv/'.length))
        if (req.method === 'GET') {
          if (q.has('keys')) {
            const sep = q.get('separator')
            return blocking(
              req,
              res,
              q,
              () => kvIndex,
              () => {
                const out = new Set<string>()
                for (const k of [...kv.keys()].sort()) {
                  if (!k.startsWith(key)) continue
                  const rest = k.slice(key.length)
                  const cut = sep ? rest.indexOf(sep) : -1
                  out.add(cut >= 0 ? key + rest.slice(0, cut + sep!.length) : k)
                }
                if (out.size === 0) return send(res, 404, '', kvIndex, fault)
                send(res, 200, [...out], kvIndex, fault)
              },
            )
          }
          const current = () => kv.get(key)?.modifyIndex ?? kvIndex
          return blocking(req, res, q, current, () => {
            const e = kv.get(key)
            if (!e) return send(res, 404, '', kvIndex, fault)
            if (q.has('raw')) return send(res, 200, e.value, e.modifyIndex, fault)
            send(
              res,
              200,
              [
                {
                  LockIndex: 0,
                  Key: key,
                  Flags: 0,
                  Value: e.value.length === 0 ? null : e.value.toString('base64'),
                  CreateIndex: e.createIndex,
                  ModifyIndex: e.modifyIndex,
                },
              ],
              e.modifyIndex,
              fault,
            )
          })
        }
        if (req.method === 'PUT') {
          const body = Buffer.concat(chunks)
          const cas = q.get('cas')
          const e = kv.get(key)
          if (cas !== null) {
            if (!/^\d+$/.test(cas)) return send(res, 400, `Failed to parse cas value: ${cas}`, undefined)
            const want = Number(cas)
            if (want === 0 ? e !== undefined : e?.modifyIndex !== want)
              return send(res, 200, false, undefined)
          }
          const i = bump()
          kv.set(key, { value: body, createIndex: e?.createIndex ?? i, modifyIndex: i })
          kvIndex = i
          wake()
          return send(res, 200, true, undefined)
        }
        if (req.method === 'DELETE') {
          if (kv.delete(key)) {
            kvIndex = bump()
            wake()
          }
          return send(res, 200, true, undefined)
        }
      }
      send(res, 404, `Invalid URL path: not a recognized HTTP API endpoint`, undefined)
    })
  }

  let server: Server | undefined
  let port = 0
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(handle)
      s.on('connection', (socket) => {
        sockets.add(socket)
        socket.once('close', () => sockets.delete(socket))
      })
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => {
        const a = s.address()
        port = typeof a === 'object' && a ? a.port : port
        server = s
        resolve()
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server
      server = undefined
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      pending.clear()
      if (!s) return resolve()
      s.close(() => resolve())
    })
  await listen()

  const changeService = (
    dc: string,
    name: string,
    f: (list: FakeInstance[]) => FakeInstance[] | undefined,
  ) => {
    const m = servicesOf(dc)
    const cur = m.get(name)
    const next = f([...(cur?.instances ?? [])])
    const i = bump()
    servicesIndex = i
    if (next === undefined) m.delete(name)
    else m.set(name, { instances: next, modifyIndex: i, createIndex: cur?.createIndex ?? i })
    wake()
  }

  return {
    host: '127.0.0.1',
    get port() {
      return port
    },
    get address() {
      return `127.0.0.1:${port}`
    },
    requests,
    get index() {
      return index
    },
    register(service, instance, dc = localDc) {
      changeService(dc, service, (l) => [...l.filter((x) => x.node !== instance.node), instance])
    },
    deregister(service, node, dc = localDc) {
      changeService(dc, service, (l) => {
        const rest = l.filter((x) => x.node !== node)
        return rest.length === 0 ? undefined : rest
      })
    },
    deleteService(service, dc = localDc) {
      changeService(dc, service, () => undefined)
    },
    kvPut(key, value) {
      const e = kv.get(key)
      const i = bump()
      kv.set(key, { value: Buffer.from(value), createIndex: e?.createIndex ?? i, modifyIndex: i })
      kvIndex = i
      wake()
    },
    kvGet: (key) => kv.get(key)?.value.toString('utf8'),
    kvDelete(key) {
      if (kv.delete(key)) {
        kvIndex = bump()
        wake()
      }
    },
    fault(prefix, fault, times = -1) {
      faults.unshift({ prefix, fault, left: times })
    },
    clearFaults() {
      faults.length = 0
    },
    resetIndex(to) {
      index = to
      servicesIndex = Math.min(servicesIndex, to)
      kvIndex = Math.min(kvIndex, to)
      for (const m of services.values())
        for (const s of m.values()) {
          s.modifyIndex = Math.min(s.modifyIndex, to)
          s.createIndex = Math.min(s.createIndex, to)
        }
      for (const e of kv.values()) {
        e.modifyIndex = Math.min(e.modifyIndex, to)
        e.createIndex = Math.min(e.createIndex, to)
      }
      wake()
    },
    requireToken(t) {
      token = t
    },
    stop,
    start: async () => {
      if (!server) await listen()
    },
    close: stop,
  }
}
