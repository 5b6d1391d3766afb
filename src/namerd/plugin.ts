// The plugin contract of namerd's configuration: what a storage kind decodes to and what its
// factory receives. It lives apart from config.ts so that store modules can define their kinds
// and config.ts can list them without an import cycle.
import { isLeft } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { type ConfigKind, struct } from '../config/decode.js'
import type { Scheduler } from '../core/clock.js'
import type { StatsReceiver } from '../stats/stats.js'
import type { DtabStore } from './store/store.js'

/** What a store or namer factory gets from the running namerd. */
export interface PluginContext {
  readonly stats: StatsReceiver
  readonly scheduler: Scheduler
  /** Reports a problem that does not stop namerd (a bad file, a lost connection). */
  readonly log: (message: string) => void
}

/** A decoded `storage:` block, ready to start. */
export interface StorageSpec {
  readonly kind: string
  /** Things accepted with a caveat (printed at startup), e.g. an experimental kind without `experimental: true`. */
  readonly warnings?: readonly string[] | undefined
  make(context: PluginContext): Promise<DtabStore>
}

/** A storage kind: its name, its codec, and whether linkerd requires `experimental: true`. */
export interface StoreKind extends ConfigKind<StorageSpec> {}

export type Props = Record<string, t.Mixed>
export type Fields<R extends Props, O extends Props> = { [K in keyof R]: t.TypeOf<R[K]> } & {
  [K in keyof O]?: t.TypeOf<O[K]>
}

/**
 * Defines a storage kind from its fields and a factory. `kind` and `experimental` are added to the
 * fields; an `experimental` kind must be configured with `experimental: true`, as in linkerd.
 *
 * @example
 * ```ts
 * const etcdKind = storeKind('io.l5d.etcd', { }, { host: t.string, port: portCodec }, (c) => (ctx) => etcdDtabStore(c), { experimental: true })
 * ```
 */
export function storeKind<R extends Props, O extends Props>(
  kind: string,
  required: R,
  optional: O,
  make: (config: Fields<R, O>) => (context: PluginContext) => Promise<DtabStore>,
  options: { experimental?: boolean } = {},
): StoreKind {
  const fields = struct(
    `a ${kind} storage object`,
    { kind: t.literal(kind), ...required },
    { experimental: t.boolean, ...optional },
  )
  return {
    kind,
    codec: new t.Type<StorageSpec, unknown, unknown>(
      kind,
      (u): u is StorageSpec => typeof u === 'object' && u !== null && 'make' in u,
      (u, c) => {
        const r = fields.validate(u, c)
        if (isLeft(r)) return r
        const config = r.right as Fields<R, O> & { experimental?: boolean }
        // linkerd refuses an experimental kind without `experimental: true`, but its own published
        // examples leave it out: accepted, with a warning.
        const warnings =
          options.experimental && config.experimental !== true
            ? [`storage: ${kind} is experimental in linkerd ("experimental: true" is missing); accepted`]
            : []
        return t.success({ kind, make: make(config), warnings })
      },
      (a) => a,
    ),
  }
}
