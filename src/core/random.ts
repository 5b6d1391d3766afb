/**
 * Randomness as a parameter, so that every chance-dependent algorithm (P2C, jitter, aperture) is
 * reproducible from a seed in tests and in the simulator.
 *
 * @example
 * ```ts
 * const r = seededRandom(42)
 * r.next()   // a float in [0, 1), the same for every run with seed 42
 * r.int(10)  // an integer in [0, 10)
 * ```
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n); `n` must be a positive integer. */
  int(n: number): number
}

/** `Math.random`, for production use. */
export const systemRandom: Random = {
  next: Math.random,
  int: (n) => Math.floor(Math.random() * n),
}

/**
 * A fast seeded generator (sfc32 seeded through splitmix32): 2^128 period, good statistical quality,
 * no allocation per draw.
 *
 * @example
 * ```ts
 * seededRandom(7).next() === seededRandom(7).next() // true
 * ```
 */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()
  const next32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) >>> 0
    return t
  }
  for (let i = 0; i < 12; i++) next32()
  const next = () => next32() / 4294967296
  return { next, int: (n) => Math.floor(next() * n) }
}
