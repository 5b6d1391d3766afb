/**
 * A `Var` is a value that changes over time: read it now with `sample()`, or be told of every change
 * with `observe()`. Derived vars (`map`, `flatMap`) are computed from their sources and hold no state
 * of their own; a `Var.async` starts its work when the first observer arrives and stops it when the
 * last one leaves, so an unobserved name costs nothing.
 *
 * @example
 * ```ts
 * const port = Var.value(8080)
 * const url = port.map((p) => `http://127.0.0.1:${p}`)
 * const stop = url.observe((u) => console.log(u)) // prints http://127.0.0.1:8080
 * port.update(9090)                                // prints http://127.0.0.1:9090
 * stop()
 * ```
 */
export interface Var<T> {
  /** The current value. */
  sample(): T
  /**
   * Calls `f` with the current value at once and then with every new value, until the returned
   * disposer is called.
   */
  observe(f: (value: T) => void): Disposer
  map<U>(f: (value: T) => U): Var<U>
  flatMap<U>(f: (value: T) => Var<U>): Var<U>
  /** Drops consecutive values that are equal by `equals` (default `Object.is`). */
  dedup(equals?: (a: T, b: T) => boolean): Var<T>
}

/** Stops an observation; calling it again does nothing. */
export type Disposer = () => void

/** A `Var` its owner can set. */
export interface UpdatableVar<T> extends Var<T> {
  update(value: T): void
}

abstract class AbstractVar<T> implements Var<T> {
  abstract sample(): T
  abstract observe(f: (value: T) => void): Disposer
  map<U>(f: (value: T) => U): Var<U> {
    return new MappedVar(this, f)
  }
  flatMap<U>(f: (value: T) => Var<U>): Var<U> {
    return new FlatMappedVar(this, f)
  }
  dedup(equals: (a: T, b: T) => boolean = Object.is): Var<T> {
    return new DedupVar(this, equals)
  }
}

/** Observers of a source, with the source watched only while someone watches us. */
class Observers<T> {
  private readonly fs = new Set<{ f: (value: T) => void }>()
  get size(): number {
    return this.fs.size
  }
  add(f: (value: T) => void): Disposer {
    const box = { f }
    this.fs.add(box)
    return () => {
      this.fs.delete(box)
    }
  }
  notify(value: T): void {
    // Observers are isolated from each other and from the writer: one that throws neither stops
    // the others from hearing the value nor fails the `update` that announced it.
    for (const box of [...this.fs]) {
      if (!this.fs.has(box)) continue
      try {
        box.f(value)
      } catch (error) {
        reportObserverError(error)
      }
    }
  }
}

/**
 * Where an exception thrown by an observer goes: it is isolated from the writer and from the other
 * observers, so it is reported as a process warning (code `SWITCHBOARD_OBSERVER_ERROR`, see
 * `process.on('warning')`) instead of being thrown. Stores and other notifiers use it for the same
 * rule.
 *
 * @example
 * ```ts
 * for (const f of observers) {
 *   try { f(value) } catch (error) { reportObserverError(error) }
 * }
 * ```
 */
export function reportObserverError(error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error))
  try {
    process.emitWarning(`an observer threw: ${e.message}`, {
      type: 'ObserverError',
      code: 'SWITCHBOARD_OBSERVER_ERROR',
      detail: e.stack,
    })
  } catch {
    // Reporting must never throw into the write path either.
  }
}

/** Undoes a subscription that failed half-way, so it leaves nothing behind, and rethrows. */
function undoAndThrow(undo: () => void, error: unknown): never {
  try {
    undo()
  } catch (undoError) {
    reportObserverError(undoError)
  }
  throw error
}

class ValueVar<T> extends AbstractVar<T> implements UpdatableVar<T> {
  private readonly observers = new Observers<T>()
  private value: T
  constructor(value: T) {
    super()
    this.value = value
  }
  sample(): T {
    return this.value
  }
  update(value: T): void {
    this.value = value
    this.observers.notify(value)
  }
  observe(f: (value: T) => void): Disposer {
    const dispose = this.observers.add(f)
    try {
      f(this.value)
    } catch (error) {
      undoAndThrow(dispose, error)
    }
    return dispose
  }
}

class AsyncVar<T> extends AbstractVar<T> {
  private readonly observers = new Observers<T>()
  private stop: Disposer | undefined
  private value: T
  private readonly start: (update: (value: T) => void) => Disposer
  constructor(value: T, start: (update: (value: T) => void) => Disposer) {
    super()
    this.value = value
    this.start = start
  }
  sample(): T {
    if (this.observers.size > 0) return this.value
    // Unobserved: run the source just long enough to see what it knows at once.
    const dispose = this.observe(() => {})
    const v = this.value
    dispose()
    return v
  }
  observe(f: (value: T) => void): Disposer {
    // Start the source before adding `f`, so a value the source knows at once reaches `f` only once.
    if (this.observers.size === 0 && !this.stop) {
      this.stop = this.start((v) => {
        this.value = v
        this.observers.notify(v)
      })
    }
    const dispose = this.observers.add(f)
    let done = false
    const disposer = () => {
      if (done) return
      done = true
      dispose()
      if (this.observers.size === 0) {
        const stop = this.stop
        this.stop = undefined
        stop?.()
      }
    }
    try {
      f(this.value)
    } catch (error) {
      undoAndThrow(disposer, error)
    }
    return disposer
  }
}

