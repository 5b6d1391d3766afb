/**
 * The health of a service, as a balancer reads it: `open` takes requests, `busy` would rather not
 * (it is probing, draining or marked dead), `closed` never will again. Ordered open > busy > closed.
 *
 * @example
 * ```ts
 * Status.best('busy', 'open')  // 'open'
 * Status.worst('busy', 'open') // 'busy'
 * ```
 */
export type Status = 'open' | 'busy' | 'closed'

const rank: Record<Status, number> = { closed: 0, busy: 1, open: 2 }

export const Status = {
  Open: 'open' as Status,
  Busy: 'busy' as Status,
  Closed: 'closed' as Status,
  /** The healthier of two statuses. */
  best(a: Status, b: Status): Status {
    return rank[a] >= rank[b] ? a : b
  },
  /** The less healthy of two statuses. */
  worst(a: Status, b: Status): Status {
    return rank[a] <= rank[b] ? a : b
  },
  /** The best of many; `closed` for none. */
  bestOf(statuses: Iterable<Status>): Status {
    let out: Status = 'closed'
    for (const s of statuses) {
      out = Status.best(out, s)
      if (out === 'open') break
    }
    return out
  },
  /** The worst of many; `open` for none. */
  worstOf(statuses: Iterable<Status>): Status {
    let out: Status = 'open'
    for (const s of statuses) {
      out = Status.worst(out, s)
      if (out === 'closed') break
    }
    return out
  },
  /** Compare for sorting: negative when `a` is healthier. */
  compare(a: Status, b: Status): number {
    return rank[b] - rank[a]
  },
} as const
