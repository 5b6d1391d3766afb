// A protocol-faithful fake of the Kubernetes API server for tests (no real one can run here). It
// keeps objects per resource collection with one cluster-wide resourceVersion counter (etcd's
// revision, as the real server), and implements what the namers and the store rely on:
// - GET of a collection (a `<Kind>List` with `metadata.resourceVersion`) and of one object;
// - watches, both `?watch=true` and linkerd's `/watch/` path form, from a resourceVersion (events
//   after it are replayed) or without one (synthetic ADDED events for what exists), streamed with
//   chunked transfer encoding, one JSON event per line: ADDED, MODIFIED, DELETED, BOOKMARK (with
//   `allowWatchBookmarks=true`), ERROR;
// - a watch from a compacted resourceVersion gets 200 and an ERROR event whose object is a 410
//   `Status` ("too old resource version"), as the real server does;
// - POST (409 AlreadyExists), PUT (409 Conflict on a stale `metadata.resourceVersion`, 404
//   NotFound), DELETE (404), with `Status` bodies in the real server's shape;
// - `labelSelector` (equality, comma-separated) and `fieldSelector=metadata.name=<n>`.
// Faults: stall (requests and watches go silent), reset (every socket destroyed), down (new
// connections are reset until `up()`), ending watches (the server's watch timeout), expiring
// watches (410 ERROR mid-stream), compaction, and events split across chunks.

import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'

export interface K8sObj {
  kind?: string
  apiVersion?: string
  metadata: {
    name: string
    namespace?: string | undefined
    resourceVersion?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    [k: string]: unknown
  }
  [k: string]: unknown
}

interface Parsed {
  /** `api/v1` or `apis/<group>/<version>`. */
  readonly groupVersion: string
  readonly watch: boolean
  readonly namespace: string | undefined
  readonly plural: string
  readonly name: string | undefined
}

interface Event {
  readonly rv: number
  readonly collection: string
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'
  readonly object: K8sObj
}

interface OpenWatch {
  readonly res: ServerResponse
  readonly matches: (collection: string, o: K8sObj) => boolean
  readonly bookmarks: boolean
  readonly listKind: string
}

/** What a test can do to the fake server. */
export interface FakeK8s {
  readonly host: string
  readonly port: number
  readonly url: string
  /** Every request line seen, e.g. `GET /api/v1/namespaces/default/endpoints/web`. */
  readonly requests: string[]
  /** Creates or replaces an object in `<groupVersion>/<plural>` (e.g. `api/v1`, `endpoints`). */
  put(groupVersion: string, plural: string, object: K8sObj): K8sObj
  /** Deletes an object; returns whether it existed. */
  remove(groupVersion: string, plural: string, namespace: string | undefined, name: string): boolean
  /** The stored object, if any. */
  get(groupVersion: string, plural: string, namespace: string | undefined, name: string): K8sObj | undefined
  /** The current resourceVersion. */
  resourceVersion(): number
  /** Forgets history: a watch from any earlier resourceVersion gets a 410 ERROR event. */
  compact(): void
  /** Sends a BOOKMARK to every watch that asked for them. */
  bookmark(): void
  /** Ends every open watch cleanly (the server's watch timeout). */
  endWatches(): void
  /** Sends a 410 ERROR event to every open watch and ends it (a watch that fell too far behind). */
  expireWatches(): void
  /** How many watches are open now. */
  openWatches(): number
  /** Requests get no answer and open watches no data until `unstall()`. */
  stall(): void
  unstall(): void
  /** Destroys every open socket (connection reset). */
  reset(): void
  /** Cuts the server off: every socket is destroyed, and new ones are until `up()`. */
  down(): void
  up(): void
  /** Writes `text` as is to every open watch (a line that is not an event, say). */
  sendRaw(text: string): void
  /** Writes every watch event in two chunks, split in the middle of the line. */
  splitEvents(on: boolean): void
  close(): Promise<void>
}

const LIST_KINDS: Record<string, string> = {
  endpoints: 'EndpointsList',
  services: 'ServiceList',
  pods: 'PodList',
  ingresses: 'IngressList',
  dtabs: 'DTabList',
}
const KINDS: Record<string, string> = {
  endpoints: 'Endpoints',
  services: 'Service',
  pods: 'Pod',
  ingresses: 'Ingress',
  dtabs: 'DTab',
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** A `Status` object in the shape the API server sends. */
export function status(code: number, reason: string, message: string, details?: object): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  }
}

