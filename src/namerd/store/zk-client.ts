// node-zookeeper-client (1.1.3, the maintained pure-JavaScript ZooKeeper client) with three defects
// fixed around it, all in its connection manager, so the store above can rely on a session that
// either works or reconnects:
//
// 1. Bytes of a packet cut off by a lost connection are kept and glued in front of the first bytes
//    of the next connection, so every later response is misread ("Unknown code: ...").
// 2. Any misread packet throws out of the socket's `data` handler: an uncaught exception that would
//    take the whole namerd process down.
// 3. `close()` before the first connection attempt writes to a socket that does not exist yet (a
//    TypeError), and `close()` while reconnecting leaves a pending attempt that later connects and
//    misreads the server's answer.
// 4. Once the TCP connection is up, the answer to the session handshake is awaited without a
//    deadline: a server that accepts but never answers (one still starting up) holds the client
//    forever. The handshake now gets a third of the session timeout (the client's ping interval).
//
// Each fix touches the connection manager of one client instance only.
import type * as Zk from 'node-zookeeper-client'
import { importOptional } from '../../core/optional.js'

/**
 * node-zookeeper-client, an optional peer dependency: loading this module (and so
 * `switchboard/namerd/zk`) without it rejects with MissingDependencyError naming the package.
 */
export const zookeeper: typeof Zk = (
  await importOptional<{ default: typeof Zk }>('node-zookeeper-client', 'switchboard/namerd/zk')
).default

const STATE = { DISCONNECTED: 0, CONNECTING: 1, CONNECTED: 2, CONNECTED_READ_ONLY: 3, CLOSING: -1 } as const

interface ConnectionManagerInternals {
  state: number
  socket?: { destroy(): void } | undefined
  pendingBuffer: Buffer | null
  connectTimeoutHandler?: ReturnType<typeof setTimeout> | null
  connect(): void
  onSocketConnected(): void
  onSocketData(buffer: Buffer): void
  on(event: 'state', f: (state: number) => void): void
}

function internals(client: Zk.Client): ConnectionManagerInternals | undefined {
  const manager = (client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager
  const ok =
    manager &&
    typeof manager.connect === 'function' &&
    typeof manager.onSocketConnected === 'function' &&
    typeof manager.onSocketData === 'function' &&
    'pendingBuffer' in manager
  return ok ? manager : undefined
}

/** A ZooKeeper client whose `close()` is safe in every state. */
export interface ZkClient {
  readonly client: Zk.Client
  /** Ends the session if connected; otherwise stops reconnecting. Never throws. */
  close(): void
}

/**
 * Creates (but does not connect) a client with the fixes above applied.
 *
 * @example
 * ```ts
 * const { client, close } = zkClient('127.0.0.1:2181', { sessionTimeout: 10_000 })
 * client.connect()
 * close()
 * ```
 */
export function zkClient(connectString: string, options: Partial<Zk.Option>): ZkClient {
  const client = zookeeper.createClient(connectString, options)
  const handshakeTimeoutMs = Math.max(500, Math.floor((options.sessionTimeout ?? 30_000) / 3))
  const manager = internals(client)
  let closed = false
  if (manager) {
    const { connect, onSocketConnected, onSocketData: read } = manager
    // After close() nothing reconnects, and a connection attempt that was already scheduled is
    // dropped as soon as it connects. (connect() binds the socket handlers from the instance each
    // time, so these wrappers are what run.)
    manager.connect = function (this: ConnectionManagerInternals) {
      if (!closed) connect.call(this)
    }
    manager.onSocketConnected = function (this: ConnectionManagerInternals) {
      if (closed) {
        this.socket?.destroy()
        return
      }
      onSocketConnected.call(this)
      const socket = this.socket
      const handshake = setTimeout(() => {
        if (this.socket === socket && this.state === STATE.CONNECTING) socket?.destroy()
      }, handshakeTimeoutMs)
      handshake.unref()
    }
    manager.onSocketData = function (this: ConnectionManagerInternals, buffer: Buffer) {
      if (closed) {
        this.socket?.destroy()
        return
      }
      try {
        read.call(this, buffer)
      } catch {
        // A misread packet: drop the connection; the client reconnects and resumes its session.
        this.pendingBuffer = null
        this.socket?.destroy()
      }
    }
    manager.on('state', (state) => {
      if (state === STATE.DISCONNECTED) manager.pendingBuffer = null
    })
  }
  return {
    client,
    close() {
      if (closed) return
      closed = true
      if (!manager || manager.state === STATE.CONNECTED || manager.state === STATE.CONNECTED_READ_ONLY) {
        try {
          client.close()
        } catch {
          manager?.socket?.destroy()
        }
        return
      }
      // Not connected: there is no session to end; stop the current attempt. The wrappers above
      // keep any later one from happening.
      manager.state = STATE.CLOSING
      if (manager.connectTimeoutHandler) clearTimeout(manager.connectTimeoutHandler)
      manager.socket?.destroy()
    },
  }
}
