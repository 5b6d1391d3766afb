import { lookup as lookupHost, Resolver } from 'node:dns/promises'
import { isIP } from 'node:net'
import { Activity } from '../core/activity.js'
import { type Scheduler, systemScheduler } from '../core/clock.js'
import { SwitchboardError } from '../core/errors.js'
import { Addr } from '../naming/addr.js'
import { Address } from '../naming/address.js'
import type { Name } from '../naming/name.js'
import type { Namer } from '../naming/namer.js'
import { NameTree } from '../naming/nametree.js'
import { Path } from '../naming/path.js'
import { nullStats, type StatsReceiver } from '../stats/stats.js'
import { changesOnly, liveLookup } from './live.js'

/**
 * Options of `dnsSrvNamer` (linkerd's `io.l5d.dnssrv`).
 *
 * @example
 * ```ts
 * const options: DnsSrvNamerOptions = { dnsHosts: ['10.0.0.2'], refreshIntervalMs: 5000 }
 * ```
 */
export interface DnsSrvNamerOptions {
  /** The namer's prefix without `/#` (default `io.l5d.dnssrv`). */
  readonly prefix?: string | undefined
  /** How often each observed name is looked up again (default 5000 ms, linkerd's 5 s). */
  readonly refreshIntervalMs?: number | undefined
  /**
   * DNS servers to ask, `host` or `host:port` (`[v6]:port` for IPv6); default the system's.
   * linkerd's `dnsHosts` takes hosts only (port 53); a port is switchboard's addition.
   */
  readonly dnsHosts?: readonly string[] | undefined
  /**
   * A domain appended to names that do not end with `.` (linkerd's later `domain` key):
   * `/#/io.l5d.dnssrv/web` with `domain: srv.example.org` asks for `web.srv.example.org`.
   */
  readonly domain?: string | undefined
  /** Deadline of one DNS query attempt (default 2000 ms); it is tried twice. */
  readonly timeoutMs?: number | undefined
  readonly scheduler?: Scheduler | undefined
  /** Where `lookup_successes_total`, `lookup_failures_total`, `lookup_zero_results_total` are counted. */
  readonly stats?: StatsReceiver | undefined
  /** Told of every failed lookup (a name keeps its last good addresses meanwhile). */
  readonly onError?: ((error: DnsSrvLookupError) => void) | undefined
}

/**
 * A SRV lookup failed for a reason other than "no such name" (a timeout, SERVFAIL, a refused or
 * unreachable DNS server). A name that was resolved before keeps its last addresses; a name never
 * resolved fails its lookup with this error.
 *
 * @example
 * ```ts
 * dnsSrvNamer({ dnsHosts: ['127.0.0.1:5353'], onError: (e) => console.error(e.message) })
 * // SRV lookup of _http._tcp.web.example failed: ECONNREFUSED
 * ```
 */
export class DnsSrvLookupError extends SwitchboardError {
  /** The SRV name looked up. */
  readonly srvName: string
  /** node's DNS error code, e.g. `ETIMEOUT`, `ESERVFAIL`, `ECONNREFUSED`. */
  readonly dnsCode: string | undefined
  constructor(srvName: string, dnsCode: string | undefined, options?: { cause?: unknown }) {
    super('DnsSrvLookupError', `SRV lookup of ${srvName} failed: ${dnsCode ?? 'unknown error'}`, options)
    this.srvName = srvName
    this.dnsCode = dnsCode
  }
}

/**
 * A `dnsSrvNamer`: a namer that can be closed.
 *
 * @example
 * ```ts
 * const dns: DnsSrvNamer = dnsSrvNamer(); dns.close()
 * ```
 */
export interface DnsSrvNamer extends Namer {
  /** `/#/<prefix>`. */
  readonly prefix: Path
  /** Stops every refresh loop and cancels queries in flight. */
  close(): void
}

