import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { metricsTree, redactSecrets, sharedAdminHandler } from '../../src/admin/index.js'
import { inMemoryStats } from '../../src/stats/stats.js'
import { call } from '../integration/http-helpers.js'

const servers: Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler)
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`
}

describe('shared admin handler', () => {
  it('serves metrics flat, as a tree, and a subtree (404 when missing)', async () => {
    const stats = inMemoryStats()
    stats.scope('rt', 'out').counter('requests').incr(3)
    stats.scope('rt', 'out').gauge('pending', () => 2)
    stats.scope('rt', 'out').stat('request_latency_ms').add(5)
    const url = await serve(sharedAdminHandler({ stats }))
    const flat = JSON.parse((await call(`${url}/admin/metrics.json`)).body)
    expect(flat['rt/out/requests']).toBe(3)
    expect(flat['rt/out/request_latency_ms.count']).toBe(1)
    const tree = JSON.parse((await call(`${url}/admin/metrics.json?tree=1`)).body)
    expect(tree.rt.out.requests).toEqual({ counter: 3 })
    expect(tree.rt.out.pending).toEqual({ gauge: 2 })
    expect(tree.rt.out.request_latency_ms['stat.count']).toBe(1)
    const sub = JSON.parse((await call(`${url}/admin/metrics.json?tree=1&q=rt/out/requests`)).body)
    expect(sub).toEqual({ counter: 3 })
    const missing = await call(`${url}/admin/metrics.json?tree=1&q=rt/nope`)
    expect(missing.status).toBe(404)
    expect(JSON.parse(missing.body)).toEqual({ error: 'No such subtree: rt/nope' })
    expect((await call(`${url}/admin/ping`)).body).toBe('pong')
  })

  it('redacts secrets in /config.json', async () => {
    expect(redactSecrets({ a: { authToken: 'x', keyPath: '/k', list: [{ password: 'p' }] } })).toEqual({
      a: { authToken: '<redacted>', keyPath: '/k', list: [{ password: '<redacted>' }] },
    })
    const url = await serve(sharedAdminHandler({ stats: inMemoryStats(), config: { token: 't', port: 1 } }))
    expect(JSON.parse((await call(`${url}/config.json`)).body)).toEqual({ token: '<redacted>', port: 1 })
  })

  it("applies linkerd's security rules: disabled categories and blacklisted paths are 404", async () => {
    let shut = 0
    const url = await serve(
      sharedAdminHandler({
        stats: inMemoryStats(),
        onShutdown: () => shut++,
        security: { controlEnabled: false, pathBlacklist: [/^\/admin\/ping$/], pathWhitelist: [] },
      }),
    )
    expect((await call(`${url}/admin/shutdown`, { method: 'POST' })).status).toBe(404)
    expect((await call(`${url}/admin/ping`)).status).toBe(404)
    expect((await call(`${url}/admin/metrics.json`)).status).toBe(200)
    expect(shut).toBe(0)
  })

  it('metricsTree nests scopes and types leaves', () => {
    expect(metricsTree({ 'a/b': 1, 'a/c.p99': 2 }, (k) => k === 'a/b')).toEqual({
      a: { b: { gauge: 1 }, c: { 'stat.p99': 2 } },
    })
  })
})
