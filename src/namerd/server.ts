import { type Scheduler, systemScheduler } from '../core/clock.js'
import type { Namer } from '../naming/namer.js'
import { type InMemoryStats, inMemoryStats } from '../stats/stats.js'
import { adminHandler } from './admin.js'
import type { NamerdSpec, PluginContext } from './config.js'
import { httpController } from './http/controller.js'
import { type Listening, listen } from './http/listen.js'
import { nameEndpoints } from './http/names.js'
import { hasStoreHealth } from './store/health.js'
import type { DtabStore } from './store/store.js'
import { namerdUi } from './ui.js'

/** Options of `startNamerd`. */
export interface StartNamerdOptions {
  /** Receives every stat; `/admin/metrics.json` exports it (default: a new `inMemoryStats()`). */
  readonly stats?: InMemoryStats | undefined
  readonly scheduler?: Scheduler | undefined
  /** Where non-fatal problems go (default: `console.error`). */
  readonly log?: ((message: string) => void) | undefined
  /** The raw configuration, served at `/config.json`. */
  readonly rawConfig?: unknown
  /** Called by `POST /admin/shutdown`. */
  readonly onShutdown?: (() => void) | undefined
}

/** A running namerd. */
export interface Namerd {
  readonly store: DtabStore
  readonly admin: Listening
  /** One per configured `io.l5d.httpController` interface, in configuration order. */
  readonly interfaces: readonly Listening[]
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
  const log = options.log ?? ((m: string) => console.error(m))
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
    for (const [i, iface] of spec.interfaces.entries()) {
      const api = httpController({
        store,
        names,
        stats: stats.scope('http', spec.interfaces.length === 1 ? '' : String(i)),
        clock: scheduler,
        authToken: iface.authToken,
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
    const admin = await listen(
      adminHandler({
        stats,
        namespaces: store.list(),
        storeHealth: hasStoreHealth(store) ? store.health : undefined,
        config: options.rawConfig,
        onShutdown: options.onShutdown,
        ui: namerdUi({ namespaces: store.list(), api: firstApi?.handler }),
      }),
      spec.admin.ip,
      spec.admin.port,
    )
    cleanups.push(() => admin.close())
    let closing: Promise<void> | undefined
    return { store, admin, interfaces, stats, close: () => (closing ??= closeAll()) }
  } catch (error) {
    await closeAll()
    throw error
  }
}
