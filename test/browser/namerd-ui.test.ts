// namerd's admin UI in a real browser: namespaces, the dtab editor (syntax marker, diff, save with
// the version, conflict, delete), the delegator and the bound names, with a write token set.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { namerctlMain } from '../../src/cli/namerctl-main.js'
import { decodeConfig } from '../../src/config/decode.js'
import { namerdConfigCodec } from '../../src/namerd/config.js'
import { type Namerd, startNamerd } from '../../src/namerd/server.js'
import { launchBrowser, pageErrors } from './browser.js'

const TOKEN = 'ui-test-token'
const SHOTS = new URL('../../docs/img/', import.meta.url)
let dir: string
let namerd: Namerd
let browser: Browser
let admin: string
let api: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-ui-'))
  await mkdir(join(dir, 'disco'))
  await writeFile(join(dir, 'disco', 'users'), '127.0.0.1 8080\n127.0.0.1 8081\n')
  const spec = decodeConfig(namerdConfigCodec(), {
    admin: { ip: '127.0.0.1', port: 0 },
    storage: { kind: 'io.l5d.inMemory', namespaces: { demo: '/svc => /#/io.l5d.fs' } },
    namers: [{ kind: 'io.l5d.fs', rootDir: join(dir, 'disco') }],
    interfaces: [{ kind: 'io.l5d.httpController', ip: '127.0.0.1', port: 0, authToken: TOKEN }],
  })
  if (spec._tag === 'Left') throw new Error(String(spec.left.message))
  namerd = await startNamerd(spec.right, { log: () => {} })
  admin = namerd.admin.url
  api = namerd.interfaces[0]!.url
  browser = await launchBrowser()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await namerd?.close()
  await rm(dir, { recursive: true, force: true })
})

const shot = (page: Page, name: string) =>
  page.screenshot({ path: new URL(name, SHOTS).pathname, fullPage: true })

async function namerctl(args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const code = await namerctlMain(args, {
    stdout: (s) => {
      out += s
    },
    stderr: (s) => {
      out += s
    },
    readStdin: async () => '',
    env: { NAMERCTL_BASE_URL: api },
    cwd: dir,
  })
  return { code, out }
}

