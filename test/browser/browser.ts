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
 * Records what a page reports as an error: uncaught exceptions, CSP violations, console errors and
 * failed responses (with their URL). Chromium logs every 4xx a script's fetch receives as a console
 * error without the URL; those are recorded from the response instead, and the statuses a test
 * provokes on purpose are passed in `expectedStatuses` and left out.
 */
export function pageErrors(page: Page, expectedStatuses: readonly number[] = []): string[] {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error' || m.text().startsWith('Failed to load resource')) return
    errors.push(`console: ${m.text()}`)
  })
  page.on('response', (r) => {
    if (r.status() >= 400 && !expectedStatuses.includes(r.status()))
      errors.push(`${r.request().method()} ${r.url()}: ${r.status()}`)
  })
  return errors
}
