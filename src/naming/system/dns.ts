import { promises as dns } from 'node:dns'
import { isIP } from 'node:net'
import { type Cancel, type Scheduler, systemScheduler } from '../../core/clock.js'
import { type Disposer, type Var, Var as Vars } from '../../core/var.js'
import { nullStats, type StatsReceiver } from '../../stats/stats.js'
import { Addr } from '../addr.js'
import { Address, InvalidAddressError } from '../address.js'

/**
 * Turns a host name into IP addresses. The default uses `node:dns` `lookup` (the OS resolver, as
 * the JVM's `InetAddress` does); tests inject a fake. A rejection whose `code` is `ENOTFOUND` or
 * `ENODATA` means the host does not exist (the name binds to `Addr.Neg`); any other rejection is a
 * failure (`Addr.Failed`).
 *
 * @example
 * ```ts
 * const fake: DnsResolver = { lookup: async (host) => (host === 'users' ? ['10.0.0.1'] : []) }
 * ```
 */
export interface DnsResolver {
  lookup(host: string): Promise<readonly string[]>
}

/**
 * The `node:dns` resolver (`dns.promises.lookup(host, { all: true })`).
 *
 * @example
 * ```ts
 * await systemDnsResolver.lookup('localhost') // ['127.0.0.1', '::1'] (depends on the OS)
 * ```
 */
export const systemDnsResolver: DnsResolver = {
  async lookup(host) {
    const found = await dns.lookup(host, { all: true })
    return found.map((a) => a.address)
  },
}

/**
 * How host names of `/$/inet` and `/$/io.buoyant.rinet` are resolved.
 *
 * @example
 * ```ts
 * const options: InetOptions = { resolver: systemDnsResolver, pollIntervalMs: 5000 }
 * ```
 */
export interface InetOptions {
  /** Default `systemDnsResolver`. */
  readonly resolver?: DnsResolver
  /** Timers for re-resolution. Default `systemScheduler` (unref'd timers). */
  readonly scheduler?: Scheduler
  /** How often `/$/inet` re-resolves a host name while the name is observed. Default 5000 ms. */
  readonly pollIntervalMs?: number
  /** Counts `dns/successes`, `dns/failures`, `dns/lookup_ms`. Default `nullStats`. */
  readonly stats?: StatsReceiver
}

/**
 * How often `/$/inet` re-resolves a host name by default: 5 s, as Finagle's InetResolver.
 *
 * @example
 * ```ts
 * systemNamer({ pollIntervalMs: DEFAULT_DNS_POLL_INTERVAL_MS * 6 }) // every 30 s
 * ```
 */
export const DEFAULT_DNS_POLL_INTERVAL_MS = 5000

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA'])

function errorCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined
}

/**
 * The live address set of `host:port`:
 * - an IP literal (or an empty host, meaning the loopback address) is bound at once, with no timer;
 * - a host name is `pending` until the first answer, then re-resolved every `pollIntervalMs` while
 *   observed (`refresh: 'poll'`) or, for `fixedinet`, resolved once and retried only after a
 *   failure (`refresh: 'once'`). Unknown hosts are `neg`, other failures `failed`.
 * Timers run only while someone observes the var; nothing keeps the process alive.
 *
 * @example
 * ```ts
 * const addr = inetAddr('10.0.0.1', 8080)
 * Addr.show(addr.sample()) // 'Bound(10.0.0.1:8080)'
 * ```
 */
export function inetAddr(
  host: string,
  port: number,
  options: InetOptions & { readonly refresh?: 'poll' | 'once' } = {},
): Var<Addr> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Vars.constant(Addr.failed(new InvalidAddressError(`port out of range: ${port}`)))
  }
  const address = (ip: string) => Address.inet(ip, port)
  if (host === '') return Vars.constant(Addr.bound([address('127.0.0.1')]))
  if (isIP(host) !== 0) return Vars.constant(Addr.bound([address(host)]))
  const resolver = options.resolver ?? systemDnsResolver
  const scheduler = options.scheduler ?? systemScheduler
  const interval = Math.max(1, options.pollIntervalMs ?? DEFAULT_DNS_POLL_INTERVAL_MS)
  const refresh = options.refresh ?? 'poll'
  const stats = options.stats ?? nullStats
  const successes = stats.counter('dns/successes')
  const failures = stats.counter('dns/failures')
  const latency = stats.stat('dns/lookup_ms')

  const resolve = async (): Promise<Addr> => {
    const started = scheduler.now()
    try {
      const ips = await resolver.lookup(host)
      successes.incr()
      return Addr.bound(ips.map(address))
    } catch (e) {
      failures.incr()
      return NOT_FOUND.has(errorCode(e) as string) ? Addr.Neg : Addr.failed(e)
    } finally {
      latency.add(scheduler.now() - started)
    }
  }

  return Vars.async<Addr>(Addr.Pending, (update): Disposer => {
    let stopped = false
    let cancel: Cancel | undefined
    let last: Addr | undefined
    const round = () => {
      cancel = undefined
      resolve().then(
        (addr) => {
          if (stopped) return
          if (last === undefined || !Addr.equals(last, addr)) {
            last = addr
            update(addr)
          }
          if (refresh === 'poll' || addr.kind !== 'bound') cancel = scheduler.setTimeout(round, interval)
        },
        () => {},
      )
    }
    round()
    return () => {
      stopped = true
      cancel?.()
    }
  })
}
