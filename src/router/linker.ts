import { createWriteStream, readFileSync, type WriteStream } from 'node:fs'
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { isLeft } from 'fp-ts/lib/Either.js'
import { l5dDashboard } from '../admin/dashboard.js'
import { type AdminRoute, sendText, sharedAdminHandler } from '../admin/handler.js'
import type { Telemeter } from '../config/telemetry.js'
import { type Scheduler, systemScheduler } from '../core/clock.js'
import type { ClientOptions } from '../http/client.js'
import { encodeL5dErr } from '../http/propagation.js'
import { Dtab } from '../naming/dtab.js'
import { delegateTreeJson } from '../naming/json.js'
import { Path } from '../naming/path.js'
import { type InMemoryStats, inMemoryStats } from '../stats/stats.js'
import { startTelemetry, type Telemetry } from '../telemetry/config.js'
import type { Tracing } from '../telemetry/tracing.js'
import { type LinkerKinds, type LinkerSpec, readLinkerConfig, type ServerSpec } from './config.js'
import { createRouter, type Router } from './server.js'

/** A listening server of a linker. */
export interface LinkerServer {
  /** The router it serves. */
  readonly router: string
  readonly address: AddressInfo
  /** `http://ip:port` (`https://` with TLS). */
  readonly url: string
}

/** A running linkerd config: its routers, servers, admin server; `close()` drains and stops. */
export interface Linker {
  readonly routers: readonly Router[]
  readonly servers: readonly LinkerServer[]
  readonly admin: LinkerServer
  readonly stats: InMemoryStats
  readonly spec: LinkerSpec
  /**
   * Stops accepting, lets requests in flight finish (up to `graceMs`, default the config's
   * `admin.shutdownGraceMs`), then closes every connection, router, telemeter and the admin server,
   * in linkerd's order. Idempotent.
   */
  close(graceMs?: number): Promise<void>
  /** Resolves once `close()` (or `POST /admin/shutdown`) has finished. */
  readonly closed: Promise<void>
}

/** Options of `createLinker`. */
export interface CreateLinkerOptions {
  readonly stats?: InMemoryStats | undefined
  readonly scheduler?: Scheduler | undefined
  /** Startup lines and non-fatal problems. Default `console.error`. */
  readonly log?: ((message: string) => void) | undefined
  /** Plugin kinds (from `--plugins`). */
  readonly kinds?: LinkerKinds | undefined
  /** The parsed config as written, for `/config.json` (default: the text's parse). */
  readonly rawConfig?: unknown
  /** Client settings that override every router's (e.g. `endpoint` in tests). */
  readonly overrides?: Partial<ClientOptions> | undefined
  /**
   * The tracing every router's servers and clients use, instead of the one built from the config's
   * tracing telemeters (`io.l5d.zipkin`, `io.l5d.recentRequests`), e.g. an OpenTelemetry SDK tracer
   * with an in-memory exporter in tests.
   */
  readonly tracing?: Tracing | undefined
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Error(`tls.${what}: cannot read ${JSON.stringify(path)}: ${(error as Error).message}`)
  }
}

interface Listener {
  server: Server
  sockets: Set<Socket>
  info: LinkerServer
}

/** How long a client may take to send a request's headers. */
export const HEADERS_TIMEOUT_MS = 10_000

