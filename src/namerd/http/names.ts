import type { ServerResponse } from 'node:http'
import { isLeft } from 'fp-ts/lib/Either.js'
import { Activity, type ActivityState } from '../../core/activity.js'
import { type Scheduler, systemScheduler } from '../../core/clock.js'
import { type Random, systemRandom } from '../../core/random.js'
import { Var } from '../../core/var.js'
import { Addr } from '../../naming/addr.js'
import { Dtab } from '../../naming/dtab.js'
import { configuredDtabInterpreter, defaultInterpreter } from '../../naming/interpreter.js'
import { addrJson, boundNames, boundTreeJson, delegateTreeJson, settleAddrs } from '../../naming/json.js'
import type { NameBound } from '../../naming/name.js'
import type { Namer } from '../../naming/namer.js'
import {
  BindingTooDeepError,
  NamerExceededMaxDepthError,
  UnknownNamerError,
} from '../../naming/namer-errors.js'
import type { NameTree } from '../../naming/nametree.js'
import { ParseError } from '../../naming/parse-error.js'
import { Path } from '../../naming/path.js'
import { NamerRegistry } from '../../naming/registry.js'
import type { SystemNamerOptions } from '../../naming/system/index.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { namespaceProblem } from '../store/namespace.js'
import type { DtabStore } from '../store/store.js'
import { DEFAULT_MAX_BODY_BYTES, readBody } from './body.js'
import type { ApiRequest, NameEndpoints } from './controller.js'
import { messageOf, respond } from './respond.js'
import { DEFAULT_MAX_DTAB_PARAM_BYTES, DtabParamTooLong, namespaceFromPath } from './url.js'
import { streamActivity } from './watch.js'

/** A namer as configured for namerd: mounted at `/#/<prefix>`, maybe able to list its names. */
export interface ConfiguredNamer {
  readonly prefix: Path
  readonly namer: Namer & { names?(): unknown }
}

/** Options of `nameEndpoints`. */
export interface NameEndpointsOptions {
  readonly store: DtabStore
  readonly namers?: readonly ConfiguredNamer[] | undefined
  /** Options of the `/$/…` system namers (DNS resolver, poll interval). */
  readonly system?: SystemNamerOptions | undefined
  readonly stats?: StatsReceiver | undefined
  readonly scheduler?: Scheduler | undefined
  /** Picks a union branch for `resolve`. */
  readonly random?: Random | undefined
  /** How long `delegate` waits for an answer before 503 (default 2000 ms, as namerd). */
  readonly delegateTimeoutMs?: number | undefined
  /**
   * The longest `dtab` query parameter (and `dtab` field of a delegate request) in UTF-8 bytes;
   * longer ones are refused with 414 (default {@link DEFAULT_MAX_DTAB_PARAM_BYTES}, 8 KiB).
   */
  readonly maxDtabParamBytes?: number | undefined
}

/**
 * Whether a binding or delegation failure was caused by the request (a dtab loop or a too deep or
 * bad dtab, an unknown `/$/` namer in the caller's path): such failures are the caller's to fix,
 * so namerd answers 400 with the message; anything else is namerd's own fault (500).
 *
 * @example
 * ```ts
 * isCallerError(new NamerExceededMaxDepthError(100)) // true
 * isCallerError(new Error('disk on fire'))           // false
 * ```
 */
export function isCallerError(error: unknown): boolean {
  return (
    error instanceof NamerExceededMaxDepthError ||
    error instanceof BindingTooDeepError ||
    error instanceof ParseError ||
    error instanceof UnknownNamerError ||
    error instanceof DtabParamTooLong
  )
}

const json = 'application/json'

function hasNames(n: ConfiguredNamer['namer']): n is Namer & { names(): Activity<readonly string[]> } {
  return typeof n.names === 'function'
}

/**
 * An activity of `f(value)` for an async `f`, computed once per distinct `key(value)`; a result
 * that arrives after a newer value is dropped.
 */
