// l5d's admin dashboard in a real browser while traffic flows: router, server, service and client
// panels update every second; killing a backend shows in the success rate; the delegator per router.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLinker, type Linker } from '../../src/router/index.js'
import { launchBrowser, pageErrors } from './browser.js'

const SHOT = new URL('../../docs/img/ui-l5d-dashboard.png', import.meta.url).pathname
let browser: Browser
let linker: Linker
let good: Server
let bad: Server
let traffic = true
let flowing: Promise<void>

async function backend(body: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(body))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}
const portOf = (s: Server) => (s.address() as AddressInfo).port

/** About 40 requests a second, half to each service, until the test ends. */
async function flow(url: string): Promise<void> {
  let i = 0
  while (traffic) {
    const host = i++ % 2 === 0 ? 'good' : 'bad'
    try {
      const res = await request(url, { headers: { host } })
      await res.body.text()
    } catch {
      // the proxy answers every request; a refused connection here would only mean it is closing
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

beforeAll(async () => {
  good = await backend('good')
  bad = await backend('bad')
  linker = await createLinker(
    `admin: {ip: 127.0.0.1, port: 0}
routers:
- protocol: http
  label: outgoing
  dtab: |
    /svc/good => /$/inet/127.0.0.1/${portOf(good)};
    /svc/bad => /$/inet/127.0.0.1/${portOf(bad)};
  servers: [{ip: 127.0.0.1, port: 0}]
`,
    { log: () => {} },
  )
  flowing = flow(linker.servers[0]!.url)
  browser = await launchBrowser()
}, 60_000)

afterAll(async () => {
  traffic = false
  await flowing
  await browser?.close()
  await linker?.close(0)
  good?.close()
  bad?.closeAllConnections()
  bad?.close()
})

const successRate = async (page: import('playwright-core').Page, selector: string) => {
  const text = await page.textContent(`${selector} .success-rate b`)
  return text === null || text === '–' ? Number.NaN : Number.parseFloat(text)
}

describe('l5d dashboard', () => {
  it('shows live rates per router, server, service and client, and a killed backend in the success rate', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } })
    const errors = pageErrors(page)
    const summary = '.router[data-router="outgoing"] .summary .card'
    await page.goto(`${linker.admin.url}/`)
    await expect.poll(() => successRate(page, summary), { timeout: 20_000 }).toBe(100)
    await expect
      .poll(() => page.locator('.router[data-router="outgoing"] .client').count(), { timeout: 20_000 })
      .toBe(2)
    expect(await page.locator('.router[data-router="outgoing"] .service').count()).toBe(2)
    expect(await page.textContent('.service[data-service="svc/good"] .success-rate b')).toBe('100.00%')
    await expect
      .poll(async () => Number.parseFloat((await page.textContent(`${summary} .rps b`))!), {
        timeout: 10_000,
      })
      .toBeGreaterThan(5)

    bad.closeAllConnections()
    await new Promise<void>((resolve) => bad.close(() => resolve()))
    // Half the traffic now fails (502 from the proxy): the rate over the last second drops.
    await expect.poll(() => successRate(page, summary), { timeout: 20_000 }).toBeLessThan(80)
    await expect
      .poll(
        async () =>
          Number.parseFloat((await page.textContent('.service[data-service="svc/bad"] .success-rate b'))!),
        {
          timeout: 20_000,
        },
      )
      .toBeLessThan(50)
    expect(await page.textContent('.service[data-service="svc/good"] .success-rate b')).toBe('100.00%')
    await page.screenshot({ path: SHOT, fullPage: true })

    await page.selectOption('#deleg-router', 'outgoing')
    await page.fill('#deleg-path', '/svc/good')
    await page.click('#delegate')
    await expect.poll(() => page.locator('#deleg-tree .node-leaf').count()).toBe(1)
    expect(await page.textContent('#deleg-tree .node-leaf')).toContain(`127.0.0.1:${portOf(good)}`)
    expect(errors).toEqual([])
    await page.close()
  }, 120_000)

  it('links to the Prometheus metrics and the config, with secrets redacted', async () => {
    const page = await fetch(`${linker.admin.url}/`)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    const html = await page.text()
    expect(html).toContain('href="admin/metrics/prometheus"')
    expect(html).toContain('href="config.json"')
    expect((await fetch(`${linker.admin.url}/admin/metrics/prometheus`)).status).toBe(200)
    expect((await fetch(`${linker.admin.url}/files/l5d.js`)).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    )
  })
})