function startServer(
  handler: RequestListener,
  s: Pick<ServerSpec, 'ip' | 'port' | 'tls' | 'socketOptions' | 'idleTimeMs' | 'lifeTimeMs' | 'timeoutMs'> & {
    maxHeaderBytes?: number
  },
  router: string,
): Promise<Listener> {
  const so = s.socketOptions ?? {}
  const requestTimeout = s.timeoutMs ?? so.readTimeoutMs ?? 0
  const options = {
    requireHostHeader: false,
    keepAliveTimeout: s.idleTimeMs ?? 5000,
    requestTimeout,
    // A client trickling its headers is cut off (bodies stream as long as they take: requestTimeout
    // stays 0 unless configured); Node's default would keep it for a minute, checked every 30 s.
    headersTimeout: requestTimeout > 0 ? Math.min(HEADERS_TIMEOUT_MS, requestTimeout) : HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: 1000,
    ...(s.maxHeaderBytes !== undefined ? { maxHeaderSize: s.maxHeaderBytes } : {}),
    ...(so.noDelay !== undefined ? { noDelay: so.noDelay } : { noDelay: true }),
    ...(so.keepAlive !== undefined ? { keepAlive: so.keepAlive } : {}),
  }
  const tls = s.tls
  const server: Server =
    tls === undefined
      ? createServer(options, handler)
      : (createTlsServer(
          {
            ...options,
            cert:
              tls.intermediateCertsPath === undefined
                ? readPem('certPath', tls.certPath)
                : Buffer.concat([
                    readPem('certPath', tls.certPath),
                    readPem('intermediateCertsPath', tls.intermediateCertsPath),
                  ]),
            ...(tls.protocols !== undefined && tls.protocols.length > 0
              ? { minVersion: [...tls.protocols].sort()[0] as 'TLSv1.2' }
              : {}),
            key: readPem('keyPath', tls.keyPath),
            ...(tls.caCertPath !== undefined ? { ca: readPem('caCertPath', tls.caCertPath) } : {}),
            ...(tls.ciphers !== undefined ? { ciphers: tls.ciphers.join(':') } : {}),
            ...(tls.requireClientAuth ? { requestCert: true, rejectUnauthorized: true } : {}),
          },
          handler,
        ) as unknown as Server)
  const sockets = new Set<Socket>()
  server.on(tls === undefined ? 'connection' : 'secureConnection', (sock: Socket) => {
    sockets.add(sock)
    sock.once('close', () => sockets.delete(sock))
    if (s.lifeTimeMs !== undefined) {
      const t = setTimeout(() => sock.end(), s.lifeTimeMs)
      t.unref()
      sock.once('close', () => clearTimeout(t))
    }
  })
  // A request Node's parser refuses: linkerd's framing answer for conflicting Content-Length.
  server.on('clientError', (error: Error & { code?: string }, sock: Socket) => {
    if (!sock.writable) {
      sock.destroy()
      return
    }
    // Each answer closes the connection whether or not the client ends its side.
    const answer = (text: string) => sock.end(text, () => sock.destroy())
    const message =
      error.code === 'HPE_UNEXPECTED_CONTENT_LENGTH' ? 'conflicting `Content-Length` headers' : undefined
    if (message !== undefined) {
      answer(
        `HTTP/1.1 400 Bad Request\r\nl5d-err: ${encodeL5dErr(message)}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(message)}\r\nconnection: close\r\n\r\n${message}`,
      )
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      answer('HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
    } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      answer('HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
    } else answer('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(
      {
        port: s.port,
        host: s.ip,
        ...(so.backlog !== undefined ? { backlog: so.backlog } : {}),
        ...(so.reusePort !== undefined ? { reusePort: so.reusePort } : {}),
      },
      () => {
        server.off('error', reject)
        const address = server.address() as AddressInfo
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
        resolve({
          server,
          sockets,
          info: { router, address, url: `${tls === undefined ? 'http' : 'https'}://${host}:${address.port}` },
        })
      },
    )
  })
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        reject(new Error('body too large'))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** `/delegator.json`: GET `?namespace&path&dtab` or POST JSON `{namespace, dtab, path}`. */
function delegator(routers: readonly Router[]): AdminRoute {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const answer = async (ns: string | undefined, pathText: string, dtabText: string) => {
      let path: Path
      let dtab: Dtab
      const p = Path.parse(pathText)
      if (isLeft(p)) return sendText(res, 400, `Invalid path: ${p.left.message}`)
      path = p.right
      const d = Dtab.parse(dtabText)
      if (isLeft(d)) return sendText(res, 400, `Invalid dtab: ${d.left.message}`)
      dtab = d.right
      const router = routers.find((r) => r.label === ns) ?? routers[0]
      if (!router) return sendText(res, 501, `Name Interpreter for ${ns ?? ''} cannot show delegations`)
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2000).unref())
      try {
        const tree = await Promise.race([router.client.delegate(path, dtab), timeout])
        if (tree === 'timeout') return sendText(res, 503, 'Request timed out.')
        sendText(res, 200, delegateTreeJson(tree), 'application/json;charset=UTF-8')
      } catch (error) {
        sendText(
          res,
          501,
          `Name Interpreter for ${ns ?? router.label} cannot show delegations: ${(error as Error).message}`,
        )
      }
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const path = url.searchParams.get('path')
      if (path === null) return sendText(res, 400, 'Malformed delegation request: missing path')
      void answer(url.searchParams.get('namespace') ?? undefined, path, url.searchParams.get('dtab') ?? '')
      return
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST', 'content-length': 0 })
      res.end()
      return
    }
    const type = String(req.headers['content-type'] ?? '')
    if (!type.includes('json')) {
      req.resume()
      return sendText(res, 415, 'Unsupported Media Type')
    }
    readBody(req, 64 * 1024).then(
      (body) => {
        let j: { namespace?: unknown; dtab?: unknown; path?: unknown }
        try {
          j = JSON.parse(body) as typeof j
        } catch {
          return sendText(res, 400, `Malformed delegation request: ${body}`)
        }
        if (typeof j !== 'object' || j === null || typeof j.path !== 'string' || typeof j.dtab !== 'string')
          return sendText(res, 400, `Malformed delegation request: ${body}`)
        void answer(typeof j.namespace === 'string' ? j.namespace : undefined, j.path, j.dtab)
      },
      () => sendText(res, 413, 'request body too large'),
    )
  }
}