function asyncMap<A, B>(source: Activity<A>, key: (a: A) => string, f: (a: A) => Promise<B>): Activity<B> {
  return Activity.of(
    Var.async<ActivityState<B>>({ kind: 'pending' }, (update) => {
      let last: string | undefined
      let generation = 0
      return source.observe((s) => {
        if (s.kind !== 'ok') {
          generation++
          last = undefined
          update(s)
          return
        }
        const k = key(s.value)
        if (k === last) return
        last = k
        const mine = ++generation
        f(s.value).then(
          (value) => {
            if (mine === generation) update({ kind: 'ok', value })
          },
          (error: unknown) => {
            if (mine === generation) update({ kind: 'failed', error })
          },
        )
      })
    }),
  )
}

/** Identity of a bound tree for de-duplication: structure, weights and bound ids only. */
const treeKey = (tree: NameTree<NameBound>) => boundTreeJson(tree, () => Addr.Neg)

/** An addr var as an activity: pending stays pending, every other addr is a value. */
function addrActivity(addr: Var<Addr>): Activity<Addr> {
  return Activity.of(
    addr.map(
      (a): ActivityState<Addr> => (a.kind === 'pending' ? { kind: 'pending' } : { kind: 'ok', value: a }),
    ),
  )
}

/** A bound id with a leading transformer prefix (`/%/io.l5d.port/80/#/…`) stripped. */
export function stripTransformerPrefix(id: Path): Path {
  if (id.segments[0] !== '%') return id
  const i = id.segments.findIndex((s) => s === '#' || s === '$')
  return i < 0 ? id : id.drop(i)
}

class NotConcrete extends Error {}

/**
 * The name endpoints of namerd's HTTP API, over a store and the configured namers:
 *
 * - `GET /api/1/bind/<ns>?path=P[&dtab=D]`: the bound tree of P under the namespace's dtab ++ D,
 *   each leaf with a snapshot of its addr (`watch`: one line per change of the bound ids);
 * - `GET /api/1/addr/<ns>?path=ID`: the addr of a bound id (`watch`: one line per change);
 * - `GET /api/1/resolve/<ns>?path=P[&dtab=D]`: bind, pick one concrete id, its addr;
 * - `GET /api/1/delegate/<ns>?path=P[&dtab=D]`: the delegation tree (no trailing newline);
 * - `GET|POST /api/1/delegate`: the generic delegator;
 * - `GET /api/1/bound-names`: the names enumerable namers know.
 *
 * An unknown namespace is not an error here: its dtab is empty.
 *
 * @example
 * ```ts
 * const names = nameEndpoints({ store, namers: [{ prefix: fs.prefix, namer: fs }] })
 * const api = httpController({ store, names })
 * ```
 */
