// examples/l5d/*.yaml all load (with the example plugin), and the canary plugin routes as its
// config says (issue 11: plugins, deployment models as runnable configs).
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isLeft } from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { readLinkerConfig } from '../../src/router/config.js'
import { createLinker } from '../../src/router/linker.js'
import { loadPlugins, PluginError } from '../../src/router/plugins.js'
import { call } from '../integration/http-helpers.js'

const servers: Server[] = []
afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections()
    s.close()
  }
})

async function backend(name: string): Promise<number> {
  const s = createServer((_req, res) => res.end(name))
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  return (s.address() as AddressInfo).port
}

describe('examples/l5d', () => {
  it('every example config loads (canary.yaml with the plugin)', async () => {
    const { kinds, registered } = await loadPlugins(['examples/plugins'])
    expect(registered).toEqual(['identifier io.buoyant.serviceMeshCanary'])
    const files = readdirSync('examples/l5d').filter((f) => f.endsWith('.yaml'))
    expect(files.length).toBeGreaterThanOrEqual(5)
    for (const f of files) {
      const r = readLinkerConfig(readFileSync(`examples/l5d/${f}`, 'utf8'), f, kinds)
      if (isLeft(r)) throw r.left
    }
    // Without the plugin, canary.yaml names the missing kind.
    const bare = readLinkerConfig(readFileSync('examples/l5d/canary.yaml', 'utf8'), 'canary.yaml')
    expect(isLeft(bare) && bare.left.problems.map((p) => p.path)).toEqual(['routers[0].identifier[0].kind'])
  })

  it('the canary plugin: opted-in requests go to the canary, others split 1:9', async () => {
    const { kinds } = await loadPlugins(['examples/plugins'])
    const canary = await backend('canary')
    const stable = await backend('stable')
    const text = readFileSync('examples/l5d/canary.yaml', 'utf8')
      .replace('port: 9990', 'port: 0')
      .replace('port: 4140', 'port: 0')
      .replaceAll('/#/io.l5d.fs/users-canary', `/$/inet/127.0.0.1/${canary}`)
      .replaceAll('/#/io.l5d.fs/users', `/$/inet/127.0.0.1/${stable}`)
    const linker = await createLinker(text, { kinds, log: () => {} })
    try {
      const url = linker.servers[0]!.url
      for (let i = 0; i < 10; i++) {
        expect(
          (await call(url, { headers: { host: 'users', 'x-service-mesh-canary': 'users=enabled' } })).body,
        ).toBe('canary')
        expect(
          (await call(url, { headers: { host: 'users', 'x-service-mesh-canary': 'users=disabled' } })).body,
        ).toBe('stable')
      }
      let toCanary = 0
      for (let i = 0; i < 200; i++)
        if ((await call(url, { headers: { host: 'users' } })).body === 'canary') toCanary++
      expect(toCanary).toBeGreaterThan(2)
      expect(toCanary).toBeLessThan(60)
    } finally {
      await linker.close(0)
    }
  }, 60_000)

  it('a plugin directory with a module that registers nothing is a PluginError naming the file', async () => {
    await expect(loadPlugins(['test/router/plugins-bad'])).rejects.toBeInstanceOf(PluginError)
  })
})
