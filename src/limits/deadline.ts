import { type Either, left, right } from 'fp-ts/lib/Either.js'
import { InvalidDeadlineError } from './errors.js'

const TEXT = /^(-?\d{1,20}) (-?\d{1,20})$/

/**
 * When a request must be done by: `timestamp` is when the deadline was set, `deadline` when it
 * expires, both in epoch milliseconds (wall time, because deadlines cross processes). Finagle's
 * `Deadline`; its text form is the one Finagle and linkerd carry in headers
 * (`l5d-ctx-deadline: <timestamp ns> <deadline ns>`). Precision is 1 µs (a double holds
 * epoch milliseconds to the microsecond until about 2100).
 *
 * @example
 * ```ts
 * const d = Deadline.ofTimeout(Date.now(), 200)
 * d.remaining(Date.now())                       // ≈ 200
 * Deadline.combined(d, incoming)                // the stricter one, latest timestamp
 * Deadline.read(d.show()).equals(d)             // true
 * ```
 */
export class Deadline {
  /** When the deadline was set (epoch ms). */
  readonly timestamp: number
  /** When it expires (epoch ms). */
  readonly deadline: number

  constructor(timestamp: number, deadline: number) {
    this.timestamp = timestamp
    this.deadline = deadline
  }

  /** The deadline `timeoutMs` after `now`. */
  static ofTimeout(now: number, timeoutMs: number): Deadline {
    return new Deadline(now, now + timeoutMs)
  }

  /**
   * Finagle's combination rule: the latest timestamp and the earliest deadline. Commutative,
   * associative and idempotent, so the order in which deadlines meet does not matter.
   *
   * @example
   * ```ts
   * Deadline.combined(new Deadline(0, 100), new Deadline(10, 50)) // Deadline(10, 50)
   * ```
   */
  static combined(a: Deadline, b: Deadline): Deadline {
    return new Deadline(Math.max(a.timestamp, b.timestamp), Math.min(a.deadline, b.deadline))
  }

  /** Milliseconds left at `now` (negative once expired). */
  remaining(now: number): number {
    return this.deadline - now
  }

  /** Whether `now` is past the deadline. */
  isExpired(now: number): boolean {
    return now > this.deadline
  }

  equals(other: Deadline): boolean {
    return this.timestamp === other.timestamp && this.deadline === other.deadline
  }

  /**
   * The wire form: both times in nanoseconds since the epoch, decimal, one space.
   *
   * @example
   * ```ts
   * new Deadline(1, 2.5).show() // '1000000 2500000'
   * ```
   */
  show(): string {
    return `${toNs(this.timestamp)} ${toNs(this.deadline)}`
  }

  /**
   * Reads the wire form; `Left(InvalidDeadlineError)` for anything else.
   *
   * @example
   * ```ts
   * Deadline.parse('1000000 2000000') // Right(Deadline(1, 2))
   * ```
   */
  static parse(text: string): Either<InvalidDeadlineError, Deadline> {
    const m = TEXT.exec(text.trim())
    if (!m)
      return left(
        new InvalidDeadlineError(text, 'must be two integers (ns since the epoch) separated by a space'),
      )
    return right(new Deadline(fromNs(BigInt(m[1]!)), fromNs(BigInt(m[2]!))))
  }

  /**
   * Reads the wire form, throwing `InvalidDeadlineError`.
   *
   * @example
   * ```ts
   * Deadline.read('1000000 2000000').deadline // 2
   * ```
   */
  static read(text: string): Deadline {
    const d = Deadline.parse(text)
    if (d._tag === 'Left') throw d.left
    return d.right
  }
}

// Through microseconds, so that every value with µs precision survives a round trip exactly.
function toNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n
}

function fromNs(ns: bigint): number {
  const us = ns / 1000n
  return Number(us / 1000n) + Number(us % 1000n) / 1000
}
