// Debian's chromium driven by playwright-core (no browser download): one browser per test file.
import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/** Starts headless chromium with the flags this closed network needs. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `browser tests need chromium at ${CHROMIUM}: apt-get install -y chromium (as .ci/run does)`,
    )
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * Records what a page reports as an error: uncaught exceptions, CSP violations and console errors.
 * Chromium also logs every 4xx a script's fetch receives as a console error; the statuses a test
 * provokes on purpose are passed in `expectedStatuses` and left out.
 */
export function pageErrors(page: Page, expectedStatuses: readonly number[] = []): string[] {
  const errors: string[] = []
  const expected = new RegExp(`status of (${expectedStatuses.join('|') || 'none'}) `)
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    if (m.text().startsWith('Failed to load resource') && expected.test(m.text())) return
    errors.push(`console: ${m.text()}`)
  })
  return errors
}
