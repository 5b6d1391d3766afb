import { type Disposer, type UpdatableVar, Var } from './var.js'

/**
 * The state of an `Activity`: still working (`pending`), done with a value (`ok`), or failed.
 *
 * @example
 * ```ts
 * const s: ActivityState<number> = { kind: 'ok', value: 1 }
 * ```
 */
export type ActivityState<T> =
  | { readonly kind: 'pending' }
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'failed'; readonly error: unknown }

const PENDING: ActivityState<never> = { kind: 'pending' }

/** The error of `Activity.sample()` when the activity has no value yet. */
export class ActivityPendingError extends Error {
  readonly code = 'ActivityPending'
  constructor() {
    super('activity is pending')
    this.name = 'ActivityPendingError'
  }
}

/**
 * An `Activity` is a `Var` of a computation's state: pending, ok with a value, or failed. Namer
 * lookups, bindings and store watches are activities, so a name that is still resolving, one that
 * resolved, and one whose resolution failed are three different, observable things.
 *
 * @example
 * ```ts
 * const [hosts, witness] = Activity.mutable<string[]>()
 * hosts.map((hs) => hs.length).observe((s) => console.log(s)) // { kind: 'pending' }
 * witness.ok(['a', 'b'])                                       // { kind: 'ok', value: 2 }
 * ```
 */
export class Activity<T> {
  readonly states: Var<ActivityState<T>>
  constructor(states: Var<ActivityState<T>>) {
    this.states = states
  }

  /** The current state. */
  state(): ActivityState<T> {
    return this.states.sample()
  }

  /** The current value; throws the failure, or `ActivityPendingError` while pending. */
  sample(): T {
    const s = this.states.sample()
    if (s.kind === 'ok') return s.value
    if (s.kind === 'failed') throw s.error
    throw new ActivityPendingError()
  }

  /** Observes every state, starting with the current one. */
  observe(f: (state: ActivityState<T>) => void): Disposer {
    return this.states.observe(f)
  }

  /** Maps the value; an exception thrown by `f` becomes a failed state. */
  map<U>(f: (value: T) => U): Activity<U> {
    return new Activity(
      this.states.map((s): ActivityState<U> => {
        if (s.kind !== 'ok') return s
        try {
          return { kind: 'ok', value: f(s.value) }
        } catch (error) {
          return { kind: 'failed', error }
        }
      }),
    )
  }

  /** Chains another activity on the value; pending and failed states pass through. */
  flatMap<U>(f: (value: T) => Activity<U>): Activity<U> {
    return new Activity(
      this.states.flatMap((s): Var<ActivityState<U>> => {
        if (s.kind !== 'ok') return Var.constant(s)
        try {
          return f(s.value).states
        } catch (error) {
          return Var.constant<ActivityState<U>>({ kind: 'failed', error })
        }
      }),
    )
  }

  /** Turns a failure into a value. */
  handle(f: (error: unknown) => T): Activity<T> {
    return new Activity(
      this.states.map((s): ActivityState<T> => (s.kind === 'failed' ? { kind: 'ok', value: f(s.error) } : s)),
    )
  }

  /** Drops consecutive equal states (values compared by `equals`). */
  dedup(equals: (a: T, b: T) => boolean = Object.is): Activity<T> {
    return new Activity(
      this.states.dedup((a, b) => {
        if (a.kind === 'ok' && b.kind === 'ok') return equals(a.value, b.value)
        if (a.kind === 'failed' && b.kind === 'failed') return a.error === b.error
        return a.kind === 'pending' && b.kind === 'pending'
      }),
    )
  }

  /**
   * Resolves with the first `ok` value, rejects with the first failure (or the signal's reason).
   *
   * @example
   * ```ts
   * const value = await Activity.value(3).toPromise() // 3
   * ```
   */
  toPromise(signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let dispose: Disposer | undefined
      let done = false
      const finish = () => {
        done = true
        signal?.removeEventListener('abort', onAbort)
        dispose?.()
      }
      const onAbort = () => {
        finish()
        reject(signal?.reason)
      }
      if (signal?.aborted) return reject(signal.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        dispose = this.states.observe((s) => {
          if (done) return
          if (s.kind === 'ok') {
            finish()
            resolve(s.value)
          } else if (s.kind === 'failed') {
            finish()
            reject(s.error)
          }
        })
      } catch (error) {
        // The subscription undid itself; stop listening to the signal and fail.
        finish()
        return reject(error)
      }
      if (done) dispose()
    })
  }

  /** An activity that is always `ok` with `value`. */
  static value<T>(value: T): Activity<T> {
    return new Activity(Var.constant<ActivityState<T>>({ kind: 'ok', value }))
  }

  /** An activity that is always failed with `error`. */
  static exception<T = never>(error: unknown): Activity<T> {
    return new Activity(Var.constant<ActivityState<T>>({ kind: 'failed', error }))
  }

  /** An activity that is always pending. */
  static pending<T = never>(): Activity<T> {
    return new Activity(Var.constant<ActivityState<T>>(PENDING))
  }

  /** An activity over a var of states. */
  static of<T>(states: Var<ActivityState<T>>): Activity<T> {
    return new Activity(states)
  }

  /**
   * An activity and the witness that drives it.
   *
   * @example
   * ```ts
   * const [a, w] = Activity.mutable<number>(); w.ok(1); a.sample() // 1
   * ```
   */
  static mutable<T>(initial: ActivityState<T> = PENDING): [Activity<T>, ActivityWitness<T>] {
    const v: UpdatableVar<ActivityState<T>> = Var.value(initial)
    return [
      new Activity(v),
      {
        ok: (value) => v.update({ kind: 'ok', value }),
        fail: (error) => v.update({ kind: 'failed', error }),
        pending: () => v.update(PENDING),
      },
    ]
  }

  /**
   * All values at once: ok when every activity is ok, failed when any is failed (the first in order),
   * otherwise pending.
   *
   * @example
   * ```ts
   * Activity.collect([Activity.value(1), Activity.value(2)]).sample() // [1, 2]
   * ```
   */
  static collect<T>(activities: readonly Activity<T>[]): Activity<T[]> {
    return new Activity(
      Var.collect(activities.map((a) => a.states)).map((states): ActivityState<T[]> => {
        const values: T[] = []
        let pending = false
        for (const s of states) {
          if (s.kind === 'failed') return s
          if (s.kind === 'pending') pending = true
          else values.push(s.value)
        }
        return pending ? PENDING : { kind: 'ok', value: values }
      }),
    )
  }
}

/** Drives a mutable activity. */
export interface ActivityWitness<T> {
  ok(value: T): void
  fail(error: unknown): void
  pending(): void
}