// A DNS name as RFC 1035 allows it on the wire, plus `_` for SRV service and protocol labels.
const SRV_NAME =
  /^(?=.{1,253}\.?$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/

// "No such name" (NXDOMAIN) and "the name has no SRV record" (NOERROR, empty answer): both Neg.
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA'])

/**
 * One SRV record as `node:dns` returns it (`resolveSrv`).
 *
 * @example
 * ```ts
 * const r: SrvRecord = { name: 'a.example.org', port: 8080, priority: 0, weight: 10 }
 * ```
 */
export interface SrvRecord {
  readonly name: string
  readonly port: number
  readonly priority: number
  readonly weight: number
}

// Goes on with `next` when the error says the name or record does not exist; any other failure (a
// timeout, an unreachable server) fails the whole lookup rather than publish a half answer.
const unless404 =
  <T>(next: () => Promise<T>) =>
  (error: unknown): Promise<T> => {
    if (NEGATIVE.has((error as { code?: string }).code ?? '')) return next()
    throw error
  }

/**
 * The `setServers` form of `dnsHosts`: IPs (with an optional port) as they are, host names (as
 * linkerd allows: `ns0.example.org`) looked up with the system resolver, every address kept.
 *
 * @example
 * ```ts
 * await dnsServers(['10.0.0.2', '127.0.0.1:5353', 'localhost:5353']) // ['10.0.0.2', '127.0.0.1:5353', '127.0.0.1:5353', ...]
 * ```
 */
export async function dnsServers(hosts: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const h of hosts) {
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(h)
    const hostPort = /^([^:]+):(\d{1,5})$/.exec(h)
    const host = bracketed?.[1] ?? hostPort?.[1] ?? h
    const port = bracketed?.[2] ?? hostPort?.[2]
    let ips: string[]
    try {
      ips = isIP(host) ? [host] : (await lookupHost(host, { all: true })).map((a) => a.address)
    } catch (error) {
      // Not the SRV name's NXDOMAIN: the DNS server itself cannot be found.
      throw Object.assign(new Error(`DNS server ${h} not found: ${(error as Error).message}`), {
        code: 'EDNSHOST',
        cause: error,
      })
    }
    for (const ip of ips)
      out.push(port === undefined ? ip : isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`)
  }
  return out
}

/**
 * The address set of SRV records: each target's IPs (asked of the same servers, IPv4 then IPv6; a
 * target without an address record stays a host name; a failure to ask fails the whole lookup), with `endpoint_addr_weight` from the SRV weight
 * when any weight is non-zero (a zero weight then becomes 0.01: RFC 2782's "very small chance").
 * Priorities are not used, as in linkerd: every record is an endpoint.
 *
 * @example
 * ```ts
 * await srvAddresses(resolver, [{ name: 'a.example', port: 80, priority: 0, weight: 10 }])
 * ```
 */
export async function srvAddresses(
  resolver: Pick<Resolver, 'resolve4' | 'resolve6'>,
  records: readonly SrvRecord[],
): Promise<Address[]> {
  const weighted = records.some((r) => r.weight > 0)
  const ips = new Map<string, Promise<string[]>>()
  const ipsOf = (host: string): Promise<string[]> => {
    let p = ips.get(host)
    if (!p) {
      p = isIP(host)
        ? Promise.resolve([host])
        : resolver
            .resolve4(host)
            .catch(unless404(() => resolver.resolve6(host)))
            .catch(unless404(async () => [host]))
      ips.set(host, p)
    }
    return p
  }
  const out: Address[] = []
  for (const r of records) {
    const meta = weighted ? { [Address.WeightKey]: r.weight > 0 ? r.weight : 0.01 } : {}
    for (const ip of await ipsOf(r.name.replace(/\.$/, ''))) out.push(Address.inet(ip, r.port, meta))
  }
  return out
}

/**
 * linkerd's `io.l5d.dnssrv` namer: `/#/io.l5d.dnssrv/<srv name>[/residual]` binds to the targets of
 * the name's SRV records, looked up again every `refreshIntervalMs` while the name is in use.
 * NXDOMAIN and a name without SRV records are `Neg`; a failed lookup (timeout, SERVFAIL, server
 * unreachable) keeps the last good addresses and is retried at the next refresh; a name that never
 * resolved fails with `DnsSrvLookupError`.
 *
 * @example
 * ```ts
 * const dns = dnsSrvNamer({ dnsHosts: ['10.0.0.2'], refreshIntervalMs: 5000 })
 * const namers = NamerRegistry.create().mount(dns.prefix, dns)
 * // dtab: /svc => /#/io.l5d.dnssrv;  /svc/_http._tcp.users.example binds to users' SRV targets
 * ```
 */
export function dnsSrvNamer(options: DnsSrvNamerOptions = {}): DnsSrvNamer {
  const label = options.prefix ?? 'io.l5d.dnssrv'
  const prefix = Path.of('#', ...Path.read(label.startsWith('/') ? label : `/${label}`).segments)
  const scheduler = options.scheduler ?? systemScheduler
  const stats = options.stats ?? nullStats
  const refreshMs = options.refreshIntervalMs ?? 5000
  const timeoutMs = options.timeoutMs ?? 2000
  const successes = stats.counter('lookup_successes_total')
  const failures = stats.counter('lookup_failures_total')
  const zero = stats.counter('lookup_zero_results_total')
  const stops = new Set<() => void>()
  let closed = false

  const addrOf = (srvName: string) => {
    // Whether this name ever resolved: then a failure keeps the last answer, across restarts of
    // the loop (the var keeps its last value while nobody observes it).
    let resolved = false
    return changesOnly(Addr.Pending, (update) => {
      const resolver = new Resolver({ timeout: timeoutMs, tries: 2 })
      let configured = false
      let stopped = false
      let cancelTimer: (() => void) | undefined
      const once = async () => {
        let next: Addr | undefined
        try {
          if (!configured && options.dnsHosts && options.dnsHosts.length > 0) {
            resolver.setServers(await dnsServers(options.dnsHosts))
            configured = true
          }
          const records = await resolver.resolveSrv(srvName)
          const addresses = await srvAddresses(resolver, records)
          if (addresses.length === 0) {
            zero.incr()
            next = Addr.Neg
          } else {
            successes.incr()
            next = Addr.bound(addresses)
          }
          resolved = true
        } catch (error) {
          const code = (error as { code?: string }).code
          if (code !== undefined && NEGATIVE.has(code)) {
            if (code === 'ENODATA') zero.incr()
            else failures.incr()
            next = Addr.Neg
            resolved = true
          } else if (!stopped && code !== 'ECANCELLED') {
            failures.incr()
            const e = new DnsSrvLookupError(srvName, code, { cause: error })
            options.onError?.(e)
            if (!resolved) next = Addr.failed(e)
          }
        }
        if (stopped) return
        if (next) update(next)
        cancelTimer = scheduler.setTimeout(() => void once(), refreshMs)
      }
      void once()
      const stop = () => {
        stopped = true
        cancelTimer?.()
        resolver.cancel()
        stops.delete(stop)
      }
      stops.add(stop)
      return stop
    })
  }

  return {
    prefix,
    lookup(path: Path): Activity<NameTree<Name>> {
      const srvName = path.segments[0]
      if (closed || srvName === undefined || !SRV_NAME.test(srvName)) return Activity.value(NameTree.Neg)
      const domain = options.domain?.replace(/^\.+|\.+$/g, '')
      const query = domain && !srvName.endsWith('.') ? `${srvName}.${domain}` : srvName
      if (!SRV_NAME.test(query)) return Activity.value(NameTree.Neg)
      return liveLookup(prefix.concat(path.take(1)), path.drop(1), addrOf(query))
    },
    close() {
      closed = true
      for (const stop of [...stops]) stop()
    },
  }
}

/**
 * Whether `name` is a DNS name a SRV lookup can ask for (labels of letters, digits, `-` and `_`).
 *
 * @example
 * ```ts
 * isSrvName('_http._tcp.users.example') // true
 * isSrvName('not a name')               // false
 * ```
 */
export const isSrvName = (name: string): boolean => SRV_NAME.test(name)