function parsePath(pathname: string): Parsed | undefined {
  const segs = pathname.split('/').filter((s) => s !== '')
  let i: number
  let groupVersion: string
  if (segs[0] === 'api' && segs.length >= 2) {
    groupVersion = `api/${segs[1]}`
    i = 2
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    groupVersion = `apis/${segs[1]}/${segs[2]}`
    i = 3
  } else return undefined
  let watch = false
  if (segs[i] === 'watch') {
    watch = true
    i++
  }
  let namespace: string | undefined
  if (segs[i] === 'namespaces' && segs.length >= i + 3) {
    namespace = decodeURIComponent(segs[i + 1]!)
    i += 2
  }
  const plural = segs[i]
  if (plural === undefined) return undefined
  const name = segs[i + 1] === undefined ? undefined : decodeURIComponent(segs[i + 1]!)
  if (segs.length > i + 2) return undefined
  return { groupVersion, watch, namespace, plural, name }
}

function selectorMatch(labelSelector: string | null, fieldSelector: string | null, o: K8sObj): boolean {
  if (labelSelector) {
    for (const term of labelSelector.split(',')) {
      const [k, v] = term.split('=') as [string, string | undefined]
      if (v === undefined) {
        if (!(k in (o.metadata.labels ?? {}))) return false
      } else if (o.metadata.labels?.[k] !== v) return false
    }
  }
  if (fieldSelector) {
    for (const term of fieldSelector.split(',')) {
      const [k, v] = term.split('=')
      if (k === 'metadata.name' && o.metadata.name !== v) return false
      if (k === 'metadata.namespace' && o.metadata.namespace !== v) return false
    }
  }
  return true
}

/** Options of `startFakeK8s`. */
export interface FakeK8sOptions {
  /** Serve HTTPS with this certificate (as a real API server does). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined
  /** Require `Authorization: Bearer <token>`; anything else gets a 401 `Status`. */
  readonly token?: string | undefined
}

/**
 * Starts the fake API server on a free loopback port.
 *
 * @example
 * ```ts
 * const k8s = await startFakeK8s()
 * k8s.put('api/v1', 'endpoints', endpoints('default', 'web', [...]))
 * ```
 */
