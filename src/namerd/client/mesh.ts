import { readFileSync } from 'node:fs'
import type * as Grpc from '@grpc/grpc-js'
import { Activity, type ActivityState } from '../../core/activity.js'
import { type Cancel, type Scheduler, systemScheduler } from '../../core/clock.js'
import { SwitchboardError } from '../../core/errors.js'
import { type Random, systemRandom } from '../../core/random.js'
import { Var } from '../../core/var.js'
import { Addr } from '../../naming/addr.js'
import type { DelegateTree } from '../../naming/delegate-tree.js'
import type { Dtab } from '../../naming/dtab.js'
import type { Delegator, NameInterpreter } from '../../naming/interpreter.js'
import type { NameBound } from '../../naming/name.js'
import { NameTree } from '../../naming/nametree.js'
import { Path } from '../../naming/path.js'
import { Backoff } from '../../retry/backoff.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import {
  boundTreeFromWire,
  delegateTreeFromWire,
  dtabFromWire,
  dtabToWire,
  pathToWire,
  pathTreeToWire,
  replicasFromWire,
  type WireBoundDelegateTree,
  type WireBoundNameTree,
  type WireDtab,
  type WireReplicas,
} from '../mesh/convert.js'
import { loadMeshGrpc, type MeshGrpc } from '../mesh/proto.js'

/** Client TLS for the mesh interpreter (linkerd's client `tls` block, the parts gRPC supports). */
export interface MeshClientTls {
  /** PEM CA certificates namerd's certificate must chain to (default: the system's). */
  readonly trustCerts?: readonly string[] | undefined
  /** The name namerd's certificate must carry (default: the host of the target). */
  readonly commonName?: string | undefined
  /** Skip verifying namerd's certificate (tests only). */
  readonly disableValidation?: boolean | undefined
  /** A client certificate and key (PEM paths), for a namerd that requires client auth. */
  readonly clientAuth?: { readonly certPath: string; readonly keyPath: string } | undefined
}

/** Options of `meshInterpreter`. */
export interface MeshInterpreterOptions {
  /** namerd's mesh interface as a gRPC target, e.g. `127.0.0.1:4321`. */
  readonly target: string
  /** `/<namespace>` (or the bare namespace) whose dtab applies (default `/default`). */
  readonly root?: Path | string | undefined
  /**
   * Delays between reconnection attempts while namerd cannot be reached (default: equal jitter
   * from 100 ms up to 800 ms). A stream that delivered answers reopens at once when it ends.
   */
  readonly backoff?: Backoff | undefined
  readonly tls?: MeshClientTls | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  readonly stats?: StatsReceiver | undefined
  /** Told about every stream failure (the interpreter keeps retrying and keeps its last answers). */
  readonly onError?: ((error: MeshStreamError) => void) | undefined
  /** Extra `@grpc/grpc-js` channel options (`grpc.keepalive_time_ms`, ...). */
  readonly channelOptions?: Readonly<Record<string, string | number>> | undefined
}

/** A `NameInterpreter` (and `Delegator`) answered by namerd's mesh interface. */
export interface MeshInterpreter extends NameInterpreter, Delegator {
  /** namerd's dtab of the root namespace, live (fails while the namespace does not exist). */
  dtab(): Activity<Dtab>
  /** Resolves when gRPC is loaded; rejects with `MissingDependencyError` without `@grpc/grpc-js`. */
  ready(): Promise<void>
  /** Stops every stream and closes the connection. */
  close(): Promise<void>
}

/**
 * A mesh call to namerd failed: namerd unreachable, a gRPC status, or an answer that does not
 * decode. The interpreter reconnects with backoff and keeps the last good answer meanwhile.
 *
 * @example
 * ```ts
 * meshInterpreter({ target, onError: (e) => log.warn(e.message) })
 * // io.linkerd.mesh.Interpreter/StreamBoundTree /svc/users: 14 UNAVAILABLE: No connection established
 * ```
 */
