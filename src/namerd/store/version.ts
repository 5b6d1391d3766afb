/**
 * A dtab version: opaque bytes owned by the store that produced them. On the wire (HTTP `ETag`,
 * `If-Match`) a version is the standard, padded base64 of those bytes, unquoted, as in namerd.
 *
 * @example
 * ```ts
 * const v = Version.counter(1n)
 * Version.toEtag(v)                                     // 'AAAAAAAAAAE='
 * Version.equals(Version.fromEtag('AAAAAAAAAAE='), v)   // true
 * ```
 */
export type Version = Uint8Array

export const Version = {
  /** The `ETag` form: standard base64 with `=` padding. */
  toEtag(version: Version): string {
    return Buffer.from(version.buffer, version.byteOffset, version.byteLength).toString('base64')
  },
  /**
   * Decodes an `ETag`/`If-Match` value leniently, MIME-style: characters outside the base64
   * alphabet (quotes, spaces) are ignored, so a quoted ETag still matches and garbage simply
   * decodes to bytes that match no version.
   */
  fromEtag(etag: string): Version {
    return new Uint8Array(Buffer.from(etag.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'))
  },
  /** Byte equality. */
  equals(a: Version, b: Version): boolean {
    if (a.byteLength !== b.byteLength) return false
    for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
    return true
  },
  /** An 8-byte big-endian signed counter, the in-memory store's version form. */
  counter(n: bigint): Version {
    const out = new Uint8Array(8)
    new DataView(out.buffer).setBigInt64(0, n)
    return out
  },
  /** The counter in the first 8 bytes of a version, or `undefined` when it is shorter. */
  counterOf(version: Version): bigint | undefined {
    if (version.byteLength < 8) return undefined
    return new DataView(version.buffer, version.byteOffset, 8).getBigInt64(0)
  },
} as const
