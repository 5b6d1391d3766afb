import type { HttpHeaders } from '../http/request.js'

const pad = (n: number) => (n < 10 ? `0${n}` : String(n))
const MONTHS = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12']

function zoneOf(d: Date): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d)
    return parts.find((p) => p.type === 'timeZoneName')?.value ?? 'UTC'
  } catch {
    return 'UTC'
  }
}

const first = (v: string | string[] | undefined): string | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? v : v[0]

/** One request for the access log. */
export interface AccessLogEntry {
  readonly host: string | undefined
  readonly remoteIp: string
  readonly method: string
  readonly uri: string
  readonly version: string
  readonly status: number
  readonly requestHeaders: Readonly<HttpHeaders>
  readonly responseHeaders: Readonly<HttpHeaders>
  readonly time: Date
}

/**
 * One line of linkerd's `httpAccessLog` (its `AccessLogger`, in the common log format):
 * `<Host or -> <remote ip> - - [dd/MM/yyyy:HH:mm:ss z] "<METHOD> <uri> HTTP/<v>" <status>
 * <Content-Length or -> "<Referer or ->" "<User-Agent or ->"`, in local time.
 *
 * @example
 * ```ts
 * accessLogLine({ host: 'web', remoteIp: '127.0.0.1', method: 'GET', uri: '/', version: '1.1', status: 200,
 *   requestHeaders: {}, responseHeaders: { 'content-length': '5' }, time: new Date() })
 * // 'web 127.0.0.1 - - [04/12/2026:02:30:00 UTC] "GET / HTTP/1.1" 200 5 "-" "-"'
 * ```
 */
export function accessLogLine(e: AccessLogEntry): string {
  const d = e.time
  const stamp = `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zoneOf(d)}`
  const host = e.host === undefined || e.host === '' ? '-' : e.host
  const length = first(e.responseHeaders['content-length']) ?? '-'
  const referer = first(e.requestHeaders['referer']) ?? '-'
  const agent = first(e.requestHeaders['user-agent']) ?? '-'
  return `${host} ${e.remoteIp} - - [${stamp}] "${e.method} ${e.uri} HTTP/${e.version}" ${e.status} ${length} "${referer}" "${agent}"`
}
