import { type Scheduler, systemScheduler } from '../core/clock.js'
import type { Namer } from '../naming/namer.js'
import { type ProcessMetrics, processMetrics } from '../stats/prom-client.js'
import { type InMemoryStats, inMemoryStats } from '../stats/stats.js'
import type { Logger } from '../telemetry/log.js'
import { adminHandler } from './admin.js'
import type { NamerdSpec, PluginContext } from './config.js'
import { httpController } from './http/controller.js'
import { type Listening, listen } from './http/listen.js'
import { nameEndpoints } from './http/names.js'
import { type MeshListening, meshInterface } from './mesh/server.js'
import { hasStoreHealth } from './store/health.js'
import type { DtabStore } from './store/store.js'
import { namerdUi } from './ui.js'

/** Options of `startNamerd`. */
export interface StartNamerdOptions {
  /** Receives every stat; `/admin/metrics.json` exports it (default: a new `inMemoryStats()`). */
  readonly stats?: InMemoryStats | undefined
  readonly scheduler?: Scheduler | undefined
  /** Where non-fatal problems go (default: the logger's `warn`, else `console.error`). */
  readonly log?: ((message: string) => void) | undefined
  /**
   * A structured logger (pino's shape, see `createLogger`): an audit line for every dtab write
   * (`{"event":"dtab.write","action","namespace","version","remoteAddress","outcome"}`, never a
   * token) and the non-fatal problems. Default none.
   */
  readonly logger?: Logger | undefined
  /** The raw configuration, served at `/config.json`. */
  readonly rawConfig?: unknown
  /** Called by `POST /admin/shutdown`. */
  readonly onShutdown?: (() => void) | undefined
  /**
   * Process/runtime metrics on `/admin/metrics/prometheus`: `true` (default) uses prom-client's
   * `collectDefaultMetrics` when prom-client is installed, else a built-in set; `false` none.
   */
  readonly processMetrics?: boolean | ProcessMetrics | undefined
}

/** A running namerd. */
export interface Namerd {
  readonly store: DtabStore
  readonly admin: Listening
  /** One per configured `io.l5d.httpController` interface, in configuration order. */
  readonly interfaces: readonly Listening[]
  /** One per configured `io.l5d.mesh` (gRPC) interface, in configuration order. */
  readonly meshInterfaces: readonly MeshListening[]
  readonly stats: InMemoryStats
  /** Stops the servers (ending watch streams), the namers and the store; idempotent. */
  close(): Promise<void>
}

/**
 * Starts namerd from a decoded configuration: the store, the namers, every HTTP controller
 * interface and the admin server. If any part fails to start, what was started is closed again.
 *
 * @example
 * ```ts
 * const spec = unwrap(decodeConfig(namerdConfigCodec(), parsedYaml))
 * const namerd = await startNamerd(spec)
 * console.log(namerd.interfaces[0]!.url) // http://127.0.0.1:4180
 * await namerd.close()
 * ```
 */
export async function startNamerd(spec: NamerdSpec, options: StartNamerdOptions = {}): Promise<Namerd> {
  const stats = options.stats ?? inMemoryStats()
  const scheduler = options.scheduler ?? systemScheduler
  const logger = options.logger
  const log = options.log ?? (logger ? (m: string) => logger.warn(m) : (m: string) => console.error(m))
  const cleanups: (() => Promise<void> | void)[] = []
  const closeAll = async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  }
  try {
    const store = await spec.storage.make({ stats: stats.scope('store', spec.storage.kind), scheduler, log })
    cleanups.push(() => store.close())
    const namers: { prefix: NamerdSpec['namers'][number]['prefix']; namer: Namer & { names?(): unknown } }[] =
      []
    for (const n of spec.namers) {
      const ctx: PluginContext = { stats: stats.scope('namer', n.prefix.show().slice(1)), scheduler, log }
      const namer = n.make(ctx)
      cleanups.push(() => namer.close?.())
      namers.push({ prefix: n.prefix, namer })
    }
    const names = nameEndpoints({ store, namers, stats: stats.scope('api'), scheduler })
    cleanups.push(() => names.close())
    const interfaces: Listening[] = []
    let firstApi: ReturnType<typeof httpController> | undefined
    const meshInterfaces: MeshListening[] = []
    const meshCount = spec.interfaces.filter((i) => i.kind === 'io.l5d.mesh').length
    const httpCount = spec.interfaces.length - meshCount
    for (const [i, iface] of spec.interfaces.entries()) {
      if (iface.kind === 'io.l5d.mesh') {
        const mesh = await meshInterface({
          store,
          namers,
          ip: iface.ip,
          port: iface.port,
          tls: iface.tls,
          stats: stats.scope('mesh', meshCount === 1 ? '' : String(i)),
          scheduler,
        })
        cleanups.push(() => mesh.close())
        meshInterfaces.push(mesh)
        continue
      }
      const api = httpController({
        store,
        names,
        stats: stats.scope('http', httpCount === 1 ? '' : String(i)),
        clock: scheduler,
        authToken: iface.authToken,
        audit: logger ? (event) => logger.info({ event: 'dtab.write', ...event }, 'dtab write') : undefined,
        maxBodyBytes: iface.maxBodyBytes,
        maxDtabParamBytes: iface.maxDtabParamBytes,
      })
      firstApi ??= api
      const server = await listen(api.handler, iface.ip, iface.port, {
        tls: iface.tls,
        socketOptions: iface.socketOptions,
        limits: iface.limits,
      })
      cleanups.push(async () => {
        api.close()
        await server.close()
      })
      interfaces.push(server)
    }
    const pm = options.processMetrics ?? true
    const proc = pm === true ? await processMetrics() : pm === false ? undefined : pm
    if (proc && pm === true) cleanups.push(() => proc.close())
    const admin = await listen(
      adminHandler({
        stats,
        processMetrics: proc,
        namespaces: store.list(),
        storeHealth: hasStoreHealth(store) ? store.health : undefined,
        config: options.rawConfig,
        onShutdown: options.onShutdown,
        ui: namerdUi({ namespaces: store.list(), api: firstApi?.handler }),
      }),
      spec.admin.ip,
      spec.admin.port,
      { tls: spec.admin.tls },
    )
    cleanups.push(() => admin.close())
    let closing: Promise<void> | undefined
    return { store, admin, interfaces, meshInterfaces, stats, close: () => (closing ??= closeAll()) }
  } catch (error) {
    await closeAll()
    throw error
  }
}
