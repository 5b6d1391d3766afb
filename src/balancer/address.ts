/**
 * What the balancer needs to know about one endpoint: where it is, and how much traffic it should
 * take. The balancer floor imports only `core`, so this is a structural type: naming's `Address`
 * (and any `{ host, port }` object) satisfies it without the balancer knowing about naming.
 *
 * The weight is read from `weight` when it is a number, else from `metadata.endpoint_addr_weight`
 * (Finagle's `WeightedAddress` key), else 1.
 *
 * @example
 * ```ts
 * const a: EndpointAddress = { host: '10.0.0.1', port: 8080, metadata: { endpoint_addr_weight: 2 } }
 * endpointWeight(a) // 2
 * ```
 */
export interface EndpointAddress {
  readonly host: string
  readonly port: number
  readonly weight?: number | undefined
  readonly metadata?: Readonly<Record<string, unknown>> | undefined
}

/**
 * Finagle's address-metadata key for an endpoint's weight.
 *
 * @example
 * ```ts
 * const canary = { host: '10.0.0.9', port: 80, metadata: { [WEIGHT_KEY]: 0.1 } }
 * ```
 */
export const WEIGHT_KEY = 'endpoint_addr_weight'

/**
 * The weight of an address: `weight`, else `metadata.endpoint_addr_weight`, else 1. A weight that is
 * not a finite number ≥ 0 counts as 1, so bad discovery data never removes an endpoint silently.
 *
 * @example
 * ```ts
 * endpointWeight({ host: 'a', port: 1, weight: 0.5 }) // 0.5
 * endpointWeight({ host: 'a', port: 1 })              // 1
 * ```
 */
export function endpointWeight(address: EndpointAddress): number {
  const w = typeof address.weight === 'number' ? address.weight : address.metadata?.[WEIGHT_KEY]
  return typeof w === 'number' && Number.isFinite(w) && w >= 0 ? w : 1
}

/**
 * The identity of an endpoint inside a balancer: `host:port`. Two addresses with the same key are the
 * same node, so a weight change updates the node in place and keeps its load history.
 *
 * @example
 * ```ts
 * endpointKey({ host: '10.0.0.1', port: 8080 }) // '10.0.0.1:8080'
 * ```
 */
export function endpointKey(address: EndpointAddress): string {
  return `${address.host}:${address.port}`
}

/**
 * A resolved address set in the shape of Finagle's `Addr` (naming's `Addr` satisfies it
 * structurally): `bound` with its addresses, `neg` (the name has no endpoints), `failed`, or
 * `pending`. A balancer fed an `Activity` of these keeps its last good set through `failed` and
 * `pending`, as Finagle's `Updating` does: stale but working beats empty.
 *
 * @example
 * ```ts
 * const addr: AddrLike<EndpointAddress> = { kind: 'bound', addresses: [{ host: '10.0.0.1', port: 80 }] }
 * ```
 */
export type AddrLike<A extends EndpointAddress> =
  | { readonly kind: 'bound'; readonly addresses: Iterable<A> }
  | { readonly kind: 'neg' }
  | { readonly kind: 'failed'; readonly error?: unknown; readonly cause?: unknown }
  | { readonly kind: 'pending' }
