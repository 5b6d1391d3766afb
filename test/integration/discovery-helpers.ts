// Helpers shared by the discovery namer tests: wait for a lookup's tree or a bound name's addresses.
import type { Activity } from '../../src/core/activity.js'
import type { Var } from '../../src/core/var.js'
import { Addr } from '../../src/naming/addr.js'
import type { Name, NameBound } from '../../src/naming/name.js'
import type { NameTree } from '../../src/naming/nametree.js'

/** Resolves with the first value of `v` that satisfies `p`; rejects after `timeoutMs`, showing the last. */
export function varEventually<T>(
  v: Var<T>,
  p: (value: T) => boolean,
  timeoutMs = 20_000,
  show: (value: T) => string = (x) => JSON.stringify(x),
): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false
    let last: T | undefined
    let dispose: (() => void) | undefined
    const timer = setTimeout(() => {
      done = true
      dispose?.()
      reject(
        new Error(`timed out after ${timeoutMs} ms; last value ${last === undefined ? '-' : show(last)}`),
      )
    }, timeoutMs)
    dispose = v.observe((x) => {
      last = x
      if (done || !p(x)) return
      done = true
      clearTimeout(timer)
      queueMicrotask(() => dispose?.())
      resolve(x)
    })
    if (done) dispose()
  })
}

/** The activity's state once it satisfies `p` (failed states included, unlike `eventually`). */
export function stateEventually<T>(
  a: Activity<T>,
  p: (state: ReturnType<Activity<T>['state']>) => boolean,
  timeoutMs = 20_000,
) {
  return varEventually(
    {
      sample: () => a.state(),
      observe: (f: (s: ReturnType<Activity<T>['state']>) => void) => a.observe(f),
    } as unknown as Var<ReturnType<Activity<T>['state']>>,
    p,
    timeoutMs,
    (s) =>
      s.kind === 'ok' ? `ok ${String(s.value)}` : s.kind === 'failed' ? `failed ${String(s.error)}` : s.kind,
  )
}

/** The bound leaf of a lookup once it is one. */
export async function boundLeaf(a: Activity<NameTree<Name>>, timeoutMs = 20_000): Promise<NameBound> {
  const s = await stateEventually(
    a,
    (s) => s.kind === 'ok' && s.value.kind === 'leaf' && s.value.value.kind === 'bound',
    timeoutMs,
  )
  const tree = (s as { value: NameTree<Name> }).value as { value: NameBound }
  return tree.value
}

/** The sorted `host:port` list of a bound addr, `Neg`, `Pending` or `Failed(...)`. */
export const shown = (a: Addr): string =>
  a.kind === 'bound'
    ? a.addresses
        .map((x) => x.show())
        .sort()
        .join(',')
    : Addr.show(a)

/** Waits until the addr shows as `expected` (see `shown`). */
export const addrIs = (addr: Var<Addr>, expected: string, timeoutMs = 20_000) =>
  varEventually(addr, (a) => shown(a) === expected, timeoutMs, shown)

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
