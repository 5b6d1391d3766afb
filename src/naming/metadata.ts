import type { Metadata } from './address.js'

/** Structural equality of JSON-like values (objects by keys regardless of order, arrays in order). */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bs = b as unknown[]
    return a.length === bs.length && a.every((x, i) => jsonEquals(x, bs[i]))
  }
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  const keys = Object.keys(ao)
  if (keys.length !== Object.keys(bo).length) return false
  return keys.every((k) => Object.hasOwn(bo, k) && jsonEquals(ao[k], bo[k]))
}

/** Equality of two metadata maps. */
export function metadataEquals(a: Metadata, b: Metadata): boolean {
  return jsonEquals(a, b)
}
