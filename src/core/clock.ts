/**
 * Time as a parameter. Every component that waits or measures takes a `Clock` (what time is it)
 * and a `Timer` (call me later), so tests and the simulator can run it in virtual time.
 *
 * @example
 * ```ts
 * const clock = manualClock()
 * clock.setTimeout(() => console.log('fired at', clock.now()), 100)
 * clock.advance(100) // prints "fired at 100"
 * ```
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never goes backwards. */
  now(): number
}

/** Cancels a scheduled callback; calling it twice, or after the callback ran, does nothing. */
export type Cancel = () => void

export interface Timer {
  /** Runs `fn` once after `ms` milliseconds. The timer never keeps the process alive. */
  setTimeout(fn: () => void, ms: number): Cancel
}

/** A clock and a timer that agree with each other. */
export interface Scheduler extends Clock, Timer {}

const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Wall time through `performance.now()` and Node's timers, unref'd so that a pending timer never
 * keeps a process alive.
 *
 * @example
 * ```ts
 * const cancel = systemScheduler.setTimeout(() => {}, 1000); cancel()
 * ```
 */
export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    // Node turns a delay above 2^31 - 1 ms (about 24.8 days) into 1 ms; an uncapped backoff must not.
    const handle = setTimeout(fn, Math.min(MAX_TIMER_MS, Math.max(0, ms)))
    handle.unref()
    return () => clearTimeout(handle)
  },
}

/** A `Scheduler` whose time moves only when told to. */
export interface ManualClock extends Scheduler {
  /** Moves time forward by `ms`, running every callback due on the way, in time order. */
  advance(ms: number): void
  /** Moves time to `t` (not backwards), running every callback due on the way. */
  advanceTo(t: number): void
  /** Callbacks scheduled and not yet run or cancelled. */
  readonly pending: number
  /** The time of the next scheduled callback, or `undefined`. */
  nextAt(): number | undefined
  /** Runs the next scheduled callback, moving time to it. Returns false when none is left. */
  runNext(): boolean
}

interface Entry {
  at: number
  seq: number
  fn: () => void
  live: boolean
}

/**
 * A virtual clock for tests and simulations: callbacks run in (time, scheduling order) and only
 * when time is advanced. A binary heap keeps scheduling at O(log n) so a simulation with millions
 * of events stays fast.
 *
 * @example
 * ```ts
 * const clock = manualClock(1000)
 * clock.now() // 1000
 * clock.advance(5)
 * clock.now() // 1005
 * ```
 */
export function manualClock(start = 0): ManualClock {
  let now = start
  let seq = 0
  let live = 0
  const heap: Entry[] = []
  const less = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.seq < b.seq)
  const push = (e: Entry) => {
    heap.push(e)
    let i = heap.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(heap[i]!, heap[p]!)) break
      ;[heap[i], heap[p]] = [heap[p]!, heap[i]!]
      i = p
    }
  }
  const pop = (): Entry | undefined => {
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
        i = m
      }
    }
    return top
  }
  const peekLive = (): Entry | undefined => {
    while (heap.length > 0 && !heap[0]!.live) pop()
    return heap[0]
  }
  const clock: ManualClock = {
    now: () => now,
    setTimeout(fn, ms) {
      const e: Entry = { at: now + Math.max(0, ms), seq: seq++, fn, live: true }
      live++
      push(e)
      return () => {
        if (e.live) {
          e.live = false
          live--
        }
      }
    },
    advance(ms) {
      clock.advanceTo(now + ms)
    },
    advanceTo(t) {
      for (;;) {
        const e = peekLive()
        if (!e || e.at > t) break
        clock.runNext()
      }
      if (t > now) now = t
    },
    get pending() {
      return live
    },
    nextAt: () => peekLive()?.at,
    runNext() {
      const e = peekLive()
      if (!e) return false
      pop()
      e.live = false
      live--
      if (e.at > now) now = e.at
      e.fn()
      return true
    },
  }
  return clock
}

/**
 * Waits `ms` on `timer` (always asynchronously, even for 0), and rejects with the signal's reason if `signal` aborts first; the timer and the abort listener are
 * removed either way, so nothing outlives the wait.
 *
 * @example
 * ```ts
 * await sleep(systemScheduler, 50, AbortSignal.timeout(1000))
 * ```
 */
export function sleep(timer: Timer, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      cancel()
      reject(signal?.reason)
    }
    const cancel = timer.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
