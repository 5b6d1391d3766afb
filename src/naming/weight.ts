/**
 * Number formatting that matches the JVM, so weights print exactly as Finagle prints them.
 */

interface Decimal {
  readonly negative: boolean
  /** Significant digits, no leading zeros except for the value 0 itself. */
  readonly digits: string
  /** The decimal point sits after this many digits (may be ≤ 0 or > digits.length). */
  readonly point: number
}

// JS `Number#toString` gives the shortest decimal that reads back to the same double, which is the
// representation Java's Formatter rounds from.
function shortestDecimal(x: number): Decimal {
  const negative = x < 0 || Object.is(x, -0)
  const text = Math.abs(x).toString()
  const [mantissa = '0', exp] = text.split('e')
  const [int = '0', frac = ''] = mantissa.split('.')
  return { negative, digits: int + frac, point: int.length + (exp === undefined ? 0 : Number(exp)) }
}

/**
 * Java's `String.format("%.2f", x)`: two decimals, rounded HALF_UP from the shortest decimal form,
 * so `1.005` gives `1.01` and `2.675` gives `2.68` (JS `toFixed` gives `1.00` and `2.67`).
 *
 * @example
 * ```ts
 * formatFixed2(2) // '2.00'
 * formatFixed2(0.125) // '0.13'
 * ```
 */
export function formatFixed2(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity'
  const { negative, digits, point } = shortestDecimal(x)
  // Lay the digits out as <int>.<frac> with at least one integer digit.
  let all = digits
  let intLen = point
  if (intLen <= 0) {
    all = '0'.repeat(1 - intLen) + all
    intLen = 1
  }
  const keep = intLen + 2
  const padded = all.length < keep + 1 ? all.padEnd(keep + 1, '0') : all
  let kept = padded.slice(0, keep)
  if (padded.charCodeAt(keep) >= 53 /* '5' */) kept = incrementDecimal(kept)
  const intPart = kept.slice(0, kept.length - 2).replace(/^0+(?=\d)/, '')
  return `${negative ? '-' : ''}${intPart}.${kept.slice(-2)}`
}

function incrementDecimal(digits: string): string {
  const out = digits.split('')
  let i = out.length - 1
  while (i >= 0) {
    if (out[i] === '9') {
      out[i] = '0'
      i--
    } else {
      out[i] = String.fromCharCode(out[i]!.charCodeAt(0) + 1)
      return out.join('')
    }
  }
  return `1${out.join('')}`
}

/**
 * Java's `Double.toString`, used by the Scala-style debug forms (`Weighted(1.0,...)`): a trailing
 * `.0` on whole numbers, and `1.0E-5` style outside [10⁻³, 10⁷).
 *
 * @example
 * ```ts
 * javaDoubleString(1) // '1.0'
 * javaDoubleString(1e-5) // '1.0E-5'
 * ```
 */
export function javaDoubleString(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  const abs = Math.abs(x)
  const sign = x < 0 ? '-' : ''
  if (abs >= 1e-3 && abs < 1e7) {
    const text = abs.toString()
    return sign + (text.includes('.') ? text : `${text}.0`)
  }
  const [mantissa = '0', exp = '0'] = abs.toExponential().split('e')
  return `${sign}${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exp)}`
}
