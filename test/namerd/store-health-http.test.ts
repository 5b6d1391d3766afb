// How a remote store's trouble reaches HTTP: writes answer 503 with the reason, reads keep serving
// the last known dtabs, and /admin/ping turns 503 (a readiness check) until the store is back.
import { afterEach, describe, expect, it } from 'vitest'
import type { Activity } from '../../src/core/activity.js'
import { manualClock } from '../../src/core/clock.js'
import { adminHandler } from '../../src/namerd/admin.js'
import { httpController } from '../../src/namerd/http/controller.js'
import { type Listening, listen } from '../../src/namerd/http/listen.js'
import { HealthTracker, type StoreHealthReporting } from '../../src/namerd/store/health.js'
import { inMemoryDtabStore } from '../../src/namerd/store/memory.js'
import type { DtabStore, VersionedDtab } from '../../src/namerd/store/store.js'
import type { Version } from '../../src/namerd/store/version.js'
import type { Dtab } from '../../src/naming/dtab.js'
import { inMemoryStats } from '../../src/stats/stats.js'

/** An in-memory store behind a switch: while `down`, writes fail as a remote store's do. */
function switchableStore() {
  const inner = inMemoryDtabStore()
  const stats = inMemoryStats()
  const tracker = new HealthTracker(manualClock(), stats, 'etcd 127.0.0.1:2379: connecting')
  tracker.connected('etcd 127.0.0.1:2379: watching /namerd/dtabs/')
  const guard = async () => {
    if (tracker.status !== 'connected') throw tracker.unavailable()
  }
  const store: DtabStore & StoreHealthReporting = {
    health: tracker.health,
    list: (): Activity<readonly string[]> => inner.list(),
    observe: (ns: string): Activity<VersionedDtab | undefined> => inner.observe(ns),
    create: async (ns: string, d: Dtab) => guard().then(() => inner.create(ns, d)),
    update: async (ns: string, d: Dtab, v: Version) => guard().then(() => inner.update(ns, d, v)),
    put: async (ns: string, d: Dtab) => guard().then(() => inner.put(ns, d)),
    delete: async (ns: string) => guard().then(() => inner.delete(ns)),
    close: () => inner.close(),
  }
  return { store, tracker, stats }
}

const servers: Listening[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

describe('a remote store that loses its server, over HTTP', () => {
  it('writes answer 503 with the reason, reads serve the last dtab, /admin/ping is 503 until it is back', async () => {
    const { store, tracker, stats } = switchableStore()
    const api = await listen(httpController({ store }).handler, '127.0.0.1', 0)
    const admin = await listen(adminHandler({ stats, storeHealth: store.health }), '127.0.0.1', 0)
    servers.push(api, admin)
    const put = (body: string) =>
      fetch(`${api.url}/api/1/dtabs/default`, {
        method: 'PUT',
        headers: { 'content-type': 'application/dtab' },
        body,
      })

    expect((await put('/svc=>/a')).status).toBe(204)
    let ping = await fetch(`${admin.url}/admin/ping`)
    expect([ping.status, await ping.text()]).toEqual([200, 'pong'])

    tracker.lost('etcd 127.0.0.1:2379: connection refused')
    const refused = await put('/svc=>/b')
    expect(refused.status).toBe(503)
    expect(await refused.text()).toBe(
      'dtab store is unavailable: reconnecting: etcd 127.0.0.1:2379: connection refused\n',
    )
    const read = await fetch(`${api.url}/api/1/dtabs/default`, { headers: { accept: 'application/dtab' } })
    expect([read.status, await read.text()]).toEqual([200, '/svc=>/a\n'])
    ping = await fetch(`${admin.url}/admin/ping`)
    expect([ping.status, await ping.text()]).toEqual([
      503,
      'dtab store reconnecting: etcd 127.0.0.1:2379: connection refused\n',
    ])

    tracker.connected('etcd 127.0.0.1:2379: watching /namerd/dtabs/')
    expect((await put('/svc=>/b')).status).toBe(204)
    ping = await fetch(`${admin.url}/admin/ping`)
    expect([ping.status, await ping.text()]).toEqual([200, 'pong'])
  })
})
