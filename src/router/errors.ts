import { NoBrokersAvailableError } from '../balancer/errors.js'
import { SwitchboardError } from '../core/errors.js'
import { isRequeueable } from '../core/failure.js'
import type { RouteInfo } from '../http/client.js'
import { ChannelClosedError, ConnectionFailedError } from '../http/errors.js'
import { UnidentifiedError } from '../http/identifiers.js'
import { encodeL5dErr, L5dHeaders } from '../http/propagation.js'
import { BindingTimeoutError } from '../http/router.js'
import { TimeoutError } from '../limits/errors.js'
import type { Addr } from '../naming/addr.js'
import type { Dtab } from '../naming/dtab.js'
import { NameTree } from '../naming/nametree.js'
import { ParseError } from '../naming/parse-error.js'

/**
 * A request the router refuses before routing it, with the status linkerd answers: a `Via` chain
 * longer than `maxCallDepth` (400), a body larger than `maxRequestKB` (413), a request line longer
 * than `maxInitialLineKB` (414), or more than `maxConcurrentRequests` in flight (503).
 *
 * @example
 * ```ts
 * new RouterRejection(400, 'Maximum number of calls (2) has been exceeded. Please check for proxy loops.')
 * ```
 */
export class RouterRejection extends SwitchboardError {
  readonly status: number
  readonly retryable: boolean
  constructor(status: number, message: string, retryable = false) {
    super('RouterRejection', message)
    this.status = status
    this.retryable = retryable
  }
}

/**
 * twitter util's `Duration` print, as linkerd's messages show it: `10.seconds`, `600.milliseconds`,
 * `1.minutes`.
 *
 * @example
 * ```ts
 * showDuration(10_000) // '10.seconds'
 * ```
 */
export function showDuration(ms: number): string {
  if (!Number.isInteger(ms)) return `${Math.round(ms * 1000)}.microseconds`
  if (ms === 0) return '0.milliseconds'
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}.days`
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}.hours`
  if (ms % 60_000 === 0) return `${ms / 60_000}.minutes`
  if (ms % 1000 === 0) return `${ms / 1000}.seconds`
  return `${ms}.milliseconds`
}

function dtabLines(dtab: Dtab | undefined): string {
  let out = ''
  for (const d of dtab?.entries ?? []) out += `  ${d.prefix.show()} => ${NameTree.show(d.dst)}\n`
  return out
}

function addressesOf(info: RouteInfo): string[] {
  const addr = info.name?.addr.sample() as Addr | undefined
  if (addr?.kind !== 'bound') return []
  return [...addr.addresses].map((a) =>
    a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`,
  )
}

/** What the router knows when a request fails: for the message of the error response. */
export interface FailureContext {
  readonly method: string
  readonly uri: string
  /** `<ip>:<port>` of the caller. */
  readonly remote: string
  /** The router's base dtab. */
  readonly baseDtab: Dtab
  readonly info: RouteInfo
}

/** An error response of the router: status, message and whether `l5d-retryable: true` goes with it. */
export interface RouterErrorResponse {
  readonly status: number
  readonly message: string
  readonly retryable: boolean
}

/**
 * Maps a failure to linkerd's error response (spec router §4): 400 for a request that cannot be
 * named or is malformed, 502 for one that was named but could not be delivered, 503 for a timeout;
 * the message as linkerd words it.
 *
 * @example
 * ```ts
 * routerError(new BindingTimeoutError('/svc/x', 10_000), ctx).message
 * // 'Exceeded 10.seconds binding timeout while resolving name: /svc/x'
 * ```
 */
export function routerError(error: unknown, ctx: FailureContext): RouterErrorResponse {
  const { info } = ctx
  const service = info.dst?.show() ?? ''
  if (error instanceof RouterRejection)
    return { status: error.status, message: error.message, retryable: error.retryable }
  if (error instanceof UnidentifiedError)
    return {
      status: 400,
      message: `Unknown destination: Request("${ctx.method} ${ctx.uri}", from /${ctx.remote}) / ${error.reason}`,
      retryable: false,
    }
  if (error instanceof ParseError) return { status: 400, message: error.message, retryable: false }
  if (error instanceof NoBrokersAvailableError)
    return {
      status: 502,
      message: `Unable to route request!\n\nservice name: ${service}\ndtab:\n\nbase dtab:\n${dtabLines(ctx.baseDtab)}override dtab:\n${dtabLines(info.local)}`,
      retryable: false,
    }
  if (error instanceof ConnectionFailedError)
    return {
      status: 502,
      message: `Unable to establish connection to ${error.address}.\n\nservice name: ${service}\nclient name: ${info.name?.idStr ?? ''}\naddresses: [${addressesOf(info).join(', ')}]\nselected address: ${error.address}\n`,
      retryable: true,
    }
  if (error instanceof BindingTimeoutError) {
    const ms = Number(/Exceeded ([\d.]+) ms/.exec(error.message)?.[1] ?? Number.NaN)
    return {
      status: 502,
      message: `Exceeded ${Number.isNaN(ms) ? error.message : showDuration(ms)} binding timeout while resolving name: ${error.dst}`,
      retryable: false,
    }
  }
  if (error instanceof TimeoutError) {
    const d = showDuration(error.timeoutMs)
    const message =
      error.kind === 'attempt'
        ? `exceeded ${d} to ${info.name?.idStr ?? 'unspecified'} while waiting for a response for an individual request, excluding retries. Remote Info: Not Available`
        : error.kind === 'total'
          ? `exceeded ${d} to unspecified while waiting for a response for the request, including retries (if applicable). Remote Info: Not Available`
          : error.message
    return { status: 503, message, retryable: false }
  }
  if (error instanceof ChannelClosedError) return { status: 502, message: error.message, retryable: false }
  const message =
    error instanceof Error ? (error.message !== '' ? error.message : error.constructor.name) : String(error)
  return { status: 502, message, retryable: isRequeueable(error) }
}

/**
 * The head and body of an error response, byte for byte as linkerd sends it: `Content-Type:
 * text/plain`, the message (cut to `maxErrResponseBytes`) as the body, `l5d-err` its ISO-8859-1
 * form-URL encoding (cut to `maxHeaderBytes`), and `l5d-retryable: true` when nothing was sent.
 *
 * @example
 * ```ts
 * const { headers, body } = errorResponseOf({ status: 400, message: 'bad', retryable: false })
 * headers['l5d-err'] // 'bad'
 * ```
 */
export function errorResponseOf(
  e: RouterErrorResponse,
  maxErrResponseBytes = 5120 * 1024,
  maxHeaderBytes = 8192,
): { headers: Record<string, string>; body: Buffer } {
  let body = Buffer.from(e.message)
  if (body.length > maxErrResponseBytes) body = body.subarray(0, maxErrResponseBytes)
  const headers: Record<string, string> = {
    [L5dHeaders.err]: encodeL5dErr(e.message).slice(0, maxHeaderBytes),
    'content-type': 'text/plain',
    'content-length': String(body.length),
  }
  if (e.retryable) headers[L5dHeaders.retryable] = 'true'
  return { headers, body }
}