export function nameEndpoints(options: NameEndpointsOptions): NameEndpoints & { close(): void } {
  const { store } = options
  const stats = options.stats ?? nullStats
  const scheduler = options.scheduler ?? systemScheduler
  const random = options.random ?? systemRandom
  const delegateTimeoutMs = options.delegateTimeoutMs ?? 2000
  const maxDtabParamBytes = options.maxDtabParamBytes ?? DEFAULT_MAX_DTAB_PARAM_BYTES
  /** The 414 for a dtab parameter over the limit, when it is; `true` when the answer was sent. */
  const dtabTooLong = (request: ApiRequest, raw: string): boolean => {
    const limit = request.maxDtabParamBytes ?? maxDtabParamBytes
    // Cheap upper bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
    if (raw.length * 3 <= limit) return false
    const bytes = Buffer.byteLength(raw)
    if (bytes <= limit) return false
    respond(request.res, 414, `${new DtabParamTooLong(bytes, limit).message}\n`, 'text/plain')
    return true
  }
  const configured = options.namers ?? []
  const namers = NamerRegistry.of(
    configured.map((n) => ({ prefix: n.prefix, namer: n.namer })),
    options.system ?? {},
  )
  const global = defaultInterpreter({ namers })
  const interpreterOf = (ns: string) =>
    configuredDtabInterpreter(
      store.observe(ns).map((v) => v?.dtab ?? Dtab.empty),
      { namers },
    )

  const counters = {
    bind: stats.counter('bind/requests'),
    addr: stats.counter('addr/requests'),
    resolve: stats.counter('resolve/requests'),
    delegate: stats.counter('delegate/requests'),
    boundNames: stats.counter('bound-names/requests'),
  }

  /** A path parameter: the parsed path, or the 400 was sent. */
  const pathParam = (request: ApiRequest): Path | undefined => {
    const raw = request.params.get('path')
    if (raw === null) {
      respond(request.res, 400, 'Invalid path: missing "path" query parameter\n', 'text/plain')
      return undefined
    }
    const p = Path.parse(raw)
    if (isLeft(p)) {
      respond(request.res, 400, `Invalid path: ${raw} / ${p.left.message}`)
      return undefined
    }
    return p.right
  }
  /** The `dtab` parameter (empty when absent), or the 400 was sent. */
  const dtabParam = (request: ApiRequest, raw = request.params.get('dtab')): Dtab | undefined => {
    if (raw === null || raw === undefined) return Dtab.empty
    if (dtabTooLong(request, raw)) return undefined
    const d = Dtab.parse(raw)
    if (isLeft(d)) {
      respond(request.res, 400, `Invalid dtab: ${d.left.message}`)
      return undefined
    }
    return d.right
  }
  /** The namespace after `/api/1/<route>/`, `undefined` if none, or `null` when a 400 was sent. */
  const namespaceOf = (request: ApiRequest, route: string): string | undefined | null => {
    const pfx = `/api/1/${route}/`
    if (!request.path.startsWith(pfx) || request.path.length === pfx.length) return undefined
    const ns = namespaceFromPath(request.path.slice(pfx.length))
    if (isLeft(ns)) {
      respond(request.res, 400, `${ns.left.message}\n`, 'text/plain')
      return null
    }
    return ns.right
  }

  const fail = (res: ServerResponse, error: unknown) =>
    respond(res, isCallerError(error) ? 400 : 500, `${messageOf(error)}\n`, 'text/plain')
  const errorLine = (e: unknown) => `${messageOf(e)}\n`

  /** Serves an activity of rendered lines: one response, or a stream with `watch`. */
  const serve = async (request: ApiRequest, lines: Activity<string>, contentType: string | undefined) => {
    if (request.watch) {
      streamActivity(
        request.res,
        lines,
        { key: (s) => s, render: (s) => `${s}\n`, errorLine },
        request.watches,
        contentType,
      )
      return
    }
    try {
      const body = await lines.toPromise()
      respond(request.res, 200, `${body}\n`, contentType)
    } catch (error) {
      fail(request.res, error)
    }
  }

  const renderBound = async (tree: NameTree<NameBound>) =>
    boundTreeJson(tree, await settleAddrs(boundNames(tree)))

  const bind = (request: ApiRequest, ns: string, path: Path, extra: Dtab) =>
    serve(request, asyncMap(interpreterOf(ns).bind(extra, path), treeKey, renderBound), json)

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
          return Activity.exception(new Error('name tree failed'))
        default:
          return Activity.exception(new NotConcrete(`${id.show()} is not a concrete bound id`))
      }
    })

  /** One concrete name of a bound tree: first usable alt branch, a weighted-random union branch. */
  const pick = (tree: NameTree<NameBound>): NameBound | undefined => {
    switch (tree.kind) {
      case 'leaf':
        return tree.value
      case 'alt':
        for (const t of tree.trees) {
          const n = pick(t)
          if (n) return n
        }
        return undefined
      case 'union': {
        const live = tree.trees.filter((w) => w.weight > 0 && pick(w.tree) !== undefined)
        const total = live.reduce((s, w) => s + w.weight, 0)
        let x = random.next() * total
        for (const w of live) {
          x -= w.weight
          if (x < 0) return pick(w.tree)
        }
        return live.length > 0 ? pick(live[live.length - 1]!.tree) : undefined
      }
      default:
        return undefined
    }
  }

  const resolve = (request: ApiRequest, ns: string, path: Path, extra: Dtab) => {
    const addrs = interpreterOf(ns)
      .bind(extra, path)
      .flatMap((tree) => {
        const name = pick(tree)
        return name === undefined ? Activity.value(Addr.Neg) : addrActivity(name.addr)
      })
      .map(addrJson)
    return serve(request, addrs, json)
  }

  const delegateTo = async (request: ApiRequest, tree: Activity<Parameters<typeof delegateTreeJson>[0]>) => {
    const controller = new AbortController()
    let timedOut = false
    const cancel = scheduler.setTimeout(() => {
      timedOut = true
      controller.abort(new Error('Request timed out.'))
    }, delegateTimeoutMs)
    try {
      const t = await tree.toPromise(controller.signal)
      const addrOf = await settleAddrs(boundNames(t), controller.signal)
      respond(request.res, 200, delegateTreeJson(t, addrOf), json)
    } catch (error) {
      if (timedOut) respond(request.res, 503, 'Request timed out.', 'text/plain')
      else fail(request.res, error)
    } finally {
      cancel()
    }
  }

  const genericDelegate = async (request: ApiRequest) => {
    const { req, res } = request
    let namespace: string | undefined
    let dtabText: string | null | undefined
    let pathText: string | null | undefined
    if (req.method === 'POST') {
      if ((req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() !== json) {
        req.resume()
        return respond(res, 415)
      }
      const body = (await readBody(req, DEFAULT_MAX_BODY_BYTES)).toString('utf8')
      let parsed: unknown
      try {
        parsed = JSON.parse(body)
      } catch {
        parsed = undefined
      }
      const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
        dtab?: unknown
        path?: unknown
        namespace?: unknown
      }
      if (
        typeof o.dtab !== 'string' ||
        typeof o.path !== 'string' ||
        (o.namespace != null && typeof o.namespace !== 'string')
      )
        return respond(res, 400, `Malformed delegation request: ${body}`)
      namespace = typeof o.namespace === 'string' ? o.namespace : undefined
      dtabText = o.dtab
      pathText = o.path
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      namespace = request.params.get('namespace') ?? undefined
      dtabText = request.params.get('dtab') ?? ''
      pathText = request.params.get('path')
    } else {
      res.setHeader('allow', 'GET, POST')
      return respond(res, 405)
    }
    const p = Path.parse(pathText ?? '')
    if (isLeft(p)) return respond(res, 400, `Invalid path: ${pathText ?? ''} / ${p.left.message}`)
    if (dtabTooLong(request, dtabText ?? '')) return
    const d = Dtab.parse(dtabText ?? '')
    if (isLeft(d)) return respond(res, 400, `Invalid dtab: ${d.left.message}`)
    if (namespace !== undefined && namespaceProblem(namespace) !== undefined) {
      return respond(
        res,
        400,
        `invalid dtab namespace ${JSON.stringify(namespace)}: ${namespaceProblem(namespace)}\n`,
      )
    }
    const tree =
      namespace === undefined
        ? global.delegate(d.right, p.right)
        : interpreterOf(namespace).delegate(d.right, p.right)
    return delegateTo(request, tree)
  }

  return {
    async handle(route, request) {
      counters[route].incr()
      if (
        route === 'delegate' &&
        request.req.method === 'POST' &&
        namespaceOf(request, route) === undefined
      ) {
        return genericDelegate(request)
      }
      const path = pathParam(request)
      if (path === undefined) return
      const ns = namespaceOf(request, route)
      if (ns === null) return
      if (ns === undefined) {
        if (
          route === 'delegate' &&
          (request.path === '/api/1/delegate' || request.path === '/api/1/delegate/')
        )
          return genericDelegate(request)
        return respond(request.res, 404)
      }
      switch (route) {
        case 'bind': {
          const extra = dtabParam(request)
          return extra && bind(request, ns, path, extra)
        }
        case 'resolve': {
          const extra = dtabParam(request)
          return extra && resolve(request, ns, path, extra)
        }
        case 'addr':
          return serve(request, addrOfId(path).map(addrJson), json)
        case 'delegate': {
          const extra = dtabParam(request)
          return extra && delegateTo(request, interpreterOf(ns).delegate(extra, path))
        }
      }
    },
    async boundNames(request) {
      counters.boundNames.incr()
      const lists = configured.flatMap((n) => (hasNames(n.namer) ? [n.namer.names()] : []))
      const all = Activity.collect(lists).map((ls) => {
        const names = ls.flat()
        // namerd builds this by string concatenation: no names gives [""].
        return `[${names.length === 0 ? '""' : names.map((n) => JSON.stringify(n)).join(',')}]`
      })
      return serve(request, all, json)
    },
    close() {},
  }
}
