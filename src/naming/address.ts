import { SwitchboardError } from '../core/errors.js'
import { metadataEquals } from './metadata.js'

/**
 * Metadata carried by an `Address` or an `Addr.Bound`: plain JSON-like values keyed by name
 * (`endpoint_addr_weight`, `authority`, `nodeName`, ...). Treated as immutable.
 *
 * @example
 * ```ts
 * const meta: Metadata = { endpoint_addr_weight: 0.5, zone: 'eu-1' }
 * ```
 */
export type Metadata = Readonly<Record<string, unknown>>

/**
 * An `Address` was built from, or read from, something that is not a host and a port.
 *
 * @example
 * ```ts
 * try { Address.read('10.0.0.1') } catch (e) { (e as InvalidAddressError).code } // 'InvalidAddress'
 * ```
 */
export class InvalidAddressError extends SwitchboardError {
  constructor(message: string) {
    super('InvalidAddress', message)
  }
}

const EMPTY: Metadata = Object.freeze({})

/**
 * One endpoint a request can be sent to: a host (an IP literal once resolved) and a port, plus
 * metadata such as a weight. Finagle's `Address.Inet`. Equality covers host, port and metadata,
 * so one set can hold the same host:port twice with different weights, as Finagle's can.
 *
 * @example
 * ```ts
 * const a = Address.inet('10.0.0.1', 8080, { [Address.WeightKey]: 2 })
 * a.show()                                         // '10.0.0.1:8080'
 * Address.read('[::1]:80').host                     // '::1'
 * a.equals(Address.read('10.0.0.1:8080'))          // false: the metadata differs
 * ```
 */
export class Address {
  /** The metadata key of an endpoint's weight (Finagle's `WeightedAddress`), a number >= 0. */
  static readonly WeightKey = 'endpoint_addr_weight'

  readonly host: string
  readonly port: number
  readonly metadata: Metadata

  private constructor(host: string, port: number, metadata: Metadata) {
    this.host = host
    this.port = port
    this.metadata = metadata
  }

  /**
   * An address from a host and a port; throws `InvalidAddressError` for an empty host or a port
   * outside 0..65535.
   *
   * @example
   * ```ts
   * Address.inet('127.0.0.1', 4140).show() // '127.0.0.1:4140'
   * ```
   */
  static inet(host: string, port: number, metadata: Metadata = EMPTY): Address {
    if (host.length === 0) throw new InvalidAddressError('host expected but empty host found')
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidAddressError(`port (an integer 0..65535) expected but ${port} found for host ${host}`)
    }
    return new Address(host, port, metadata)
  }

  /**
   * Reads `host:port` or `[ipv6]:port` (the form `show()` prints); throws `InvalidAddressError`.
   *
   * @example
   * ```ts
   * Address.read('users.internal:8080').port // 8080
   * ```
   */
  static read(text: string, metadata: Metadata = EMPTY): Address {
    let host: string
    let portText: string
    if (text.startsWith('[')) {
      const close = text.indexOf(']')
      if (close < 0 || text[close + 1] !== ':') {
        throw new InvalidAddressError(`'[ipv6]:port' expected but '${text}' found`)
      }
      host = text.slice(1, close)
      portText = text.slice(close + 2)
    } else {
      const colon = text.lastIndexOf(':')
      if (colon < 0 || text.indexOf(':') !== colon) {
        throw new InvalidAddressError(`'host:port' expected but '${text}' found`)
      }
      host = text.slice(0, colon)
      portText = text.slice(colon + 1)
    }
    if (!/^[0-9]{1,5}$/.test(portText)) {
      throw new InvalidAddressError(`port expected but '${portText}' found in '${text}'`)
    }
    return Address.inet(host, Number(portText), metadata)
  }

  /** The same host and port with other metadata. */
  withMetadata(metadata: Metadata): Address {
    return new Address(this.host, this.port, metadata)
  }

  /** `host:port`, with brackets around an IPv6 host; the metadata is not shown. */
  show(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`
  }

  toString(): string {
    return this.show()
  }

  /** Same host, port and metadata. */
  equals(other: Address): boolean {
    return (
      this === other ||
      (this.host === other.host && this.port === other.port && metadataEquals(this.metadata, other.metadata))
    )
  }
}
