import type { BalancerAlgorithm } from '../balancer/algorithm.js'
import type { FailureAccrualPolicy } from '../liveness/policy.js'
import type { Path } from '../naming/path.js'
import { PathMatcher } from '../naming/path-matcher.js'
import type { Backoff } from '../retry/backoff.js'
import type { RetryBudgetOptions } from '../retry/budget.js'
import type { HttpClassifier } from './classifiers.js'
import type { ConnectionPoolOptions } from './endpoint.js'

/**
 * Settings of one bound client (one bound name, e.g. `/#/io.l5d.fs/users`): linkerd's `client:`
 * block. Every field is optional; a missing one keeps its default (or the value of an earlier
 * matching config).
 *
 * @example
 * ```ts
 * const params: ClientParams = { loadBalancer: p2cPeakEwma(), failureAccrual: consecutiveFailures(5) }
 * ```
 */
export interface ClientParams {
  /** Default `p2c()` (linkerd's `p2c`, least loaded). */
  readonly loadBalancer?: BalancerAlgorithm | undefined
  /** Default `consecutiveFailures(5)` with the default mark-dead schedule; `null` for none. */
  readonly failureAccrual?: FailureAccrualPolicy | null | undefined
  /** Mark an endpoint down on a connection failure until it reconnects. Default false. */
  readonly failFast?: boolean | undefined
  /** The budget requeues (never-sent failures, sent again at once) draw on. Default 10 s / 10 / 0.2. */
  readonly requeueBudget?: RetryBudgetOptions | undefined
  /** A limit per attempt, below the balancer (timeouts count as endpoint failures). Default none. */
  readonly requestAttemptTimeoutMs?: number | undefined
  /** The connection pool per endpoint. Default: unbounded, undici's idle time. */
  readonly hostConnectionPool?: ConnectionPoolOptions | undefined
  /** Reach the endpoints over TLS (linkerd's client `tls`). Default: plain HTTP. */
  readonly tls?: ClientTlsParams | undefined
}

/**
 * linkerd's client `tls` block: connect to every endpoint of the client over TLS. The server's
 * certificate must match `commonName` (also sent as SNI) and chain to `trustCerts` /
 * `trustCertsBundle` (or the platform's CAs), unless `disableValidation`. In a prefix config,
 * `{var}`s in `commonName` are replaced with what the prefix captured (`/#/io.l5d.fs/{service}`).
 *
 * @example
 * ```ts
 * const tls: ClientTlsParams = { commonName: 'linkerd', trustCerts: ['/certs/ca.pem'] }
 * ```
 */
export interface ClientTlsParams {
  /** `false` turns TLS off again (in a later prefix config). Default true. */
  readonly enabled?: boolean | undefined
  readonly commonName?: string | undefined
  /** Trust any certificate (no validation). Default false. */
  readonly disableValidation?: boolean | undefined
  /** PEM files of CAs to trust. */
  readonly trustCerts?: readonly string[] | undefined
  /** One PEM bundle of CAs to trust. */
  readonly trustCertsBundle?: string | undefined
  /** A client certificate for mutual TLS. */
  readonly clientAuth?: { readonly certPath: string; readonly keyPath: string } | undefined
}

/** Retries of one logical service: linkerd's `service.retries`. */
export interface RetriesParams {
  /** The service's own budget. Default 10 s / 10 per s / 0.2. */
  readonly budget?: RetryBudgetOptions | undefined
  /** Delays between retries. Default `Backoff.constant(0)` (linkerd's). */
  readonly backoff?: Backoff | undefined
  /** A cap on retries per request. Default: none (the budget and the backoff limit them, as in linkerd). */
  readonly maxRetries?: number | undefined
}

/**
 * Settings of one logical service (one identified name, e.g. `/svc/users`): linkerd's `service:`
 * block.
 *
 * @example
 * ```ts
 * const params: ServiceParams = { totalTimeoutMs: 2000, responseClassifier: retryableRead5xx }
 * ```
 */
export interface ServiceParams {
  /** A limit on the whole request, retries included. Default none. */
  readonly totalTimeoutMs?: number | undefined
  readonly retries?: RetriesParams | undefined
  /** Default `nonRetryable5xx`. */
  readonly responseClassifier?: HttpClassifier | undefined
}

/**
 * Settings by name prefix (linkerd's `io.l5d.static`): every config whose `prefix` pattern matches the
 * name applies, in order, a later one overriding an earlier one field by field. Patterns are
 * `PathMatcher`s (`*` for any segment, `{var}` captures).
 *
 * @example
 * ```ts
 * const client: PrefixConfigs<ClientParams> = { configs: [
 *   { prefix: '/', failureAccrual: consecutiveFailures(5) },
 *   { prefix: '/#/io.l5d.fs/slow', requestAttemptTimeoutMs: 5000 },
 * ] }
 * ```
 */
export interface PrefixConfigs<P> {
  readonly configs: readonly (P & { readonly prefix: string })[]
}

/** One set of settings for every name, or settings by prefix. */
export type PerName<P> = P | PrefixConfigs<P>

/** Whether `x` is a `PrefixConfigs`. */
export function isPrefixConfigs<P>(x: PerName<P>): x is PrefixConfigs<P> {
  return typeof x === 'object' && x !== null && Array.isArray((x as { configs?: unknown }).configs)
}

function withoutUndefined<P extends object>(p: P): Partial<P> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(p)) if (v !== undefined && k !== 'prefix') out[k] = v
  return out as Partial<P>
}

/**
 * Settings resolved for names: compiles the prefix patterns once and answers, for a name, the
 * defaults overridden by every matching config in order.
 *
 * @example
 * ```ts
 * const resolve = paramsResolver<ServiceParams>({}, service)
 * resolve(Path.read('/svc/users')).totalTimeoutMs
 * ```
 */
export function paramsResolver<P extends object>(
  defaults: P,
  perName: PerName<P> | undefined,
): (name: Path) => P {
  if (perName === undefined) return () => defaults
  if (!isPrefixConfigs(perName)) {
    const merged = { ...defaults, ...withoutUndefined(perName) } as P
    return () => merged
  }
  const compiled = perName.configs.map((c) => ({
    matcher: PathMatcher.read(c.prefix),
    params: withoutUndefined(c),
  }))
  return (name) => {
    let out: P = defaults
    for (const c of compiled) {
      const vars = c.matcher.match(name)
      if (vars === undefined) continue
      out = { ...out, ...c.params }
      // A client `tls.commonName` may use what the prefix captured: `{service}.example.com`.
      const tls = (c.params as { tls?: ClientTlsParams }).tls
      if (tls?.commonName?.includes('{'))
        out = { ...out, tls: { ...tls, commonName: PathMatcher.substitute(tls.commonName, vars) } }
    }
    return out
  }
}
