import { isLeft } from 'fp-ts/lib/Either.js'
import { Agent, type Dispatcher, request } from 'undici'
import { Activity, type ActivityState } from '../../core/activity.js'
import { type Cancel, type Scheduler, systemScheduler } from '../../core/clock.js'
import { SwitchboardError } from '../../core/errors.js'
import { type Random, systemRandom } from '../../core/random.js'
import { Var } from '../../core/var.js'
import { Addr } from '../../naming/addr.js'
import type { DelegateTree } from '../../naming/delegate-tree.js'
import type { Dtab } from '../../naming/dtab.js'
import type { Delegator, NameInterpreter } from '../../naming/interpreter.js'
import { NameBound } from '../../naming/name.js'
import { NameTree } from '../../naming/nametree.js'
import type { Path } from '../../naming/path.js'
import { Backoff } from '../../retry/backoff.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { addrFromJson, boundTreeFromJson, delegateTreeFromJson, type WireBound } from './wire.js'

/** Options of `namerdInterpreter`. */
export interface NamerdInterpreterOptions {
  /** namerd's HTTP controller, e.g. `http://127.0.0.1:4180`. */
  readonly baseUrl: string
  /** The namespace whose dtab applies (default `default`). */
  readonly namespace?: string | undefined
  /**
   * Delays between reconnection attempts while namerd cannot be reached (default: equal jitter
   * from 100 ms up to 800 ms, so a client is back within a second of namerd). A stream that
   * delivered values reconnects at once when it ends.
   */
  readonly backoff?: Backoff | undefined
  readonly scheduler?: Scheduler | undefined
  readonly random?: Random | undefined
  readonly stats?: StatsReceiver | undefined
  /** The undici dispatcher for namerd's connections (default: a private `Agent`, closed by `close()`). */
  readonly dispatcher?: Dispatcher | undefined
  /** Told about every stream failure (the interpreter keeps retrying and keeps its last values). */
  readonly onError?: ((error: NamerdStreamError) => void) | undefined
}

/** A `NameInterpreter` (and `Delegator`) answered by namerd. */
export interface NamerdInterpreter extends NameInterpreter, Delegator {
  /** Stops every stream and closes the connections (when the dispatcher is the interpreter's own). */
  close(): Promise<void>
}

/**
 * A watch stream to namerd failed: not reachable, a non-200 answer, a line that is not the JSON
 * expected (namerd writes an error's message as a line), or the connection dropped. The
 * interpreter reconnects with backoff and keeps the last good value meanwhile.
 *
 * @example
 * ```ts
 * namerdInterpreter({ baseUrl, onError: (e) => log.warn(e.message) })
 * // GET http://127.0.0.1:4180/api/1/bind/default?…: connect ECONNREFUSED 127.0.0.1:4180
 * ```
 */
export class NamerdStreamError extends SwitchboardError {
  readonly url: string
  constructor(url: string, detail: string, options?: { cause?: unknown }) {
    super('NamerdStreamError', `GET ${url}: ${detail}`, options)
    this.url = url
  }
}

/**
 * A `NameInterpreter` that asks namerd instead of binding locally (linkerd's
 * `io.l5d.namerd.http`): `bind(dtab, path)` streams `/api/1/bind/<ns>?path=…&dtab=…&watch=1`, and
 * every bound id's addr streams `/api/1/addr/<ns>?path=<id>&watch=1`, so a dtab change in namerd or
 * an endpoint change in service discovery reaches the client in one round trip, with no restart.
 *
 * Built to keep routing through a namerd outage: a stream that fails is retried with jittered
 * backoff forever, and meanwhile every name keeps its last good tree and addresses. A name first
 * asked for while namerd is down stays pending until namerd answers. Streams run only while
 * someone observes the name (each bind and each addr is one HTTP connection); trees and addr vars
 * are shared by every observer of the same (dtab, path) or id.
 *
 * @example
 * ```ts
 * const interpreter = namerdInterpreter({ baseUrl: 'http://127.0.0.1:4180', namespace: 'demo' })
 * const addr = resolve(interpreter, Dtab.empty, Path.read('/svc/users')) // Var<Addr>, live
 * addr.observe((a) => console.log(Addr.show(a)))
 * await interpreter.close()
 * ```
 */