describe('namerd UI', () => {
  it('serves pages and assets with a strict CSP, content types and cache headers', async () => {
    const page = await fetch(`${admin}/`)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline')
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(await page.text()).toContain('href="dtab/demo"')
    const js = await fetch(`${admin}/files/namerd.js`)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const etag = js.headers.get('etag')!
    expect(etag).toMatch(/^".+"$/)
    expect((await fetch(`${admin}/files/namerd.js`, { headers: { 'if-none-match': etag } })).status).toBe(304)
    expect((await fetch(`${admin}/files/admin.css`)).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    )
    expect((await fetch(`${admin}/files/..%2fpackage.json`)).status).toBe(404)
    expect((await fetch(`${admin}/files/nope.js`)).status).toBe(404)
    expect((await fetch(`${admin}/dtab/missing`)).status).toBe(404)
    expect((await fetch(`${admin}/dtab/%E0%A4%A`)).status).toBe(400)
  })

  it('the namespace links on the admin port reach a page', async () => {
    const res = await fetch(`${admin}/dtab/demo`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('data-namespace="demo"')
  })

  it('checks dtab text and names the position of an error', async () => {
    const bad = await fetch(`${admin}/admin/dtab/validate`, { method: 'POST', body: '/a=>/b;\n/c=>' })
    expect(await bad.json()).toMatchObject({
      ok: false,
      message: "simple expected but end of input found at '/a=>/b;\n/c=>[]'",
      line: 2,
      column: 5,
    })
    const good = await fetch(`${admin}/admin/dtab/validate`, { method: 'POST', body: '/a=>/b;/c=>/d' })
    expect(await good.json()).toEqual({ ok: true, entries: 2 })
    expect((await fetch(`${admin}/admin/dtab/validate`)).status).toBe(405)
  })

  it('creates a namespace, marks a syntax error, saves, refuses a conflicting write and deletes', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } })
    const errors = pageErrors(page, [401, 412])
    await page.goto(`${admin}/`)
    await expect.poll(() => page.locator('#namespaces li').allTextContents()).toEqual(['demo'])
    await shot(page, 'ui-namerd-index.png')

    // Without the token the write is refused, and the page says what to do.
    await page.fill('#new-ns', 'shop')
    await page.click('#create-button')
    await expect.poll(() => page.textContent('#status')).toContain('needs the write token')
    expect(await (await fetch(`${api}/api/1/dtabs`)).json()).toEqual(['demo'])

    await page.fill('#token', TOKEN)
    await page.dispatchEvent('#token', 'change')
    await page.click('#create-button')
    await page.waitForURL(`${admin}/dtab/shop`)
    await expect.poll(() => page.textContent('#version')).toMatch(/^version \S+/)
    const first = await page.textContent('#version')

    await page.fill('#dtab', '/svc => /#/io.l5d.fs;\n/svc/web => /#/io.l5d.fs/web;\n/svc/api => [')
    await expect.poll(() => page.isVisible('#error')).toBe(true)
    const marker = (await page.textContent('#error'))!
    expect(marker).toContain("expected but '[' found at")
    expect(marker).toContain('line 3, column 13\n/svc/api => [\n            ^')
    expect(await page.isDisabled('#save')).toBe(true)
    await shot(page, 'ui-namerd-dtab-error.png')

    await page.fill('#dtab', '/svc => /#/io.l5d.fs;\n/svc/web => /#/io.l5d.fs/users;')
    await expect.poll(() => page.isVisible('#error')).toBe(false)
    expect(await page.textContent('#diff')).toContain('+ /svc/web => /#/io.l5d.fs/users;')
    await page.click('#save')
    await expect.poll(() => page.textContent('#status')).toContain('saved')
    const second = await page.textContent('#version')
    expect(second).not.toBe(first)
    const stored = await (
      await fetch(`${api}/api/1/dtabs/shop`, { headers: { accept: 'application/dtab' } })
    ).text()
    expect(stored).toContain('/svc/web=>/#/io.l5d.fs/users')

    // Another writer (namerctl) changes the dtab; saving the stale edit is refused and theirs is shown.
    await writeFile(join(dir, 'theirs.dtab'), '/svc => /#/io.l5d.fs/theirs;\n')
    const other = await namerctl(['dtab', 'update', 'shop', join(dir, 'theirs.dtab'), '--token', TOKEN])
    expect(other).toMatchObject({ code: 0 })
    await page.fill('#dtab', '/svc => /#/io.l5d.fs/mine;')
    await page.click('#save')
    await expect.poll(() => page.isVisible('#conflict')).toBe(true)
    expect(await page.textContent('#theirs')).toContain('/#/io.l5d.fs/theirs')
    expect(await page.textContent('#status')).toContain('not saved')
    const after = await (
      await fetch(`${api}/api/1/dtabs/shop`, { headers: { accept: 'application/dtab' } })
    ).text()
    expect(after).toContain('/#/io.l5d.fs/theirs')
    expect(after).not.toContain('mine')
    await shot(page, 'ui-namerd-conflict.png')

    await page.click('#take-theirs')
    await expect.poll(() => page.inputValue('#dtab')).toContain('theirs')
    await page.click('#delete')
    expect(await page.isVisible('#confirm-delete')).toBe(true)
    await page.click('#delete-no')
    expect((await fetch(`${api}/api/1/dtabs/shop`)).status).toBe(200)
    await page.click('#delete')
    await page.click('#delete-yes')
    await page.waitForURL(`${admin}/`)
    expect((await fetch(`${api}/api/1/dtabs/shop`)).status).toBe(404)
    expect(errors).toEqual([])
    await page.close()
  }, 90_000)

  it('delegates a path and lists the bound names live', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
    const errors = pageErrors(page, [400])
    await page.goto(`${admin}/dtab/demo`)
    await page.fill('#deleg-path', '/svc/users')
    await page.fill('#deleg-dtab', '/svc/admin => /#/io.l5d.fs/admin')
    await page.click('#delegate')
    await expect.poll(() => page.locator('#deleg-tree .node-leaf').count()).toBe(1)
    const leaf = (await page.textContent('#deleg-tree .node-leaf'))!
    expect(leaf).toContain('/#/io.l5d.fs/users')
    expect(leaf).toContain('127.0.0.1:8080, 127.0.0.1:8081')
    expect(await page.textContent('#deleg-tree .node-dentry')).toBe('/svc => /#/io.l5d.fs')
    await expect.poll(() => page.textContent('#bound-body'), { timeout: 15_000 }).toContain('127.0.0.1:8081')
    await shot(page, 'ui-namerd-delegator.png')

    await page.fill('#deleg-path', 'not a path')
    await page.click('#delegate')
    await expect.poll(() => page.textContent('#deleg-tree')).toContain('400')
    expect(errors).toEqual([])
    await page.close()
  }, 90_000)
})
