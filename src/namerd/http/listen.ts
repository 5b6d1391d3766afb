import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A listening HTTP server and how to reach and stop it. */
export interface Listening {
  readonly server: Server
  /** The bound address (the real port when 0 was asked for). */
  readonly address: AddressInfo
  /** `http://<ip>:<port>`, with IPv6 addresses in brackets. */
  readonly url: string
  /** Stops accepting, ends idle keep-alive connections and destroys the rest; idempotent. */
  close(): Promise<void>
}

/**
 * Starts an HTTP/1.1 server on `ip:port` (port 0 picks a free one). The server never keeps the
 * process alive on its own after `close()`.
 *
 * @example
 * ```ts
 * const admin = await listen((req, res) => res.end('pong'), '127.0.0.1', 0)
 * console.log(admin.url) // http://127.0.0.1:40123
 * await admin.close()
 * ```
 */
export function listen(handler: RequestListener, ip: string, port: number): Promise<Listening> {
  const server = createServer({ keepAliveTimeout: 5000, requestTimeout: 0 }, handler)
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    server.once('error', onError)
    server.listen(port, ip, () => {
      server.off('error', onError)
      const address = server.address() as AddressInfo
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      let closing: Promise<void> | undefined
      resolve({
        server,
        address,
        url: `http://${host}:${address.port}`,
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
