/**
 * Labels: the elements of a {@link Path}.
 *
 * Finagle's labels are byte strings. We keep them as JS strings so that ordinary names stay
 * ordinary (`Path.of('users').segments[0] === 'users'`), and map between the two views losslessly:
 *
 * - string → bytes is UTF-8, except that a lone surrogate U+DC80..U+DCFF stands for the raw byte
 *   0x80..0xFF (Python's "surrogateescape"); any other lone surrogate encodes as U+FFFD;
 * - bytes → string is strict UTF-8, and every byte that is not part of a valid sequence becomes
 *   U+DC00 + byte.
 *
 * So `\xff` (not UTF-8) reads as the label `'\udcff'` and shows as `\xff` again, and two labels are
 * equal exactly when their bytes are equal, which is what Dtab prefix matching compares.
 */

/** The 66 characters a label may contain literally: `0-9 A-Z a-z _ : . # $ % -`. */
const SHOWABLE = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_:.#$%-'

const showableTable: Uint8Array = (() => {
  const t = new Uint8Array(128)
  for (let i = 0; i < SHOWABLE.length; i++) t[SHOWABLE.charCodeAt(i)] = 1
  return t
})()

/** True when the UTF-16 code unit `c` may appear literally in a label. */
export function isLabelChar(c: number): boolean {
  return c < 128 && showableTable[c] === 1
}

function isShowableLabel(label: string): boolean {
  for (let i = 0; i < label.length; i++) if (!isLabelChar(label.charCodeAt(i))) return false
  return true
}

/** The bytes a label stands for (see the module comment for the string ↔ bytes mapping). */
export function labelBytes(label: string): number[] {
  const out: number[] = []
  for (let i = 0; i < label.length; i++) {
    let cp = label.charCodeAt(i)
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < label.length) {
      const lo = label.charCodeAt(i + 1)
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00)
        i++
      }
    }
    if (cp < 0x80) out.push(cp)
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f))
    else if (cp >= 0xdc80 && cp <= 0xdcff) out.push(cp - 0xdc00)
    else if (cp >= 0xd800 && cp <= 0xdfff) out.push(0xef, 0xbf, 0xbd)
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    else
      out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
  }
  return out
}

function isCont(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80
}

/** Decodes bytes as strict UTF-8, escaping every byte outside a valid sequence as U+DC00 + byte. */
export function labelFromBytes(bytes: readonly number[]): string {
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const b0 = bytes[i]!
    if (b0 < 0x80) {
      out += String.fromCharCode(b0)
      i++
      continue
    }
    const b1 = bytes[i + 1]
    const b2 = bytes[i + 2]
    const b3 = bytes[i + 3]
    let cp = -1
    let len = 0
    if (b0 >= 0xc2 && b0 <= 0xdf && isCont(b1)) {
      cp = ((b0 & 0x1f) << 6) | (b1! & 0x3f)
      len = 2
    } else if (b0 >= 0xe0 && b0 <= 0xef && isCont(b1) && isCont(b2)) {
      const v = ((b0 & 0x0f) << 12) | ((b1! & 0x3f) << 6) | (b2! & 0x3f)
      // Reject overlong forms and UTF-16 surrogates, as strict UTF-8 does.
      if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) {
        cp = v
        len = 3
      }
    } else if (b0 >= 0xf0 && b0 <= 0xf4 && isCont(b1) && isCont(b2) && isCont(b3)) {
      const v = ((b0 & 0x07) << 18) | ((b1! & 0x3f) << 12) | ((b2! & 0x3f) << 6) | (b3! & 0x3f)
      if (v >= 0x10000 && v <= 0x10ffff) {
        cp = v
        len = 4
      }
    }
    if (len === 0) {
      out += String.fromCharCode(0xdc00 + b0)
      i++
    } else {
      out += String.fromCodePoint(cp)
      i += len
    }
  }
  return out
}

// Matches a string with any surrogate code unit; only such strings can need canonicalising.
const SURROGATE = /[\ud800-\udfff]/

/**
 * The canonical string for a label: the same string unless it holds lone surrogates that do not
 * survive the bytes round trip (for example `'\ud800'` becomes `'\ufffd'`).
 */
export function canonicalLabel(label: string): string {
  if (!SURROGATE.test(label)) return label
  return labelFromBytes(labelBytes(label))
}

const HEX = '0123456789abcdef'

/**
 * Finagle's `showElem`: the label as-is when every character is showable, otherwise **every** byte
 * as `\xhh` (lowercase), never a partial escape. `a b` shows as `\x61\x20\x62`, `é` as `\xc3\xa9`.
 */
export function showLabel(label: string): string {
  if (isShowableLabel(label)) return label
  let out = ''
  for (const b of labelBytes(label)) out += `\\x${HEX[b >> 4]}${HEX[b & 15]}`
  return out
}
