import type { Clock } from '../../core/clock.js'
import { SwitchboardError } from '../../core/errors.js'
import { type Disposer, type UpdatableVar, type Var, Var as Vars } from '../../core/var.js'
import type { StatsReceiver } from '../../stats/stats.js'

/**
 * How a store backed by a remote server is doing:
 * - `connecting`: not connected yet since start; reads are pending, writes fail;
 * - `connected`: reads are live, writes go through;
 * - `reconnecting`: the connection was lost; reads serve the last known dtabs, writes fail with
 *   `DtabStoreUnavailable` (HTTP 503) until the connection is back;
 * - `failed`: the server refuses us for a reason retrying will not fix (authentication failed);
 *   reads serve what was last known, writes fail;
 * - `closed`: `close()` was called.
 *
 * @example
 * ```ts
 * const h: StoreHealth = { status: 'reconnecting', detail: 'etcd 127.0.0.1:2379: connection refused', since: 1200 }
 * ```
 */
export interface StoreHealth {
  readonly status: 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed'
  /** What the store is connected to or why it is not, for people reading `/admin/ping`. */
  readonly detail: string
  /** `Clock.now()` when this status began. */
  readonly since: number
}

/**
 * A store that can say whether its server is reachable. namerd's `/admin/ping` answers 503 with
 * the detail while a store's health is not `connected`, so a load balancer in front of several
 * namerd replicas sends writes to one that can perform them.
 *
 * @example
 * ```ts
 * if (hasStoreHealth(store)) store.health.observe((h) => console.log(h.status))
 * ```
 */
export interface StoreHealthReporting {
  readonly health: Var<StoreHealth>
}

/**
 * Whether `store` reports its health.
 *
 * @example
 * ```ts
 * hasStoreHealth(inMemoryDtabStore()) // false
 * ```
 */
export function hasStoreHealth(store: object): store is StoreHealthReporting {
  const h = (store as { health?: unknown }).health
  return typeof h === 'object' && h !== null && typeof (h as { sample?: unknown }).sample === 'function'
}

/**
 * The store's server cannot be reached (or did not answer in time), so the write was not performed
 * (HTTP 503). Safe to retry; a conditional update that timed out may or may not have been applied,
 * and a retry with the same `If-Match` then fails with 412 if it was.
 *
 * @example
 * ```ts
 * await etcdStore.put('default', dtab) // rejects with DtabStoreUnavailable while etcd is down
 * ```
 */
export class DtabStoreUnavailable extends SwitchboardError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('DtabStoreUnavailable', `dtab store is unavailable: ${detail}`, options)
  }
}

const STATUS_CODE: Record<StoreHealth['status'], number> = {
  connected: 0,
  connecting: 1,
  reconnecting: 2,
  failed: 3,
  closed: 4,
}

/**
 * Keeps a store's health, counts its transitions and exports them as gauges and counters:
 * `connected` (1 or 0), `health` (0 connected, 1 connecting, 2 reconnecting, 3 failed, 4 closed),
 * `reconnects` (times a lost connection came back), `disconnects`.
 *
 * @example
 * ```ts
 * const tracker = new HealthTracker(systemScheduler, stats.scope('storage'), 'etcd 127.0.0.1:2379')
 * tracker.set('connected', 'etcd 127.0.0.1:2379')
 * ```
 */
export class HealthTracker {
  private readonly state: UpdatableVar<StoreHealth>
  private readonly clock: Clock
  private readonly gauges: Disposer[]
  private readonly reconnects
  private readonly disconnects
  private everConnected = false
  private readonly log: ((message: string) => void) | undefined

  constructor(clock: Clock, stats: StatsReceiver, detail: string, log?: (message: string) => void) {
    this.clock = clock
    this.log = log
    // Every change of status is worth a line in the log of whoever runs namerd.
    this.state = Vars.value<StoreHealth>({ status: 'connecting', detail, since: clock.now() })
    let last = this.state.sample().status
    this.state.observe((h) => {
      if (h.status !== last) this.log?.(`dtab store ${h.status}: ${h.detail}`)
      last = h.status
    })
    this.gauges = [
      stats.gauge('connected', () => (this.state.sample().status === 'connected' ? 1 : 0)),
      stats.gauge('health', () => STATUS_CODE[this.state.sample().status]),
    ]
    this.reconnects = stats.counter('reconnects')
    this.disconnects = stats.counter('disconnects')
  }

  get health(): Var<StoreHealth> {
    return this.state
  }

  get status(): StoreHealth['status'] {
    return this.state.sample().status
  }

  get current(): StoreHealth {
    return this.state.sample()
  }

  /** Moves to `connected`. */
  connected(detail: string): void {
    const old = this.status
    if (old === 'closed') return
    if (old === 'connected') {
      this.replaceDetail(detail)
      return
    }
    if (this.everConnected) this.reconnects.incr()
    this.everConnected = true
    this.state.update({ status: 'connected', detail, since: this.clock.now() })
  }

  /** Moves to `reconnecting` (or stays `connecting` when it never connected). */
  lost(detail: string): void {
    const old = this.status
    if (old === 'closed' || old === 'failed') return
    if (old === 'connected') this.disconnects.incr()
    const status = this.everConnected ? 'reconnecting' : 'connecting'
    if (old === status) {
      this.replaceDetail(detail)
      return
    }
    this.state.update({ status, detail, since: this.clock.now() })
  }

  /** Moves to `failed`. */
  failed(detail: string): void {
    if (this.status === 'closed') return
    if (this.status === 'connected') this.disconnects.incr()
    this.state.update({ status: 'failed', detail, since: this.clock.now() })
  }

  /** Moves to `closed` and removes the gauges. */
  close(): void {
    if (this.status === 'closed') return
    this.state.update({ status: 'closed', detail: 'store closed', since: this.clock.now() })
    for (const d of this.gauges) d()
  }

  /** The `DtabStoreUnavailable` error for a write attempted in the current state. */
  unavailable(): DtabStoreUnavailable {
    const h = this.current
    return new DtabStoreUnavailable(`${h.status}: ${h.detail}`)
  }

  private replaceDetail(detail: string): void {
    const h = this.current
    if (h.detail !== detail) this.state.update({ ...h, detail })
  }
}
