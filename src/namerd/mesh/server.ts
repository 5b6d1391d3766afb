import { readFileSync } from 'node:fs'
import type * as Grpc from '@grpc/grpc-js'
import { Activity, type ActivityState } from '../../core/activity.js'
import { type Scheduler, systemScheduler } from '../../core/clock.js'
import { Var } from '../../core/var.js'
import { Addr } from '../../naming/addr.js'
import { Dtab } from '../../naming/dtab.js'
import { configuredDtabInterpreter, defaultInterpreter } from '../../naming/interpreter.js'
import type { NameBound } from '../../naming/name.js'
import type { NameTree } from '../../naming/nametree.js'
import { Path } from '../../naming/path.js'
import { NamerRegistry } from '../../naming/registry.js'
import type { SystemNamerOptions } from '../../naming/system/index.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import type { ServerTlsSpec } from '../http/listen.js'
import { type ConfiguredNamer, stripTransformerPrefix } from '../http/names.js'
import { namespaceProblem } from '../store/namespace.js'
import type { DtabStore } from '../store/store.js'
import {
  boundTreeToWire,
  delegateTreeToWire,
  dtabFromWire,
  dtabToWire,
  MeshDecodeError,
  pathFromWire,
  pathToWire,
  pathTreeFromWire,
  replicasToWire,
  type WireDtab,
  type WirePath,
  type WirePathNameTree,
} from './convert.js'
import { loadMeshGrpc } from './proto.js'

/** Options of `meshInterface`. */
export interface MeshInterfaceOptions {
  readonly store: DtabStore
  readonly namers?: readonly ConfiguredNamer[] | undefined
  readonly system?: SystemNamerOptions | undefined
  /** Default `127.0.0.1`. */
  readonly ip?: string | undefined
  /** Default 4321 (namerd's); 0 picks a free port. */
  readonly port?: number | undefined
  /** Serve gRPC over TLS (linkerd's server `tls` block; `ciphers` are not configurable in gRPC). */
  readonly tls?: ServerTlsSpec | undefined
  readonly stats?: StatsReceiver | undefined
  readonly scheduler?: Scheduler | undefined
  /** How long `GetDelegateTree` waits for an answer (default 2000 ms, as the HTTP API). */
  readonly delegateTimeoutMs?: number | undefined
  /** Largest request message accepted, in bytes (default 1 MiB). */
  readonly maxRequestBytes?: number | undefined
  /** Most concurrent calls on one connection (default 10 000). */
  readonly maxConcurrentStreams?: number | undefined
}

/** A running mesh interface. */
export interface MeshListening {
  readonly kind: 'io.l5d.mesh'
  /** The bound address (the real port when 0 was asked for). */
  readonly address: { readonly address: string; readonly port: number }
  /** `host:port` as a gRPC target (`[v6]:port` for IPv6). */
  readonly target: string
  /** Open streaming calls. */
  readonly streams: number
  /** Ends every stream and stops the server; idempotent. */
  close(): Promise<void>
}

interface Status {
  code: number
  details: string
}

/** The gRPC status codes used here (the numbers are fixed by the gRPC spec). */
const Code = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  UNKNOWN: 2,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const

const status = (code: number, details: string): Status => ({ code, details })
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))

// linkerd's messages (namerd/iface/mesh Errors).
const NoRoot = () => status(Code.INVALID_ARGUMENT, 'No namespace specified')
const RootNotFound = () => status(Code.NOT_FOUND, 'Root not found')
const NoName = () => status(Code.NOT_FOUND, 'No name given')
const InvalidRoot = (p: Path) =>
  status(Code.INVALID_ARGUMENT, `Invalid root: \`${p.show()}\` must have exactly one segment`)

class StatusError extends Error {
  readonly status: Status
  constructor(s: Status) {
    super(s.details)
    this.status = s
  }
}

const toStatus = (e: unknown): Status => {
  if (e instanceof StatusError) return e.status
  if (e instanceof MeshDecodeError) return status(Code.INVALID_ARGUMENT, e.message)
  if (e instanceof Error && (e as { code?: unknown }).code === 'InvalidLabel')
    return status(Code.INVALID_ARGUMENT, e.message)
  return status(Code.UNKNOWN, messageOf(e))
}

