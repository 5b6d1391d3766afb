import { readFileSync } from 'node:fs'
import { createServer, type RequestListener, type Server } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

/** A listening HTTP server and how to reach and stop it. */
export interface Listening {
  readonly server: Server
  /** The bound address (the real port when 0 was asked for). */
  readonly address: AddressInfo
  /** `http://<ip>:<port>` (`https://` with `tls`), with IPv6 addresses in brackets. */
  readonly url: string
  /** Stops accepting, ends idle keep-alive connections and destroys the rest; idempotent. */
  close(): Promise<void>
}

/** linkerd's server `tls` block: PEM files read when the server starts. */
export interface ServerTlsSpec {
  readonly certPath: string
  readonly keyPath: string
  /** CA bundle that client certificates must chain to. */
  readonly caCertPath?: string | undefined
  /** PEM chain sent after the certificate. */
  readonly intermediateCertsPath?: string | undefined
  /** TLS versions allowed (`TLSv1.2`, `TLSv1.3`); the lowest is the minimum. */
  readonly protocols?: readonly string[] | undefined
  /** OpenSSL cipher names, joined with `:`. */
  readonly ciphers?: readonly string[] | undefined
  /** Refuse clients without a certificate signed by `caCertPath`. */
  readonly requireClientAuth?: boolean | undefined
}

/**
 * linkerd's `socketOptions`. `noDelay`, `keepAlive` and `backlog` map to Node's options of the same
 * meaning; `readTimeoutMs` bounds how long a request may take to arrive (headers and body);
 * `reuseAddr` is always on for Node's listening sockets; `reusePort` is passed to `listen` (Node
 * 22.12 and later honour it); `writeTimeoutMs` is accepted and has no Node equivalent.
 */
export interface SocketOptionsSpec {
  readonly noDelay?: boolean | undefined
  readonly reuseAddr?: boolean | undefined
  readonly reusePort?: boolean | undefined
  readonly readTimeoutMs?: number | undefined
  readonly writeTimeoutMs?: number | undefined
  readonly keepAlive?: boolean | undefined
  readonly backlog?: number | undefined
}

/**
 * How long a client may take and how many connections it may hold (slowloris protection). Each
 * field has a default in {@link DEFAULT_SERVER_LIMITS}.
 *
 * @example
 * ```ts
 * const limits: ServerLimits = { headersTimeoutMs: 5_000, maxConnections: 200 }
 * await listen(handler, '127.0.0.1', 4180, { limits })
 * ```
 */
export interface ServerLimits {
  /** Time for a request's headers to arrive, from the connection or the previous request; 408 after. */
  readonly headersTimeoutMs?: number | undefined
  /** Time for a whole request (headers and body) to arrive; 408 after. Watches are unaffected. */
  readonly requestTimeoutMs?: number | undefined
  /** How long an idle keep-alive connection stays open. */
  readonly keepAliveTimeoutMs?: number | undefined
  /** Connections held at once; further ones are closed as soon as they are accepted. */
  readonly maxConnections?: number | undefined
}

/**
 * The server limits namerd uses unless configured: 10 s for headers and 30 s for a whole request
 * (Node's own defaults are 60 s and, before Node 18, none), 5 s keep-alive, 1,000 connections.
 *
 * @example
 * ```ts
 * await listen(handler, '127.0.0.1', 4180, { limits: { ...DEFAULT_SERVER_LIMITS, maxConnections: 200 } })
 * ```
 */
export const DEFAULT_SERVER_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_000,
} as const satisfies Required<ServerLimits>

/** Options of `listen`. */
export interface ListenOptions {
  readonly tls?: ServerTlsSpec | undefined
  readonly socketOptions?: SocketOptionsSpec | undefined
  /** Timeouts and the connection cap (defaults: {@link DEFAULT_SERVER_LIMITS}). */
  readonly limits?: ServerLimits | undefined
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Error(`tls.${what}: cannot read ${JSON.stringify(path)}: ${(error as Error).message}`)
  }
}

/**
 * Starts an HTTP/1.1 server on `ip:port` (port 0 picks a free one), HTTPS when `tls` is given. The
 * server never keeps the process alive on its own after `close()`.
 *
 * @example
 * ```ts
 * const admin = await listen((req, res) => res.end('pong'), '127.0.0.1', 0)
 * console.log(admin.url) // http://127.0.0.1:40123
 * await admin.close()
 * ```
 */
export function listen(
  handler: RequestListener,
  ip: string,
  port: number,
  options: ListenOptions = {},
): Promise<Listening> {
  const { tls, socketOptions: so = {}, limits = {} } = options
  // linkerd's socketOptions.readTimeoutMs, when given, is the request timeout.
  const requestTimeout = so.readTimeoutMs ?? limits.requestTimeoutMs ?? DEFAULT_SERVER_LIMITS.requestTimeoutMs
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(
    limits.headersTimeoutMs ?? DEFAULT_SERVER_LIMITS.headersTimeoutMs,
    requestTimeout,
  )
  const serverOptions = {
    keepAliveTimeout: limits.keepAliveTimeoutMs ?? DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs,
    requestTimeout,
    headersTimeout,
    // Node checks the two timeouts on this interval (30 s by default, which would let a slow
    // client hold its connection for up to 30 s past its timeout).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    ...(so.noDelay !== undefined ? { noDelay: so.noDelay } : {}),
    ...(so.keepAlive !== undefined ? { keepAlive: so.keepAlive } : {}),
  }
  let server: Server
  try {
    server =
      tls === undefined
        ? createServer(serverOptions, handler)
        : (createTlsServer(
            {
              ...serverOptions,
              cert: readPem('certPath', tls.certPath),
              key: readPem('keyPath', tls.keyPath),
              ...(tls.caCertPath !== undefined ? { ca: readPem('caCertPath', tls.caCertPath) } : {}),
              ...(tls.ciphers !== undefined ? { ciphers: tls.ciphers.join(':') } : {}),
              ...(tls.requireClientAuth ? { requestCert: true, rejectUnauthorized: true } : {}),
            },
            handler,
          ) as unknown as Server)
  } catch (error) {
    return Promise.reject(error)
  }
  server.maxConnections = limits.maxConnections ?? DEFAULT_SERVER_LIMITS.maxConnections
  const scheme = tls === undefined ? 'http' : 'https'
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    server.once('error', onError)
    const listenOptions = {
      port,
      host: ip,
      ...(so.backlog !== undefined ? { backlog: so.backlog } : {}),
      ...(so.reusePort !== undefined ? { reusePort: so.reusePort } : {}),
    }
    server.listen(listenOptions, () => {
      server.off('error', onError)
      const address = server.address() as AddressInfo
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      let closing: Promise<void> | undefined
      resolve({
        server,
        address,
        url: `${scheme}://${host}:${address.port}`,
        close: () => {
          closing ??= new Promise<void>((done) => {
            server.close(() => done())
            server.closeIdleConnections()
            // Watch streams never end on their own: cut them.
            server.closeAllConnections()
          })
          return closing
        },
      })
    })
  })
}