export async function startFakeK8s(options: FakeK8sOptions = {}): Promise<FakeK8s> {
  const store = new Map<string, Map<string, K8sObj>>() // collection → ns/name → object
  const history: Event[] = []
  let rv = 1000
  let compactedAt = 0
  let stalled = false
  let isDown = false
  let split = false
  const watches = new Set<OpenWatch>()
  const stalledResponses = new Set<ServerResponse>()
  const sockets = new Set<Socket>()
  const requests: string[] = []
  const collectionKey = (gv: string, plural: string) => `${gv}/${plural}`
  const objKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`
  const collection = (key: string) => {
    let m = store.get(key)
    if (!m) {
      m = new Map()
      store.set(key, m)
    }
    return m
  }
  const clone = (o: K8sObj): K8sObj => JSON.parse(JSON.stringify(o)) as K8sObj

  const writeEvent = (w: OpenWatch, type: string, object: object) => {
    if (stalled) return
    const line = `${JSON.stringify({ type, object })}\n`
    if (split && line.length > 2) {
      const mid = Math.floor(line.length / 2)
      w.res.write(line.slice(0, mid))
      setTimeout(() => {
        if (!w.res.writableEnded) w.res.write(line.slice(mid))
      }, 5)
    } else w.res.write(line)
  }

  const record = (key: string, type: Event['type'], object: K8sObj) => {
    history.push({ rv, collection: key, type, object })
    if (history.length > 10_000) history.shift()
    for (const w of watches) if (w.matches(key, object)) writeEvent(w, type, object)
  }

  const put = (gv: string, plural: string, input: K8sObj): K8sObj => {
    const key = collectionKey(gv, plural)
    const m = collection(key)
    const k = objKey(input.metadata.namespace, input.metadata.name)
    const old = m.get(k)
    rv++
    const o = clone(input)
    o.kind ??= KINDS[plural] ?? plural
    o.apiVersion ??= gv.replace(/^apis?\//, '')
    o.metadata.resourceVersion = String(rv)
    o.metadata['uid'] = (old?.metadata['uid'] as string | undefined) ?? randomUUID()
    o.metadata['creationTimestamp'] =
      (old?.metadata['creationTimestamp'] as string | undefined) ??
      new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    m.set(k, o)
    record(key, old ? 'MODIFIED' : 'ADDED', o)
    return o
  }

  const remove = (gv: string, plural: string, ns: string | undefined, name: string): boolean => {
    const key = collectionKey(gv, plural)
    const m = collection(key)
    const k = objKey(ns, name)
    const old = m.get(k)
    if (!old) return false
    m.delete(k)
    rv++
    const o = clone(old)
    o.metadata.resourceVersion = String(rv)
    record(key, 'DELETED', o)
    return true
  }

  const send = (res: ServerResponse, code: number, body: unknown) => {
    if (stalled) {
      stalledResponses.add(res)
      return
    }
    const text = JSON.stringify(body)
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  const readBody = (req: IncomingMessage) =>
    new Promise<unknown>((resolve) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        } catch {
          resolve(undefined)
        }
      })
    })

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    requests.push(`${req.method} ${url.pathname}${url.search}`)
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`)
      return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'))
    const p = parsePath(url.pathname)
    if (!p) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'))
    const key = collectionKey(p.groupVersion, p.plural)
    const m = collection(key)
    const kind = KINDS[p.plural] ?? p.plural
    const labelSelector = url.searchParams.get('labelSelector')
    const fieldSelector = url.searchParams.get('fieldSelector')
    const inScope = (o: K8sObj) =>
      (p.namespace === undefined || o.metadata.namespace === p.namespace) &&
      (p.name === undefined || o.metadata.name === p.name) &&
      selectorMatch(labelSelector, fieldSelector, o)
    const isWatch =
      p.watch || url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1'

    if (req.method === 'GET' && isWatch) {
      const fromText = url.searchParams.get('resourceVersion')
      const from = fromText === null || fromText === '' || fromText === '0' ? undefined : Number(fromText)
      if (stalled) {
        stalledResponses.add(res)
        return
      }
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
      res.flushHeaders()
      const w: OpenWatch = {
        res,
        matches: (c, o) => c === key && inScope(o),
        bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
        listKind: LIST_KINDS[p.plural] ?? `${kind}List`,
      }
      if (from !== undefined && (Number.isNaN(from) || from < compactedAt)) {
        writeEvent(
          w,
          'ERROR',
          status(410, 'Expired', `too old resource version: ${fromText} (${compactedAt})`),
        )
        res.end()
        return
      }
      if (from === undefined) {
        for (const o of m.values()) if (inScope(o)) writeEvent(w, 'ADDED', o)
      } else {
        for (const e of history)
          if (e.rv > from && w.matches(e.collection, e.object)) writeEvent(w, e.type, e.object)
      }
      watches.add(w)
      res.on('close', () => watches.delete(w))
      return
    }

    if (req.method === 'GET') {
      if (p.name !== undefined) {
        const o = m.get(objKey(p.namespace, p.name))
        if (!o)
          return send(
            res,
            404,
            status(404, 'NotFound', `${p.plural} "${p.name}" not found`, { name: p.name, kind: p.plural }),
          )
        return send(res, 200, o)
      }
      const items = [...m.values()].filter(inScope)
      return send(res, 200, {
        kind: LIST_KINDS[p.plural] ?? `${kind}List`,
        apiVersion: p.groupVersion.replace(/^apis?\//, ''),
        metadata: { resourceVersion: String(rv) },
        items,
      })
    }

    if (req.method === 'POST' && p.name === undefined) {
      const body = (await readBody(req)) as K8sObj | undefined
      const name = body?.metadata?.name
      if (!body || typeof name !== 'string' || name === '')
        return send(res, 422, status(422, 'Invalid', `${kind} is invalid: metadata.name: Required value`))
      if (!DNS1123.test(name) || name.length > 253)
        return send(
          res,
          422,
          status(
            422,
            'Invalid',
            `${kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
            { name, kind: p.plural },
          ),
        )
      if (m.has(objKey(p.namespace, name)))
        return send(
          res,
          409,
          status(409, 'AlreadyExists', `${p.plural} "${name}" already exists`, { name, kind: p.plural }),
        )
      const o = put(p.groupVersion, p.plural, {
        ...body,
        metadata: { ...body.metadata, namespace: p.namespace },
      })
      return send(res, 201, o)
    }

    if (req.method === 'PUT' && p.name !== undefined) {
      const body = (await readBody(req)) as K8sObj | undefined
      if (!body || typeof body.metadata !== 'object')
        return send(res, 400, status(400, 'BadRequest', 'the body is not an object'))
      const old = m.get(objKey(p.namespace, p.name))
      if (!old)
        return send(
          res,
          404,
          status(404, 'NotFound', `${p.plural} "${p.name}" not found`, { name: p.name, kind: p.plural }),
        )
      const want = body.metadata.resourceVersion
      if (want !== undefined && want !== old.metadata.resourceVersion)
        return send(
          res,
          409,
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${p.plural} "${p.name}": the object has been modified; please apply your changes to the latest version and try again`,
            { name: p.name, kind: p.plural },
          ),
        )
      const o = put(p.groupVersion, p.plural, {
        ...body,
        metadata: { ...body.metadata, name: p.name, namespace: p.namespace },
      })
      return send(res, 200, o)
    }

    if (req.method === 'DELETE' && p.name !== undefined) {
      const old = m.get(objKey(p.namespace, p.name))
      if (!old)
        return send(
          res,
          404,
          status(404, 'NotFound', `${p.plural} "${p.name}" not found`, { name: p.name, kind: p.plural }),
        )
      remove(p.groupVersion, p.plural, p.namespace, p.name)
      return send(res, 200, status(200, '', '', { name: p.name, kind: p.plural, uid: old.metadata['uid'] }))
    }

    return send(res, 405, status(405, 'MethodNotAllowed', `the server does not allow this method`))
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, status(500, 'InternalError', String(e)))
    })
  }
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createServer(listener)
  server.on('connection', (s: Socket) => {
    if (isDown) {
      s.destroy()
      return
    }
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const destroyAll = () => {
    for (const s of sockets) s.destroy()
    sockets.clear()
    watches.clear()
    stalledResponses.clear()
  }

  return {
    host: '127.0.0.1',
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    put,
    remove,
    get: (gv, plural, ns, name) => store.get(collectionKey(gv, plural))?.get(objKey(ns, name)),
    resourceVersion: () => rv,
    compact() {
      compactedAt = rv + 1
      history.length = 0
    },
    bookmark() {
      for (const w of watches)
        if (w.bookmarks)
          writeEvent(w, 'BOOKMARK', {
            kind: KINDS[w.listKind] ?? 'Object',
            apiVersion: 'v1',
            metadata: { resourceVersion: String(rv) },
          })
    },
    endWatches() {
      for (const w of watches) w.res.end()
      watches.clear()
    },
    expireWatches() {
      for (const w of watches) {
        writeEvent(w, 'ERROR', status(410, 'Expired', `too old resource version: ${rv - 1} (${rv})`))
        w.res.end()
      }
      watches.clear()
      compactedAt = rv + 1
      history.length = 0
    },
    openWatches: () => watches.size,
    stall() {
      stalled = true
    },
    unstall() {
      stalled = false
    },
    reset: destroyAll,
    down() {
      isDown = true
      destroyAll()
    },
    up() {
      isDown = false
    },
    sendRaw(text) {
      for (const w of watches) w.res.write(text)
    },
    splitEvents(on) {
      split = on
    },
    async close() {
      destroyAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** An Endpoints object as the API server returns it (`subsets` of addresses and named ports). */
export function endpoints(
  namespace: string,
  name: string,
  subsets: readonly {
    addresses: readonly { ip: string; nodeName?: string; podName?: string }[]
    notReady?: readonly { ip: string; nodeName?: string }[]
    ports: readonly { name?: string; port: number }[]
  }[],
  labels?: Record<string, string>,
): K8sObj {
  return {
    kind: 'Endpoints',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace,
      selfLink: `/api/v1/namespaces/${namespace}/endpoints/${name}`,
      ...(labels ? { labels } : {}),
    },
    subsets: subsets.map((s) => ({
      addresses: s.addresses.map((a) => ({
        ip: a.ip,
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
        targetRef: {
          kind: 'Pod',
          namespace,
          name: a.podName ?? `${name}-${a.ip.replace(/\./g, '-')}`,
          uid: randomUUID(),
          resourceVersion: '1',
        },
      })),
      ...(s.notReady && s.notReady.length > 0
        ? {
            notReadyAddresses: s.notReady.map((a) => ({
              ip: a.ip,
              ...(a.nodeName ? { nodeName: a.nodeName } : {}),
            })),
          }
        : {}),
      ports: s.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: 'TCP' })),
    })),
  }
}

/** A Service object: ports (`port` → `targetPort`), and LoadBalancer ingress when given. */
export function service(
  namespace: string,
  name: string,
  ports: readonly { name?: string; port: number; targetPort?: number | string }[],
  loadBalancer?: readonly ({ ip: string } | { hostname: string })[],
): K8sObj {
  return {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: { name, namespace, selfLink: `/api/v1/namespaces/${namespace}/services/${name}` },
    spec: {
      ports: ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        protocol: 'TCP',
        port: p.port,
        targetPort: p.targetPort ?? p.port,
      })),
      clusterIP: '10.0.0.10',
      type: loadBalancer ? 'LoadBalancer' : 'ClusterIP',
      sessionAffinity: 'None',
    },
    status: { loadBalancer: loadBalancer ? { ingress: loadBalancer } : {} },
  }
}