export class MeshStreamError extends SwitchboardError {
  /** The gRPC method, e.g. `io.linkerd.mesh.Resolver/StreamReplicas`. */
  readonly method: string
  /** The gRPC status code, when the failure was one. */
  readonly grpcCode: number | undefined
  constructor(method: string, detail: string, grpcCode?: number, options?: { cause?: unknown }) {
    super('MeshStreamError', `${method}: ${detail}`, options)
    this.method = method
    this.grpcCode = grpcCode
  }
}

/** The namerd namespace of a `root`: exactly one segment. */
function rootPath(root: Path | string | undefined): Path {
  const p =
    root === undefined
      ? Path.of('default')
      : root instanceof Path
        ? root
        : root.startsWith('/')
          ? Path.read(root)
          : Path.of(root)
  if (p.size !== 1)
    throw new SwitchboardError(
      'InvalidMeshRoot',
      `io.l5d.mesh: root may only contain a single path element, found ${p.show()}`,
    )
  return p
}

const INVALID_ARGUMENT = 3

type StreamingCall = Grpc.ClientReadableStream<unknown>

/**
 * A `NameInterpreter` that asks namerd's `io.l5d.mesh` gRPC interface (linkerd's `io.l5d.mesh`
 * interpreter): `bind(dtab, path)` streams `Interpreter/StreamBoundTree` and every bound id's
 * endpoints stream `Resolver/StreamReplicas`, all on one HTTP/2 connection, so a dtab or endpoint
 * change in namerd reaches the client as one pushed message.
 *
 * Built to keep routing through a namerd outage: a failed stream is reopened with jittered backoff
 * forever, and meanwhile every name keeps its last good tree and addresses. A name first asked for
 * while namerd is down stays pending until namerd answers (a request for it waits for its binding
 * timeout). Streams run only while someone observes the name; trees and addr vars are shared by
 * every observer of the same (dtab, path) or id. `@grpc/grpc-js` and `@grpc/proto-loader` are
 * optional peer dependencies, loaded on first use.
 *
 * @example
 * ```ts
 * const interpreter = meshInterpreter({ target: '127.0.0.1:4321', root: '/default' })
 * const client = createClient({ interpreter, identifier: headerToken() })
 * await client.fetch('http://users/')
 * await client.close(); await interpreter.close()
 * ```
 */