class MappedVar<A, B> extends AbstractVar<B> {
  private readonly source: Var<A>
  private readonly f: (a: A) => B
  constructor(source: Var<A>, f: (a: A) => B) {
    super()
    this.source = source
    this.f = f
  }
  sample(): B {
    return this.f(this.source.sample())
  }
  observe(g: (value: B) => void): Disposer {
    return this.source.observe((a) => g(this.f(a)))
  }
}

class FlatMappedVar<A, B> extends AbstractVar<B> {
  private readonly source: Var<A>
  private readonly f: (a: A) => Var<B>
  constructor(source: Var<A>, f: (a: A) => Var<B>) {
    super()
    this.source = source
    this.f = f
  }
  sample(): B {
    return this.f(this.source.sample()).sample()
  }
  observe(g: (value: B) => void): Disposer {
    let inner: Disposer | undefined
    let generation = 0
    const stopInner = () => {
      generation++
      const d = inner
      inner = undefined
      d?.()
    }
    let outer: Disposer
    try {
      outer = this.source.observe((a) => {
        const mine = ++generation
        const prev = inner
        inner = undefined
        prev?.()
        const next = this.f(a)
        const d = next.observe((b) => {
          if (mine === generation) g(b)
        })
        if (mine === generation) inner = d
        else d()
      })
    } catch (error) {
      // The source has already dropped us; drop the inner too.
      undoAndThrow(stopInner, error)
    }
    return () => {
      outer()
      stopInner()
    }
  }
}

class DedupVar<T> extends AbstractVar<T> {
  private readonly source: Var<T>
  private readonly equals: (a: T, b: T) => boolean
  constructor(source: Var<T>, equals: (a: T, b: T) => boolean) {
    super()
    this.source = source
    this.equals = equals
  }
  sample(): T {
    return this.source.sample()
  }
  observe(f: (value: T) => void): Disposer {
    let seen = false
    let last: T | undefined
    return this.source.observe((v) => {
      if (seen && this.equals(last as T, v)) return
      seen = true
      last = v
      f(v)
    })
  }
}

class ConstVar<T> extends AbstractVar<T> {
  private readonly value: T
  constructor(value: T) {
    super()
    this.value = value
  }
  sample(): T {
    return this.value
  }
  observe(f: (value: T) => void): Disposer {
    f(this.value)
    return () => {}
  }
}

export const Var = {
  /**
   * A var its owner updates.
   *
   * @example
   * ```ts
   * const v = Var.value(1); v.update(2); v.sample() // 2
   * ```
   */
  value<T>(initial: T): UpdatableVar<T> {
    return new ValueVar(initial)
  },
  /**
   * A var that never changes.
   *
   * @example
   * ```ts
   * Var.constant('x').sample() // 'x'
   * ```
   */
  constant<T>(value: T): Var<T> {
    return new ConstVar(value)
  },
  /**
   * A var whose source runs only while observed: `start` is called with an update function when the
   * first observer arrives and must return a disposer that stops the source when the last one leaves.
   *
   * @example
   * ```ts
   * const ticks = Var.async(0, (update) => { let n = 0; const h = setInterval(() => update(++n), 1000); return () => clearInterval(h) })
   * ```
   */
  async<T>(initial: T, start: (update: (value: T) => void) => Disposer): Var<T> {
    return new AsyncVar(initial, start)
  },
  /**
   * A var of the values of many vars, in order.
   *
   * @example
   * ```ts
   * Var.collect([Var.value(1), Var.value(2)]).sample() // [1, 2]
   * ```
   */
  collect<T>(vars: readonly Var<T>[]): Var<T[]> {
    if (vars.length === 0) return new ConstVar<T[]>([])
    return Var.async<T[]>([], (update) => {
      const values: T[] = new Array(vars.length)
      let ready = 0
      const seen = new Array<boolean>(vars.length).fill(false)
      let started = false
      const disposers: Disposer[] = []
      const stopAll = () => {
        for (const d of disposers.splice(0)) d()
      }
      const observer = (i: number) => (x: T) => {
        values[i] = x
        if (!seen[i]) {
          seen[i] = true
          ready++
        }
        if (started && ready === vars.length) update([...values])
      }
      // A plain loop (no callbacks): deep trees of collected vars nest the stack once per level.
      try {
        for (let i = 0; i < vars.length; i++) disposers.push(vars[i]!.observe(observer(i)))
      } catch (error) {
        undoAndThrow(stopAll, error)
      }
      started = true
      if (ready === vars.length) update([...values])
      return stopAll
    })
  },
} as const
