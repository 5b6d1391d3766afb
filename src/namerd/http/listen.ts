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

/** Options of `listen`. */
export interface ListenOptions {
  readonly tls?: ServerTlsSpec | undefined
  readonly socketOptions?: SocketOptionsSpec | undefined
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
  const { tls, socketOptions: so = {} } = options
  const readTimeout = so.readTimeoutMs ?? 0
  const serverOptions = {
    keepAliveTimeout: 5000,
    requestTimeout: readTimeout,
    // Node refuses a headers timeout longer than a non-zero request timeout.
    ...(readTimeout > 0 ? { headersTimeout: Math.min(60_000, readTimeout) } : {}),
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