export function namerdInterpreter(options: NamerdInterpreterOptions): NamerdInterpreter {
  const base = new URL(options.baseUrl)
  const namespace = options.namespace ?? 'default'
  const scheduler = options.scheduler ?? systemScheduler
  const random = options.random ?? systemRandom
  const backoff = options.backoff ?? Backoff.equalJitter(100, 800, random)
  const stats = options.stats ?? nullStats
  const ownDispatcher = options.dispatcher === undefined ? new Agent({ keepAliveTimeout: 10_000 }) : undefined
  const dispatcher = options.dispatcher ?? ownDispatcher!
  const failures = stats.counter('stream_failures')
  const connects = stats.counter('connects')
  const live = new Set<() => void>()
  const unGauge = stats.gauge('streams', () => live.size)
  let closed = false

  const url = (route: string, query: Record<string, string>) => {
    const u = new URL(base.href)
    const pfx = u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname
    u.pathname = `${pfx}/api/1/${route}/${encodeURIComponent(namespace)}`
    u.search = new URLSearchParams(query).toString()
    return u.href
  }

  /**
   * Keeps one watch stream open: every line goes to `onValue` (which throws on a bad value);
   * failures reconnect after the next backoff delay, a clean end after a delivery reconnects at
   * once. Returns the stopper.
   */
  const stream = (target: string, onValue: (json: unknown) => void): (() => void) => {
    let stopped = false
    let controller: AbortController | undefined
    let timer: Cancel | undefined
    let walk = backoff[Symbol.iterator]()
    const stop = () => {
      if (stopped) return
      stopped = true
      live.delete(stop)
      controller?.abort()
      timer?.()
    }
    live.add(stop)
    const connect = async () => {
      timer = undefined
      if (stopped) return
      controller = new AbortController()
      let delivered = false
      connects.incr()
      try {
        const res = await request(target, {
          dispatcher,
          signal: controller.signal,
          headers: { accept: 'application/json' },
        })
        if (res.statusCode !== 200) {
          const body = (await res.body.text()).trim()
          throw new NamerdStreamError(
            target,
            `namerd answered ${res.statusCode}${body ? `: ${body.slice(0, 200)}` : ''}`,
          )
        }
        const decoder = new TextDecoder()
        let buffer = ''
        for await (const chunk of res.body) {
          if (stopped) break
          buffer += decoder.decode(chunk as Uint8Array, { stream: true })
          let nl = buffer.indexOf('\n')
          while (nl >= 0) {
            const line = buffer.slice(0, nl).trim()
            buffer = buffer.slice(nl + 1)
            nl = buffer.indexOf('\n')
            if (line === '') continue
            let json: unknown
            try {
              json = JSON.parse(line)
            } catch {
              // namerd writes a failure as its message on a line, then ends the stream.
              throw new NamerdStreamError(target, `namerd reported: ${line.slice(0, 200)}`)
            }
            onValue(json)
            delivered = true
            walk = backoff[Symbol.iterator]()
          }
        }
      } catch (error) {
        if (stopped) return
        failures.incr()
        const e =
          error instanceof NamerdStreamError
            ? error
            : new NamerdStreamError(target, error instanceof Error ? error.message : String(error), {
                cause: error,
              })
        options.onError?.(e)
      }
      if (stopped) return
      const next = walk.next()
      const delay = delivered ? 0 : next.done ? 1000 : next.value
      timer = scheduler.setTimeout(() => void connect(), delay)
    }
    void connect()
    return stop
  }

  // An addr var per bound id, shared by every tree that contains the id.
  const addrs = new Map<string, Var<Addr>>()
  const addrOf = (id: Path, seed: Addr): Var<Addr> => {
    const key = id.show()
    const existing = addrs.get(key)
    if (existing) return existing
    const target = url('addr', { path: key, watch: '1' })
    const v = Var.async<Addr>(seed, (update) =>
      stream(target, (json) => {
        const a = addrFromJson(json)
        if (isLeft(a)) throw new NamerdStreamError(target, `not an addr: ${a.left}`)
        update(a.right)
      }),
    )
    addrs.set(key, v)
    return v
  }
  const toBound = (w: WireBound): NameBound =>
    new NameBound(
      w.id === undefined
        ? Var.constant(w.addr)
        : addrOf(w.id, w.addr.kind === 'pending' ? Addr.Pending : w.addr),
      w.id ?? w.show(),
      w.residual,
    )

  const binds = new Map<string, Activity<NameTree<NameBound>>>()
  const bind = (dtab: Dtab, path: Path): Activity<NameTree<NameBound>> => {
    if (closed)
      return Activity.exception(
        new SwitchboardError('NamerdInterpreterClosed', 'namerd interpreter is closed'),
      )
    const dtabText = dtab.show()
    const key = `${dtabText}\u0000${path.show()}`
    const existing = binds.get(key)
    if (existing) return existing
    // The local dtab is always sent, even empty, as linkerd's client does.
    const target = url('bind', { path: path.show(), watch: '1', dtab: dtabText })
    const a = Activity.of(
      Var.async<ActivityState<NameTree<NameBound>>>({ kind: 'pending' }, (update) =>
        stream(target, (json) => {
          const t = boundTreeFromJson(json)
          if (isLeft(t)) throw new NamerdStreamError(target, `not a bound tree: ${t.left}`)
          update({ kind: 'ok', value: NameTree.map(t.right, toBound) })
        }),
      ),
    ).dedup((x, y) => NameTree.equals(x, y, (p, q) => p.equals(q) && p.path.equals(q.path)))
    binds.set(key, a)
    return a
  }

  const mapDelegate = (t: DelegateTree<WireBound>): DelegateTree<NameBound> => {
    switch (t.kind) {
      case 'leaf':
        return { ...t, value: toBound(t.value) }
      case 'delegate':
        return { ...t, tree: mapDelegate(t.tree) }
      case 'transformation':
        return { ...t, value: toBound(t.value), tree: mapDelegate(t.tree) }
      case 'alt':
        return { ...t, trees: t.trees.map(mapDelegate) }
      case 'union':
        return { ...t, trees: t.trees.map((w) => ({ weight: w.weight, tree: mapDelegate(w.tree) })) }
      default:
        return t
    }
  }

  const delegate = (dtab: Dtab, path: Path): Activity<DelegateTree<NameBound>> => {
    const target = url('delegate', { path: path.show(), dtab: dtab.show() })
    return Activity.of(
      Var.async<ActivityState<DelegateTree<NameBound>>>({ kind: 'pending' }, (update) => {
        const controller = new AbortController()
        request(target, { dispatcher, signal: controller.signal, headers: { accept: 'application/json' } })
          .then(async (res) => {
            const body = await res.body.text()
            if (res.statusCode !== 200)
              throw new NamerdStreamError(target, `namerd answered ${res.statusCode}: ${body}`)
            const t = delegateTreeFromJson(JSON.parse(body))
            if (isLeft(t)) throw new NamerdStreamError(target, `not a delegate tree: ${t.left}`)
            update({ kind: 'ok', value: mapDelegate(t.right) })
          })
          .catch((error: unknown) => {
            if (!controller.signal.aborted) update({ kind: 'failed', error })
          })
        return () => controller.abort()
      }),
    )
  }

  return {
    bind,
    delegate,
    async close() {
      if (closed) return
      closed = true
      for (const stop of [...live]) stop()
      unGauge()
      await ownDispatcher?.close()
    },
  }
}