/** The namespace a `root` names: exactly one segment, a valid namespace. */
function namespaceOf(root: WirePath | null | undefined): string {
  if (root === undefined || root === null) throw new StatusError(NoRoot())
  const p = pathFromWire(root, 'root')
  if (p.size !== 1) throw new StatusError(InvalidRoot(p))
  const ns = p.segments[0]!
  const problem = namespaceProblem(ns)
  if (problem !== undefined)
    throw new StatusError(
      status(Code.INVALID_ARGUMENT, `invalid dtab namespace ${JSON.stringify(ns)}: ${problem}`),
    )
  return ns
}

/** A non-empty name, or NOT_FOUND "No name given". */
function nameOf(name: WirePath | null | undefined): Path {
  if (name === undefined || name === null || (name.elems ?? []).length === 0) throw new StatusError(NoName())
  return pathFromWire(name, 'name')
}

/** An activity as an addr: pending stays pending. */
function addrActivity(addr: Var<Addr>): Activity<Addr> {
  return Activity.of(
    addr.map(
      (a): ActivityState<Addr> => (a.kind === 'pending' ? { kind: 'pending' } : { kind: 'ok', value: a }),
    ),
  )
}

/**
 * namerd's `io.l5d.mesh` interface: linkerd's gRPC API (package `io.linkerd.mesh`) on
 * `@grpc/grpc-js`, serving
 *
 * - `Interpreter`: `GetBoundTree` / `StreamBoundTree` bind a name under the namespace's dtab (root
 *   `/<namespace>`) plus the request's dtab;
 * - `Resolver`: `GetReplicas` / `StreamReplicas` give a bound id's endpoints;
 * - `Delegator`: `GetDtab` / `StreamDtab` and `GetDelegateTree` / `StreamDelegateTree`;
 * - `Codec`: reading and showing dtabs and paths.
 *
 * Streams push every change as it happens and never repeat an answer identical to the one before;
 * a client that reads slowly gets the latest answer when it catches up. An unknown namespace binds
 * with an empty dtab (as the HTTP API), except for the dtab calls (NOT_FOUND `Root not found`).
 * `@grpc/grpc-js` and `@grpc/proto-loader` are optional peer dependencies; without them this
 * rejects with `MissingDependencyError`.
 *
 * @example
 * ```ts
 * const mesh = await meshInterface({ store, namers: [{ prefix: fs.prefix, namer: fs }], port: 4321 })
 * console.log(mesh.target) // 127.0.0.1:4321
 * await mesh.close()
 * ```
 */