function prometheusWithPrefix(stats: InMemoryStats, prefix: string): string {
  const text = stats.prometheus()
  if (prefix === '') return text
  return text
    .split('\n')
    .map((line) =>
      line === ''
        ? line
        : line.startsWith('# ')
          ? line.replace(/^# (TYPE|HELP) /, (m) => `${m}${prefix}`)
          : `${prefix}${line}`,
    )
    .join('\n')
}

/**
 * Runs a whole linkerd config (YAML text or a decoded `LinkerSpec`): every router with each of its
 * servers (`createRouter` behind Node HTTP/HTTPS servers), the telemeters and the admin server
 * (ping, metrics, `/config.json`, `/delegator.json`, `POST /admin/shutdown`). Startup order and
 * shutdown order are linkerd's; a config with problems throws `ConfigError` listing all of them.
 *
 * @example
 * ```ts
 * const linker = await createLinker(await readFile('linkerd.yaml', 'utf8'))
 * console.log(linker.servers.map((s) => s.url), linker.admin.url)
 * process.on('SIGTERM', () => void linker.close())
 * ```
 */
export async function createLinker(
  config: string | LinkerSpec,
  options: CreateLinkerOptions = {},
): Promise<Linker> {
  let spec: LinkerSpec
  let raw = options.rawConfig
  if (typeof config === 'string') {
    const r = readLinkerConfig(config, undefined, options.kinds)
    if (isLeft(r)) throw r.left
    spec = r.right.spec
    raw ??= r.right.raw
  } else spec = config
  const stats = options.stats ?? inMemoryStats()
  const scheduler = options.scheduler ?? systemScheduler
  const log = options.log ?? ((m: string) => console.error(m))
  for (const w of spec.warnings) log(`warning: ${w}`)

  const routers: Router[] = []
  const listeners: Listener[] = []
  const telemeters: Telemeter[] = []
  const logs: WriteStream[] = []
  let telemetry: Telemetry | undefined
  let admin: Listener | undefined
  const teardown = async () => {
    for (const l of listeners) {
      l.server.close()
      l.server.closeAllConnections()
    }
    await Promise.all(routers.map((r) => r.close().catch(() => {})))
    for (const t of telemeters) await t.close?.()
    // Flushes the spans still queued for Zipkin.
    await telemetry?.close().catch((e: unknown) => log(`telemetry: ${(e as Error).message}`))
    for (const w of logs) w.end()
    if (admin) {
      admin.server.close()
      admin.server.closeAllConnections()
    }
  }
  let resolveClosed: () => void = () => {}
  const closed = new Promise<void>((r) => {
    resolveClosed = r
  })
  let closing: Promise<void> | undefined
  const close = (graceMs = spec.admin.shutdownGraceMs): Promise<void> => {
    closing ??= (async () => {
      // Stop accepting; idle keep-alive connections go now, busy ones when their request is over.
      for (const l of listeners) {
        l.server.close()
        l.server.closeIdleConnections()
      }
      const deadline = Date.now() + graceMs
      while (routers.some((r) => r.pending > 0) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20))
      await teardown()
      resolveClosed()
    })()
    return closing
  }

  try {
    // One tracer for every router: each hop's server span parents its client's spans.
    const tracingSettings = spec.telemetry.telemeters.flatMap((t) => (t.tracing ? [t.tracing] : []))
    if (tracingSettings.length > 0)
      telemetry = await startTelemetry(tracingSettings, {
        stats: stats.scope('telemetry'),
        onError: (e) => log(`telemetry: ${(e as Error)?.message ?? String(e)}`),
      })
    const tracing = options.tracing ?? telemetry?.tracing
    for (const r of spec.routers) {
      let accessLog: ((line: string) => void) | undefined
      if (r.accessLog !== undefined) {
        const w = createWriteStream(r.accessLog, { flags: r.accessLogAppend ? 'a' : 'w' })
        w.on('error', (e) => log(`httpAccessLog ${r.accessLog}: ${e.message}`))
        logs.push(w)
        accessLog = (line) => w.write(`${line}\n`)
      }
      const router = createRouter(r.spec, {
        label: r.label,
        stats,
        scheduler,
        log,
        accessLog,
        ...r.http,
        overrides: options.overrides,
        tracing,
      })
      routers.push(router)
      if (r.originator) stats.scope('rt', r.label).gauge('originator', () => 1)
      for (const s of r.servers) {
        // The handler is made once the port is known: stats are scoped by `<ip>/<port>`.
        let handler: RequestListener = () => {}
        const l = await startServer((req, res) => handler(req, res), s, r.label)
        const serverLabel = s.label ?? `${s.ip}/${l.info.address.port}`
        handler = router.serverHandler({ ...s, label: serverLabel })
        const ss = stats.scope('rt', r.label, 'server', serverLabel)
        ss.gauge('connections', () => l.sockets.size)
        listeners.push(l)
        log(`serving ${r.label} on ${l.info.url.replace(/^https?:\/\//, '')}`)
      }
    }
    const routes: Record<string, AdminRoute> = { '/delegator.json': delegator(routers) }
    for (const t of spec.telemetry.telemeters) {
      const tm = t.make({ prometheus: (prefix) => prometheusWithPrefix(stats, prefix), log, telemetry })
      telemeters.push(tm)
      for (const [path, fn] of Object.entries(tm.adminRoutes ?? {}))
        routes[path] = (_req, res) => {
          const [status, type, body] = fn()
          sendText(res, status, body, type)
        }
    }
    const shared = sharedAdminHandler({
      stats,
      config: raw,
      onShutdown: () => void close(),
      routes,
      security: spec.admin.security,
    })
    // linkerd's dashboard at `/` (and `/delegator`, `/files/*`), unless the ui category is off.
    const uiOn = spec.admin.security.uiEnabled
    const handler: RequestListener = (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!
      if (
        uiOn &&
        !spec.admin.security.pathBlacklist.some((r) => r.test(path)) &&
        l5dDashboard(req, res, path)
      )
        return
      shared(req, res)
    }
    admin = await startServer(
      handler,
      {
        ip: spec.admin.ip,
        port: spec.admin.port,
        tls: spec.admin.tls,
        socketOptions: spec.admin.socketOptions,
      },
      'admin',
    )
    log(`serving http admin on ${admin.info.url.replace(/^https?:\/\//, '')}`)
    log('initialized')
  } catch (error) {
    await teardown()
    throw error
  }
  return {
    routers,
    servers: listeners.map((l) => l.info),
    admin: admin.info,
    stats,
    spec,
    close,
    closed,
  }
}
