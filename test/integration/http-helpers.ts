// Small HTTP helpers for black-box tests of namerd: plain requests that keep the raw body and
// headers, and watch streams read line by line.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'

export interface RawResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** One request with node:http, so that headers (or their absence) are exactly what was sent. */
export function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; rawPath?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const options = {
      host: u.hostname,
      port: u.port,
      // A raw path is sent as is (`new URL` would resolve `..`).
      path: init.rawPath ?? `${u.pathname}${u.search}`,
      method: init.method ?? 'GET',
      headers: init.headers ?? {},
      agent: false,
    }
    const req = httpRequest(options, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** A streaming response read as lines. */
export interface LineStream {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  /** The next complete line (without its `\n`); rejects if the stream ends first or after `timeoutMs`. */
  next(timeoutMs?: number): Promise<string>
  /** Lines received and not yet taken. */
  readonly buffered: readonly string[]
  /** True once the server ended the stream. */
  readonly ended: boolean
  /** Resolves when the server ends the stream. */
  end(): Promise<void>
  /** Drops the connection, as a client that goes away. */
  close(): void
}

export function watch(url: string, headers: Record<string, string> = {}): Promise<LineStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const lines: string[] = []
      let partial = ''
      let ended = false
      let waiter: (() => void) | undefined
      const endWaiters: (() => void)[] = []
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        partial += chunk
        let i = partial.indexOf('\n')
        while (i >= 0) {
          lines.push(partial.slice(0, i))
          partial = partial.slice(i + 1)
          i = partial.indexOf('\n')
        }
        waiter?.()
      })
      const onEnd = () => {
        ended = true
        waiter?.()
        for (const w of endWaiters.splice(0)) w()
      }
      res.on('end', onEnd)
      res.on('close', onEnd)
      res.on('error', onEnd)
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        get buffered() {
          return lines
        },
        get ended() {
          return ended
        },
        next(timeoutMs = 5000) {
          return new Promise<string>((ok, fail) => {
            const check = () => {
              if (lines.length > 0) {
                waiter = undefined
                clearTimeout(timer)
                ok(lines.shift()!)
              } else if (ended) {
                waiter = undefined
                clearTimeout(timer)
                fail(new Error('stream ended'))
              }
            }
            const timer = setTimeout(() => {
              waiter = undefined
              fail(new Error(`no line within ${timeoutMs} ms`))
            }, timeoutMs)
            waiter = check
            check()
          })
        },
        end: () => (ended ? Promise.resolve() : new Promise<void>((r) => endWaiters.push(r))),
        close: () => {
          req.destroy()
          res.destroy()
        },
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** Waits until `p()` is true, polling every 5 ms; rejects after `timeoutMs`. */
export async function until(p: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!p()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Resolves after `ms`: used only to show that something does NOT happen within a window. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
