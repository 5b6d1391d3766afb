/**
 * A time-weighted exponential moving average (Finagle's `Ema`): the first sample sets the value; a
 * later sample `x` at time `t` gives `x·(1 − w) + value·w` with `w = e^(−Δt/τ)`, where `τ`
 * (`windowMs`) is the mean lifetime of a sample (half-life = τ·ln 2). Two samples at the same instant:
 * the second has weight 0, exactly as in Finagle.
 *
 * @example
 * ```ts
 * const e = new Ema(1000)
 * e.update(0, 10)    // 10
 * e.update(1000, 0)  // 10·e^−1 ≈ 3.68
 * ```
 */
export class Ema {
  readonly windowMs: number
  private time = 0
  private started = false
  private value = 0
  constructor(windowMs: number) {
    this.windowMs = windowMs
  }

  /** Mixes sample `x` observed at time `t` (ms, never earlier than the previous one) in; returns the value. */
  update(t: number, x: number): number {
    if (!this.started) {
      this.started = true
      this.time = t
      this.value = x
      return x
    }
    const dt = Math.max(0, t - this.time)
    this.time = Math.max(t, this.time)
    const w = this.windowMs <= 0 ? 0 : Math.exp(-dt / this.windowMs)
    this.value = x * (1 - w) + this.value * w
    return this.value
  }

  /** The current value (0 before the first sample). */
  last(): number {
    return this.value
  }

  /** Forgets value and time: the next sample sets the value. */
  reset(): void {
    this.started = false
    this.value = 0
  }
}