export function meshInterpreter(options: MeshInterpreterOptions): MeshInterpreter {
  const root = rootPath(options.root)
  const wireRoot = pathToWire(root)
  const scheduler = options.scheduler ?? systemScheduler
  const random = options.random ?? systemRandom
  const backoff = options.backoff ?? Backoff.equalJitter(100, 800, random)
  const stats = options.stats ?? nullStats
  const failures = stats.counter('stream_failures')
  const opens = stats.counter('connects')
  const live = new Set<() => void>()
  const unGauge = stats.gauge('streams', () => live.size)
  let closed = false

  interface Clients {
    readonly mesh: MeshGrpc
    readonly interpreter: Grpc.Client
    readonly resolver: Grpc.Client
    readonly delegator: Grpc.Client
  }
  let clients: Clients | undefined
  const loading: Promise<Clients> = loadMeshGrpc('the io.l5d.mesh interpreter').then((mesh) => {
    const { grpc } = mesh
    const tls = options.tls
    let credentials: Grpc.ChannelCredentials
    const channelOptions: Grpc.ChannelOptions = {
      // Come back quickly after a namerd restart (grpc-js defaults to 1 s growing to 120 s).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 5_000,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      ...options.channelOptions,
    }
    if (tls === undefined) credentials = grpc.credentials.createInsecure()
    else {
      const ca = tls.trustCerts?.length ? Buffer.concat(tls.trustCerts.map((p) => readFileSync(p))) : null
      const key = tls.clientAuth ? readFileSync(tls.clientAuth.keyPath) : null
      const cert = tls.clientAuth ? readFileSync(tls.clientAuth.certPath) : null
      credentials = grpc.credentials.createSsl(
        ca,
        key,
        cert,
        tls.disableValidation ? { checkServerIdentity: () => undefined, rejectUnauthorized: false } : {},
      )
      if (tls.commonName !== undefined) channelOptions['grpc.ssl_target_name_override'] = tls.commonName
    }
    const interpreter = new mesh.Interpreter(options.target, credentials, channelOptions)
    const shared = { ...channelOptions, channelOverride: interpreter.getChannel() }
    const c: Clients = {
      mesh,
      interpreter,
      resolver: new mesh.Resolver(options.target, credentials, shared),
      delegator: new mesh.Delegator(options.target, credentials, shared),
    }
    clients = c
    if (closed) interpreter.close()
    return c
  })
  // A missing dependency is reported through every activity; do not leave it unhandled here.
  loading.catch(() => {})

  /**
   * Keeps one server stream open: each message goes to `onMessage` (which throws on a bad one);
   * failures reopen after the next backoff delay, a clean end after answers reopens at once.
   * `onFatal` is told about a failure that retrying cannot fix before anything was delivered.
   */
  const stream = (
    method: string,
    start: (c: Clients) => StreamingCall,
    onMessage: (msg: unknown) => void,
    onFatal: (error: unknown) => void,
  ): (() => void) => {
    let stopped = false
    let call: StreamingCall | undefined
    let timer: Cancel | undefined
    let walk = backoff[Symbol.iterator]()
    let everDelivered = false
    const stop = () => {
      if (stopped) return
      stopped = true
      live.delete(stop)
      timer?.()
      call?.cancel()
    }
    live.add(stop)
    const retry = (delivered: boolean) => {
      if (stopped) return
      const next = walk.next()
      const delay = delivered ? 0 : next.done ? 1000 : next.value
      timer = scheduler.setTimeout(connect, delay)
    }
    const connect = () => {
      timer = undefined
      if (stopped) return
      loading.then(
        (c) => {
          if (stopped) return
          opens.incr()
          let delivered = false
          let done = false
          const current = start(c)
          call = current
          const finish = (error?: MeshStreamError) => {
            if (done) return
            done = true
            current.removeAllListeners('data')
            if (stopped) return
            if (error) {
              failures.incr()
              options.onError?.(error)
              if (!everDelivered && error.grpcCode === INVALID_ARGUMENT) onFatal(error)
            }
            retry(delivered)
          }
          current.on('data', (msg: unknown) => {
            if (stopped || done) return
            try {
              onMessage(msg)
            } catch (error) {
              current.cancel()
              finish(
                new MeshStreamError(method, `bad answer: ${(error as Error).message}`, undefined, {
                  cause: error,
                }),
              )
              return
            }
            delivered = true
            everDelivered = true
            walk = backoff[Symbol.iterator]()
          })
          current.on('error', (e: Grpc.ServiceError) =>
            finish(new MeshStreamError(method, e.message, e.code, { cause: e })),
          )
          current.on('end', () => finish())
        },
        (error: unknown) => {
          if (stopped) return
          failures.incr()
          onFatal(error)
        },
      )
    }
    connect()
    return stop
  }

  const methodName = (service: string, m: string) => `io.linkerd.mesh.${service}/${m}`
  const startStream = (client: Grpc.Client, m: string, req: unknown): StreamingCall =>
    (client as unknown as Record<string, (req: unknown) => StreamingCall>)[m]!(req)

  // An addr var per bound id, shared by every tree that names it; kept while observed, so the
  // last good addresses survive a namerd outage.
  const addrs = new Map<string, Var<Addr>>()
  const addrOf = (id: Path): Var<Addr> => {
    const key = id.show()
    const existing = addrs.get(key)
    if (existing) return existing
    const method = methodName('Resolver', 'StreamReplicas')
    const v: Var<Addr> = Var.async<Addr>(Addr.Pending, (update) => {
      addrs.set(key, v)
      const stop = stream(
        `${method} ${key}`,
        (c) => startStream(c.resolver, 'StreamReplicas', { id: pathToWire(id) }),
        (msg) => {
          const a = replicasFromWire(msg as WireReplicas)
          // A pending answer never replaces a known one.
          if (a.kind !== 'pending') update(a)
        },
        (error) => update(Addr.failed(error)),
      )
      // Unobserved names leave the table, so it holds only what is in use.
      return () => {
        stop()
        if (addrs.get(key) === v) addrs.delete(key)
      }
    })
    addrs.set(key, v)
    return v
  }

  const binds = new Map<string, Activity<NameTree<NameBound>>>()
  const bind = (dtab: Dtab, path: Path): Activity<NameTree<NameBound>> => {
    if (closed)
      return Activity.exception(new SwitchboardError('MeshInterpreterClosed', 'mesh interpreter is closed'))
    const key = `${dtab.show()}\u0000${path.show()}`
    const existing = binds.get(key)
    if (existing) return existing
    const method = methodName('Interpreter', 'StreamBoundTree')
    const req = { root: wireRoot, name: pathToWire(path), dtab: dtabToWire(dtab) }
    const a: Activity<NameTree<NameBound>> = Activity.of(
      Var.async<ActivityState<NameTree<NameBound>>>({ kind: 'pending' }, (update) => {
        binds.set(key, a)
        const stop = stream(
          `${method} ${path.show()}`,
          (c) => startStream(c.interpreter, 'StreamBoundTree', req),
          (msg) => {
            const t = boundTreeFromWire((msg as { tree?: WireBoundNameTree }).tree, addrOf)
            update({ kind: 'ok', value: t })
          },
          (error) => update({ kind: 'failed', error }),
        )
        return () => {
          stop()
          if (binds.get(key) === a) binds.delete(key)
        }
      }),
    ).dedup((x, y) => NameTree.equals(x, y, (p, q) => p.equals(q) && p.path.equals(q.path)))
    binds.set(key, a)
    return a
  }

  let dtabActivity: Activity<Dtab> | undefined
  const dtab = (): Activity<Dtab> => {
    dtabActivity ??= Activity.of(
      Var.async<ActivityState<Dtab>>({ kind: 'pending' }, (update) =>
        stream(
          methodName('Delegator', 'StreamDtab'),
          (c) => startStream(c.delegator, 'StreamDtab', { root: wireRoot }),
          (msg) =>
            update({
              kind: 'ok',
              value: dtabFromWire((msg as { dtab?: { dtab?: WireDtab } }).dtab?.dtab),
            }),
          (error) => update({ kind: 'failed', error }),
        ),
      ),
    )
    return dtabActivity
  }

  const delegate = (d: Dtab, path: Path): Activity<DelegateTree<NameBound>> => {
    const method = methodName('Delegator', 'GetDelegateTree')
    const req = { root: wireRoot, tree: pathTreeToWire(NameTree.leaf(path)), dtab: dtabToWire(d) }
    return Activity.of(
      Var.async<ActivityState<DelegateTree<NameBound>>>({ kind: 'pending' }, (update) => {
        let call: Grpc.ClientUnaryCall | undefined
        let cancelled = false
        loading.then(
          (c) => {
            if (cancelled) return
            type Unary = (
              this: Grpc.Client,
              req: unknown,
              callback: (error: Grpc.ServiceError | null, rsp?: { tree?: WireBoundDelegateTree }) => void,
            ) => Grpc.ClientUnaryCall
            const fn = (c.delegator as unknown as Record<string, Unary>)['GetDelegateTree']!
            call = fn.call(c.delegator, req, (error, rsp) => {
              if (cancelled) return
              if (error) {
                update({ kind: 'failed', error: new MeshStreamError(method, error.message, error.code) })
                return
              }
              try {
                update({ kind: 'ok', value: delegateTreeFromWire(rsp?.tree, addrOf) })
              } catch (e) {
                update({ kind: 'failed', error: e })
              }
            })
          },
          (error: unknown) => update({ kind: 'failed', error }),
        )
        return () => {
          cancelled = true
          call?.cancel()
        }
      }),
    )
  }

  return {
    bind,
    delegate,
    dtab,
    async ready() {
      await loading
    },
    async close() {
      if (closed) return
      closed = true
      for (const stop of [...live]) stop()
      unGauge()
      clients?.interpreter.close()
    },
  }
}
