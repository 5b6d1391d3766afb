import { describe, expect, it } from 'vitest'
import { Activity, Var } from '../../src/core/index.js'

describe('Var', () => {
  it('observe sees the current value and every update until disposed', () => {
    const v = Var.value(1)
    const seen: number[] = []
    const stop = v.observe((x) => seen.push(x))
    v.update(2)
    stop()
    v.update(3)
    expect(seen).toEqual([1, 2])
    expect(v.sample()).toBe(3)
  })

  it('map and flatMap follow their sources', () => {
    const a = Var.value(1)
    const b = Var.value(10)
    const pick = Var.value<'a' | 'b'>('a')
    const out = pick.flatMap((p) => (p === 'a' ? a : b)).map((x) => x * 2)
    const seen: number[] = []
    const stop = out.observe((x) => seen.push(x))
    a.update(2)
    pick.update('b')
    a.update(3) // no longer followed
    b.update(11)
    stop()
    expect(seen).toEqual([2, 4, 20, 22])
    expect(out.sample()).toBe(22)
  })

  it('dedup drops consecutive equal values', () => {
    const v = Var.value(1)
    const seen: number[] = []
    v.dedup().observe((x) => seen.push(x))
    v.update(1)
    v.update(2)
    v.update(2)
    v.update(1)
    expect(seen).toEqual([1, 2, 1])
  })

  it('async starts with the first observer and stops with the last', () => {
    let running = 0
    let push: (n: number) => void = () => {}
    const v = Var.async(0, (update) => {
      running++
      push = update
      return () => {
        running--
      }
    })
    expect(running).toBe(0)
    const seen: number[] = []
    const d1 = v.observe((x) => seen.push(x))
    const d2 = v.observe(() => {})
    expect(running).toBe(1)
    push(5)
    d1()
    expect(running).toBe(1)
    d2()
    d2()
    expect(running).toBe(0)
    expect(seen).toEqual([0, 5])
  })

  it('collect waits for every source', () => {
    const a = Var.value(1)
    const b = Var.value(2)
    const seen: number[][] = []
    Var.collect([a, b]).observe((xs) => seen.push(xs))
    b.update(3)
    expect(seen).toEqual([
      [1, 2],
      [1, 3],
    ])
  })
})

describe('Activity', () => {
  it('moves through pending, ok and failed, and map turns a throw into failed', () => {
    const [act, w] = Activity.mutable<number>()
    const mapped = act.map((n) => {
      if (n < 0) throw new Error('negative')
      return n + 1
    })
    const kinds: string[] = []
    mapped.observe((s) => kinds.push(s.kind === 'ok' ? `ok:${s.value}` : s.kind))
    w.ok(1)
    w.ok(-1)
    w.fail(new Error('x'))
    expect(kinds).toEqual(['pending', 'ok:2', 'failed', 'failed'])
    expect(() => Activity.pending().sample()).toThrow('activity is pending')
  })

  it('flatMap passes pending and failure through', () => {
    const [a, wa] = Activity.mutable<number>()
    const out = a.flatMap((n) => (n > 0 ? Activity.value(n * 10) : Activity.exception(new Error('neg'))))
    expect(out.state().kind).toBe('pending')
    wa.ok(2)
    expect(out.sample()).toBe(20)
    wa.ok(0)
    expect(() => out.sample()).toThrow('neg')
  })

  it('toPromise resolves on the first value and releases its observation', async () => {
    let observers = 0
    const [inner, w] = Activity.mutable<number>()
    const tracked = Activity.of(
      Var.async(inner.state(), (update) => {
        observers++
        const d = inner.observe(update)
        return () => {
          observers--
          d()
        }
      }),
    )
    const p = tracked.toPromise()
    expect(observers).toBe(1)
    w.ok(7)
    await expect(p).resolves.toBe(7)
    expect(observers).toBe(0)
  })

  it('toPromise rejects on abort', async () => {
    const ac = new AbortController()
    const p = Activity.pending().toPromise(ac.signal)
    ac.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
  })

  it('collect is ok only when all are ok', () => {
    const [a, wa] = Activity.mutable<number>()
    const all = Activity.collect([a, Activity.value(2)])
    expect(all.state().kind).toBe('pending')
    wa.ok(1)
    expect(all.sample()).toEqual([1, 2])
    wa.fail(new Error('boom'))
    expect(all.state().kind).toBe('failed')
  })
})

describe('hostile observers', () => {
  const warnings = () => {
    const seen: string[] = []
    const on = (w: Error & { code?: string }) => {
      if (w.code === 'SWITCHBOARD_OBSERVER_ERROR') seen.push(w.message)
    }
    process.on('warning', on)
    return { seen, stop: () => process.off('warning', on) }
  }

  it('an observer that throws neither fails the update nor skips the other observers', async () => {
    const w = warnings()
    const v = Var.value(1)
    const seen: number[] = []
    v.observe((x) => {
      if (x === 2) throw new Error('boom')
    })
    v.observe((x) => seen.push(x))
    expect(() => v.update(2)).not.toThrow()
    v.update(3)
    expect(seen).toEqual([1, 2, 3])
    expect(v.sample()).toBe(3)
    await new Promise((r) => setImmediate(r))
    w.stop()
    expect(w.seen).toEqual(['an observer threw: boom'])
  })

  it('an async var whose first observer throws is stopped again, and keeps working', () => {
    let starts = 0
    let stops = 0
    const source = Var.value(1)
    const v = Var.async(0, (update) => {
      starts++
      const d = source.observe(update)
      return () => {
        stops++
        d()
      }
    })
    expect(() =>
      v.observe(() => {
        throw new RangeError('Maximum call stack size exceeded')
      }),
    ).toThrow(RangeError)
    expect([starts, stops]).toEqual([1, 1])
    const seen: number[] = []
    const stop = v.observe((x) => seen.push(x))
    source.update(2)
    stop()
    expect(seen).toEqual([1, 2])
    expect([starts, stops]).toEqual([2, 2])
  })

  it('flatMap and collect undo a subscription that throws half-way', () => {
    let live = 0
    const counted = <T>(value: T) =>
      Var.async(value, (update) => {
        live++
        update(value)
        return () => {
          live--
        }
      })
    const outer = counted(1)
    const bad = Var.async(0, () => {
      throw new Error('cannot start')
    })
    expect(() => outer.flatMap(() => bad).observe(() => {})).toThrow('cannot start')
    expect(live).toBe(0)
    const inner = counted(2)
    expect(() => Var.collect([outer, inner, bad]).observe(() => {})).toThrow('cannot start')
    expect(live).toBe(0)
    expect(() =>
      outer
        .flatMap(() => inner)
        .observe(() => {
          throw new Error('observer')
        }),
    ).toThrow('observer')
    expect(live).toBe(0)
  })

  it('toPromise rejects when subscribing throws, leaving the source unobserved', async () => {
    let live = 0
    const states = Var.async<{ kind: 'pending' }>({ kind: 'pending' }, () => {
      live++
      return () => {
        live--
      }
    })
    const a = Activity.of(states).map(() => 1)
    const broken = Activity.of(
      states.flatMap(() =>
        Var.async(PENDING_STATE, () => {
          throw new RangeError('Maximum call stack size exceeded')
        }),
      ),
    )
    const ac = new AbortController()
    await expect(broken.toPromise(ac.signal)).rejects.toThrow(RangeError)
    expect(live).toBe(0)
    // The signal listener is gone too: aborting later does nothing.
    ac.abort()
    const p = a.toPromise()
    expect(live).toBe(1)
    void p
  })
})

const PENDING_STATE = { kind: 'pending' } as const
