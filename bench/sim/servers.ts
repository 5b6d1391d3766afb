import type { Random } from '../../src/core/random.js'
import type { Latency } from './latency.js'

/** A window of virtual time, [startMs, endMs). */
export interface Window {
  readonly startMs: number
  readonly endMs: number
}

/**
 * One backend of a scenario. Two server models: pure delay (`slots` undefined: unlimited concurrency,
 * latency independent of load, as in Buoyant's and Finagle's simulators) and a FIFO queue with
 * `slots` workers (M/G/c: mis-balancing raises latency).
 */
export interface ServerSpec {
  /** Base service time. */
  readonly latency: Latency
  /** Worker slots; undefined = pure delay. */
  readonly slots?: number | undefined
  /** Service-time multiplier at time t (a slow node returns 10 during its slow window). */
  readonly slowdown?: ((t: number) => number) | undefined
  /** Stop-the-world pauses: nothing starts or finishes inside one; work due inside ends at its end. */
  readonly pauses?: readonly Window[] | undefined
  /**
   * Whether a request arriving at t fails, and how fast (extension point for failure scenarios):
   * return undefined to serve normally, or the failure's latency in ms.
   */
  readonly fails?: ((t: number, random: Random) => number | undefined) | undefined
  /**
   * Whether a request arriving at t hangs: the server accepts it and never answers (the client's
   * timeouts and aborts are the only way out). Checked before `fails`.
   */
  readonly hangs?: ((t: number) => boolean) | undefined
  /** Marks the server degraded at t for reasons the other fields do not show (e.g. failing). */
  readonly degradedAt?: ((t: number) => boolean) | undefined
  /** Joins the balancers' address set at this time (default: present from the start). */
  readonly joinAtMs?: number | undefined
  /** Leaves the address set at this time. */
  readonly leaveAtMs?: number | undefined
}

/** Where a request on a server ends, and whether it succeeded. */
export interface Admission {
  endMs: number
  ok: boolean
}

/** The runtime state of one server in one run. */
export class SimServer {
  readonly spec: ServerSpec
  readonly index: number
  /** Mean base service time (for the oracle). */
  readonly meanMs: number
  /** Requests admitted. */
  admitted = 0
  // FIFO model: the time each worker slot becomes free.
  private readonly free: number[]
  private readonly out: Admission = { endMs: 0, ok: true }
  constructor(spec: ServerSpec, index: number, meanMs: number) {
    this.spec = spec
    this.index = index
    this.meanMs = meanMs
    this.free = new Array<number>(spec.slots ?? 0).fill(0)
  }

  private pauseAt(t: number): Window | undefined {
    const ps = this.spec.pauses
    if (ps === undefined) return undefined
    for (const p of ps) if (t >= p.startMs && t < p.endMs) return p
    return undefined
  }

  /** Slow, paused or failing at time t: requests sent now are "sent to a slow node". */
  degraded(t: number): boolean {
    if ((this.spec.slowdown?.(t) ?? 1) > 1) return true
    if (this.spec.hangs?.(t) === true) return true
    if (this.pauseAt(t) !== undefined) return true
    return this.spec.degradedAt?.(t) ?? false
  }

  /** Whether this server can ever be degraded (so runs without such servers skip the check). */
  get canDegrade(): boolean {
    return (
      this.spec.slowdown !== undefined ||
      this.spec.pauses !== undefined ||
      this.spec.degradedAt !== undefined ||
      this.spec.hangs !== undefined
    )
  }

  /**
   * A request arrives at `t`. Returns when it ends (the object is reused: copy what you keep).
   */
  admit(t: number, random: Random): Admission {
    this.admitted++
    if (this.spec.hangs?.(t) === true) {
      this.out.endMs = Number.POSITIVE_INFINITY
      this.out.ok = false
      return this.out
    }
    const failMs = this.spec.fails?.(t, random)
    if (failMs !== undefined) {
      this.out.endMs = t + failMs
      this.out.ok = false
      return this.out
    }
    const service = this.spec.latency(random) * (this.spec.slowdown?.(t) ?? 1)
    let start = t
    let slot = -1
    if (this.free.length > 0) {
      slot = 0
      for (let i = 1; i < this.free.length; i++) if (this.free[i]! < this.free[slot]!) slot = i
      if (this.free[slot]! > start) start = this.free[slot]!
    }
    const pausedAtStart = this.pauseAt(start)
    if (pausedAtStart !== undefined) start = pausedAtStart.endMs
    let end = start + service
    const pausedAtEnd = this.pauseAt(end)
    if (pausedAtEnd !== undefined) end = pausedAtEnd.endMs
    if (slot >= 0) this.free[slot] = end
    this.out.endMs = end
    this.out.ok = true
    return this.out
  }

  /** What a request sent at t would take, as an all-knowing observer expects it (the oracle). */
  expectedMs(t: number): number {
    let wait = 0
    if (this.free.length > 0) {
      let min = this.free[0]!
      for (const f of this.free) if (f < min) min = f
      if (min > t) wait = min - t
    }
    const p = this.pauseAt(t + wait)
    if (p !== undefined) wait = p.endMs - t
    return wait + this.meanMs * (this.spec.slowdown?.(t + wait) ?? 1)
  }
}
