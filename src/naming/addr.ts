import { SwitchboardError } from '../core/errors.js'
import type { Address, Metadata } from './address.js'
import { metadataEquals } from './metadata.js'

/**
 * The cause of an `Addr.failed(message)` built from a message, and of the addr of a combined name
 * (`Name.all`) whose parts all failed. The latter carries no message, as Finagle's does not.
 *
 * @example
 * ```ts
 * const addr = Addr.failed('no quorum')
 * addr.kind === 'failed' && addr.cause instanceof AddrFailedError // true
 * ```
 */
export class AddrFailedError extends SwitchboardError {
  constructor(message = '') {
    super('AddrFailed', message)
  }
}

/**
 * A name's addresses were found: the set of endpoints (possibly empty) and metadata for the whole
 * set (e.g. `namer_nametree_weight` from a weighted union).
 *
 * @example
 * ```ts
 * const a: AddrBound = Addr.bound([Address.read('10.0.0.1:80')])
 * ```
 */
export interface AddrBound {
  readonly kind: 'bound'
  readonly addresses: readonly Address[]
  readonly metadata: Metadata
}

/**
 * Resolving the name failed; `cause` says why (usually an `Error`).
 *
 * @example
 * ```ts
 * const a = Addr.failed(new Error('dns timeout')) as AddrFailed
 * ```
 */
export interface AddrFailed {
  readonly kind: 'failed'
  readonly cause: unknown
}

/**
 * The name does not exist (e.g. DNS says the host is unknown).
 *
 * @example
 * ```ts
 * Addr.Neg.kind // 'neg'
 * ```
 */
export interface AddrNeg {
  readonly kind: 'neg'
}

/**
 * Still resolving.
 *
 * @example
 * ```ts
 * Addr.Pending.kind // 'pending'
 * ```
 */
export interface AddrPending {
  readonly kind: 'pending'
}

/**
 * The state of a bound name's endpoint set, as Finagle's `Addr`: `bound` with addresses, `neg`,
 * `failed` or `pending`. A `Name.Bound` carries a `Var<Addr>`, so the set changes live.
 *
 * @example
 * ```ts
 * const addr = Addr.bound([Address.read('10.0.0.1:8080'), Address.read('10.0.0.2:8080')])
 * Addr.show(addr)                  // 'Bound(10.0.0.1:8080,10.0.0.2:8080)'
 * Addr.show(Addr.failed('boom'))   // 'Failed(boom)'
 * ```
 */
export type Addr = AddrBound | AddrFailed | AddrNeg | AddrPending

const NEG: AddrNeg = Object.freeze({ kind: 'neg' })
const PENDING: AddrPending = Object.freeze({ kind: 'pending' })
const EMPTY_META: Metadata = Object.freeze({})

function causeMessage(cause: unknown): string | undefined {
  if (cause instanceof Error) return cause.message
  if (typeof cause === 'string') return cause
  return undefined
}

export const Addr = {
  /**
   * The metadata key under which binding records the innermost union weight of a bound name
   * (Finagle's `Namer.AddrWeightKey`).
   *
   * @example
   * ```ts
   * Addr.WeightKey // 'namer_nametree_weight'
   * ```
   */
  WeightKey: 'namer_nametree_weight',

  /**
   * A bound address set; duplicates (equal host, port and metadata) are kept once, first wins.
   *
   * @example
   * ```ts
   * Addr.bound([Address.read('10.0.0.1:80')], { zone: 'a' }).addresses.length // 1
   * ```
   */
  bound(addresses: Iterable<Address> = [], metadata: Metadata = EMPTY_META): AddrBound {
    const unique: Address[] = []
    for (const a of addresses) if (!unique.some((u) => u.equals(a))) unique.push(a)
    return { kind: 'bound', addresses: unique, metadata }
  },

  /**
   * A failed resolution. A string becomes an `AddrFailedError`, as Finagle's `Addr.Failed(msg)`
   * wraps the message in an exception.
   *
   * @example
   * ```ts
   * Addr.failed(new Error('dns timeout')).kind // 'failed'
   * ```
   */
  failed(cause: unknown): AddrFailed {
    return { kind: 'failed', cause: typeof cause === 'string' ? new AddrFailedError(cause) : cause }
  },

  /**
   * The name does not exist.
   *
   * @example
   * ```ts
   * Addr.Neg.kind // 'neg'
   * ```
   */
  Neg: NEG as Addr,

  /**
   * Still resolving.
   *
   * @example
   * ```ts
   * Addr.Pending.kind // 'pending'
   * ```
   */
  Pending: PENDING as Addr,

  /**
   * Value equality: bound sets compare as sets (order does not matter) with equal metadata; failures
   * are equal when they are the same object, or errors of the same class with the same message (so a
   * re-resolution that fails the same way again is not a change).
   *
   * @example
   * ```ts
   * Addr.equals(Addr.bound([a, b]), Addr.bound([b, a])) // true
   * ```
   */
  equals(a: Addr, b: Addr): boolean {
    if (a === b) return true
    switch (a.kind) {
      case 'bound':
        return (
          b.kind === 'bound' &&
          a.addresses.length === b.addresses.length &&
          a.addresses.every((x) => b.addresses.some((y) => x.equals(y))) &&
          metadataEquals(a.metadata, b.metadata)
        )
      case 'failed': {
        if (b.kind !== 'failed') return false
        if (Object.is(a.cause, b.cause)) return true
        return (
          a.cause instanceof Error &&
          b.cause instanceof Error &&
          a.cause.constructor === b.cause.constructor &&
          a.cause.message === b.cause.message
        )
      }
      default:
        return a.kind === b.kind
    }
  },

  /**
   * A one-line description for logs and tests: `Bound(10.0.0.1:80)`, `Neg`, `Pending`,
   * `Failed(<message>)`. Metadata is appended as JSON when present.
   *
   * @example
   * ```ts
   * Addr.show(Addr.Neg) // 'Neg'
   * ```
   */
  show(addr: Addr): string {
    switch (addr.kind) {
      case 'bound': {
        const meta = Object.keys(addr.metadata).length > 0 ? `;${JSON.stringify(addr.metadata)}` : ''
        return `Bound(${addr.addresses.map((a) => a.show()).join(',')}${meta})`
      }
      case 'failed':
        return `Failed(${causeMessage(addr.cause) ?? String(addr.cause)})`
      case 'neg':
        return 'Neg'
      case 'pending':
        return 'Pending'
    }
  },

  /**
   * The same addr with `key: value` added to a bound addr's metadata; other states are returned as
   * they are.
   *
   * @example
   * ```ts
   * Addr.withMetadata(Addr.bound([]), Addr.WeightKey, 2).metadata // { namer_nametree_weight: 2 }
   * ```
   */
  withMetadata(addr: Addr, key: string, value: unknown): Addr {
    if (addr.kind !== 'bound') return addr
    return { kind: 'bound', addresses: addr.addresses, metadata: { ...addr.metadata, [key]: value } }
  },
} as const