export async function meshInterface(options: MeshInterfaceOptions): Promise<MeshListening> {
  const { grpc, Codec, Interpreter, Resolver, Delegator } = await loadMeshGrpc('the io.l5d.mesh interface')
  const { store } = options
  const stats = options.stats ?? nullStats
  const scheduler = options.scheduler ?? systemScheduler
  const delegateTimeoutMs = options.delegateTimeoutMs ?? 2000
  const namers = NamerRegistry.of(
    (options.namers ?? []).map((n) => ({ prefix: n.prefix, namer: n.namer })),
    options.system ?? {},
  )
  const global = defaultInterpreter({ namers })
  const interpreterOf = (ns: string) =>
    configuredDtabInterpreter(
      store.observe(ns).map((v) => v?.dtab ?? Dtab.empty),
      { namers },
    )

  /**
   * One observation per distinct question, however many streams ask it: the activity runs while
   * observed and leaves the table when its last observer goes (so the table is bounded by the open
   * streams). Every stream then sees the same value objects, whose encoding is cached below.
   */
  const sharedActs = new Map<string, Activity<unknown>>()
  const shared = <T>(key: string, make: () => Activity<T>): Activity<T> => {
    const existing = sharedActs.get(key)
    if (existing) return existing as Activity<T>
    const inner = make()
    const a = Activity.of(
      Var.async<ActivityState<T>>({ kind: 'pending' }, (update) => {
        sharedActs.set(key, a as Activity<unknown>)
        const stop = inner.states.observe(update)
        return () => {
          stop()
          if (sharedActs.get(key) === a) sharedActs.delete(key)
        }
      }),
    )
    return a
  }
  /** Encoded answers per method and value object: a change fanned out to many streams is encoded once. */
  const encodings = new Map<string, WeakMap<object, Buffer>>()

  const open = new Set<() => void>()
  const unGauge = stats.gauge('streams', () => open.size)
  const counters = new Map<string, ReturnType<StatsReceiver['counter']>>()
  const count = (name: string) => {
    let c = counters.get(name)
    if (!c) {
      c = stats.counter(`${name}/requests`)
      counters.set(name, c)
    }
    c.incr()
  }
  const failures = stats.counter('failures')

  const addrOfId = (id: Path): Activity<Addr> =>
    global.bind(Dtab.empty, stripTransformerPrefix(id)).flatMap((tree) => {
      switch (tree.kind) {
        case 'leaf':
          return addrActivity(tree.value.addr)
        case 'empty':
          return Activity.value(Addr.bound([]))
        case 'neg':
          return Activity.value(Addr.Neg)
        case 'fail':
          return Activity.value(Addr.failed('name tree failed'))
        default:
          return Activity.value(Addr.failed(`${id.show()} is not a concrete bound id`))
      }
    })

  /** Runs a unary call: `answer` resolves the response or throws a status. */
  const unary =
    <Req, Rsp>(name: string, answer: (req: Req, signal: AbortSignal) => Promise<Rsp>) =>
    (
      call: Grpc.ServerUnaryCall<Req, Rsp>,
      callback: (error: Partial<Grpc.StatusObject> | null, value?: Rsp) => void,
    ) => {
      count(name)
      const controller = new AbortController()
      call.on('cancelled', () => controller.abort(new Error('cancelled')))
      answer(call.request, controller.signal).then(
        (rsp) => callback(null, rsp),
        (error: unknown) => {
          failures.incr()
          callback(toStatus(error))
        },
      )
    }

  /**
   * Runs a server-streaming call over an activity: one message per distinct value (compared by
   * its encoded bytes), conflated when the client reads slowly; a failure ends the call with a
   * status; the observation stops when the client cancels or the server closes.
   */
  const streaming =
    <Req, T>(
      name: string,
      method: { responseSerialize(value: unknown): Buffer },
      watch: (req: Req) => Activity<T>,
      toWire: (value: T) => object,
      onFailure: (error: unknown) => Status = toStatus,
    ) =>
    (call: Grpc.ServerWritableStream<Req, object>) => {
      count(name)
      let encoded = encodings.get(name)
      if (!encoded) {
        encoded = new WeakMap()
        encodings.set(name, encoded)
      }
      let activity: Activity<T>
      try {
        activity = watch(call.request)
      } catch (error) {
        failures.incr()
        call.emit('error', toStatus(error))
        return
      }
      let finished = false
      let last: Buffer | undefined
      let blocked = false
      let queued: Buffer | undefined
      let dispose: (() => void) | undefined
      const stop = (s?: Status) => {
        if (finished) return
        finished = true
        open.delete(cancel)
        call.off('drain', onDrain)
        dispose?.()
        if (call.cancelled || call.destroyed) return
        if (s === undefined) call.end()
        else call.emit('error', s)
      }
      const cancel = () => stop(status(Code.UNAVAILABLE, 'namerd is shutting down'))
      const write = (msg: Buffer) => {
        if (blocked) {
          queued = msg
          return
        }
        if (!call.write(msg)) blocked = true
      }
      const onDrain = () => {
        blocked = false
        const next = queued
        queued = undefined
        if (next !== undefined && !finished) write(next)
      }
      open.add(cancel)
      call.on('drain', onDrain)
      call.on('cancelled', () => stop())
      call.on('error', () => stop())
      dispose = activity.observe((state) => {
        if (finished || state.kind === 'pending') return
        if (state.kind === 'failed') {
          failures.incr()
          stop(onFailure(state.error))
          return
        }
        const value = state.value
        let bytes = typeof value === 'object' && value !== null ? encoded!.get(value) : undefined
        if (bytes === undefined) {
          try {
            bytes = method.responseSerialize(toWire(value))
          } catch (error) {
            stop(status(Code.INTERNAL, messageOf(error)))
            return
          }
          if (typeof value === 'object' && value !== null) encoded!.set(value, bytes)
        }
        if (last === bytes || last?.equals(bytes)) return
        last = bytes
        write(bytes)
      })
      if (finished) dispose()
    }

  // ---- Interpreter ----
  interface BindReq {
    root?: WirePath | null
    name?: WirePath | null
    dtab?: WireDtab | null
  }
  const bindOf = (req: BindReq) => {
    const ns = namespaceOf(req.root)
    const name = nameOf(req.name)
    const dtab = dtabFromWire(req.dtab)
    return shared(`bind\u0000${ns}\u0000${dtab.show()}\u0000${name.show()}`, () =>
      interpreterOf(ns).bind(dtab, name),
    )
  }
  const boundTreeRsp = (t: NameTree<NameBound>) => ({ tree: boundTreeToWire(t) })
  const interpreterImpl = {
    GetBoundTree: unary<BindReq, object>('Interpreter/GetBoundTree', async (req, signal) =>
      boundTreeRsp(await bindOf(req).toPromise(signal)),
    ),
    StreamBoundTree: streaming<BindReq, NameTree<NameBound>>(
      'Interpreter/StreamBoundTree',
      Interpreter.service['StreamBoundTree']!,
      bindOf,
      boundTreeRsp,
    ),
  }

  // ---- Resolver ----
  interface ReplicasReq {
    id?: WirePath | null
  }
  const NoId = { failed: { message: 'No ID provided' } }
  const resolverImpl = {
    GetReplicas: unary<ReplicasReq, object>('Resolver/GetReplicas', async (req, signal) => {
      if (!req.id || (req.id.elems ?? []).length === 0) return NoId
      return replicasToWire(await addrOfId(pathFromWire(req.id, 'id')).toPromise(signal))
    }),
    StreamReplicas: streaming<ReplicasReq, Addr | undefined>(
      'Resolver/StreamReplicas',
      Resolver.service['StreamReplicas']!,
      (req) => {
        if (!req.id || (req.id.elems ?? []).length === 0) return Activity.value(undefined)
        const id = pathFromWire(req.id, 'id')
        return shared(`addr\u0000${id.show()}`, () => addrOfId(id))
      },
      (a) => (a === undefined ? NoId : replicasToWire(a)),
    ),
  }

  // ---- Delegator ----
  interface DtabReq {
    root?: WirePath | null
  }
  interface DelegateTreeReq {
    root?: WirePath | null
    tree?: WirePathNameTree | null
    dtab?: WireDtab | null
  }
  const dtabRsp = (v: { dtab: Dtab; version: Uint8Array }) => ({
    dtab: { version: { id: Buffer.from(v.version) }, dtab: dtabToWire(v.dtab) },
  })
  const delegateOf = (req: DelegateTreeReq) => {
    const ns = namespaceOf(req.root)
    if (req.tree === undefined || req.tree === null) throw new StatusError(NoName())
    const tree = pathTreeFromWire(req.tree, 'tree')
    if (tree.kind !== 'leaf')
      throw new StatusError(
        status(Code.INVALID_ARGUMENT, 'tree: only a single path (a leaf) can be delegated'),
      )
    return interpreterOf(ns).delegate(dtabFromWire(req.dtab), tree.value)
  }
  const getDelegateTree = async (req: DelegateTreeReq, signal: AbortSignal) => {
    const activity = delegateOf(req)
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal.reason)
    signal.addEventListener('abort', onAbort)
    let timedOut = false
    const cancel = scheduler.setTimeout(() => {
      timedOut = true
      controller.abort(new Error('Request timed out.'))
    }, delegateTimeoutMs)
    try {
      return { tree: delegateTreeToWire(await activity.toPromise(controller.signal)) }
    } catch (error) {
      if (timedOut) throw new StatusError(status(Code.DEADLINE_EXCEEDED, 'Request timed out.'))
      throw error
    } finally {
      cancel()
      signal.removeEventListener('abort', onAbort)
    }
  }
  const delegatorImpl = {
    GetDtab: unary<DtabReq, object>('Delegator/GetDtab', async (req, signal) => {
      const v = await store.observe(namespaceOf(req.root)).toPromise(signal)
      if (v === undefined) throw new StatusError(RootNotFound())
      return dtabRsp(v)
    }),
    StreamDtab: streaming<DtabReq, { dtab: Dtab; version: Uint8Array } | undefined>(
      'Delegator/StreamDtab',
      Delegator.service['StreamDtab']!,
      (req) => {
        const ns = namespaceOf(req.root)
        return shared(`dtab\u0000${ns}`, () =>
          store
            .observe(ns)
            .flatMap((v) =>
              v === undefined ? Activity.exception(new StatusError(RootNotFound())) : Activity.value(v),
            ),
        )
      },
      (v) => dtabRsp(v!),
      (e) => (e instanceof StatusError ? e.status : status(Code.INTERNAL, messageOf(e))),
    ),
    GetDelegateTree: unary<DelegateTreeReq, object>('Delegator/GetDelegateTree', getDelegateTree),
    // linkerd answers this deprecated stream with one value.
    StreamDelegateTree: (call: Grpc.ServerWritableStream<DelegateTreeReq, object>) => {
      count('Delegator/StreamDelegateTree')
      const controller = new AbortController()
      call.on('cancelled', () => controller.abort(new Error('cancelled')))
      getDelegateTree(call.request, controller.signal).then(
        (rsp) => {
          if (call.cancelled) return
          call.write(rsp)
          call.end()
        },
        (error: unknown) => {
          failures.incr()
          if (!call.cancelled) call.emit('error', toStatus(error))
        },
      )
    },
  }

  // ---- Codec ----
  const codecImpl = {
    ReadDtab: unary<{ text?: string | null }, object>('Codec/ReadDtab', async (req) => {
      const d = Dtab.parse(req.text ?? '')
      if (d._tag === 'Left') throw new StatusError(status(Code.INVALID_ARGUMENT, d.left.message))
      return { dtab: dtabToWire(d.right) }
    }),
    ShowDtab: unary<{ dtab?: WireDtab | null }, object>('Codec/ShowDtab', async (req) =>
      req.dtab ? { text: dtabFromWire(req.dtab).show() } : {},
    ),
    ReadPath: unary<{ text?: string | null }, object>('Codec/ReadPath', async (req) => {
      const p = Path.parse(req.text ?? '/')
      if (p._tag === 'Left') throw new StatusError(status(Code.INVALID_ARGUMENT, p.left.message))
      return { path: pathToWire(p.right) }
    }),
    ShowPath: unary<{ path?: WirePath | null }, object>('Codec/ShowPath', async (req) =>
      req.path ? { text: pathFromWire(req.path).show() } : {},
    ),
  }

  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxRequestBytes ?? 1024 * 1024,
    'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? 10_000,
    // Let a router with many watches keep its connection: answer pings, drop dead peers.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  })
  /** A service definition whose streams may also be handed bytes already encoded. */
  const preEncoded = (svc: Grpc.ServiceDefinition): Grpc.ServiceDefinition =>
    Object.fromEntries(
      Object.entries(svc).map(([k, d]) => [
        k,
        { ...d, responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : d.responseSerialize(v)) },
      ]),
    )
  server.addService(Codec.service, codecImpl as unknown as Grpc.UntypedServiceImplementation)
  server.addService(
    preEncoded(Interpreter.service),
    interpreterImpl as unknown as Grpc.UntypedServiceImplementation,
  )
  server.addService(
    preEncoded(Resolver.service),
    resolverImpl as unknown as Grpc.UntypedServiceImplementation,
  )
  server.addService(
    preEncoded(Delegator.service),
    delegatorImpl as unknown as Grpc.UntypedServiceImplementation,
  )

  const credentials = serverCredentials(grpc, options.tls)
  const ip = options.ip ?? '127.0.0.1'
  const host = ip.includes(':') ? `[${ip}]` : ip
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 4321}`, credentials, (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  ).catch((error: unknown) => {
    unGauge()
    server.forceShutdown()
    throw error
  })

  let closing: Promise<void> | undefined
  return {
    kind: 'io.l5d.mesh',
    address: { address: ip, port },
    target: `${host}:${port}`,
    get streams() {
      return open.size
    },
    close() {
      closing ??= (async () => {
        for (const stop of [...open]) stop()
        unGauge()
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            server.forceShutdown()
            resolve()
          }, 1000)
          server.tryShutdown(() => {
            clearTimeout(t)
            resolve()
          })
        })
      })()
      return closing
    },
  }
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Error(`tls.${what}: cannot read ${JSON.stringify(path)}: ${messageOf(error)}`)
  }
}

function serverCredentials(grpc: typeof Grpc, tls: ServerTlsSpec | undefined): Grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure()
  const ca = tls.caCertPath !== undefined ? readPem('caCertPath', tls.caCertPath) : null
  return grpc.ServerCredentials.createSsl(
    ca,
    [{ private_key: readPem('keyPath', tls.keyPath), cert_chain: readPem('certPath', tls.certPath) }],
    tls.requireClientAuth === true,
  )
}
