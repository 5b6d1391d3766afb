import type { ServerResponse } from 'node:http'

/**
 * Sends a complete response with a `Content-Length`. An empty body is sent with no content type
 * unless one is given (namerd's empty 404/409/400 bodies carry none).
 *
 * @example
 * ```ts
 * respond(res, 404)
 * respond(res, 200, 'pong', 'text/plain')
 * ```
 */
export function respond(
  res: ServerResponse,
  status: number,
  body = '',
  contentType?: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end()
    return
  }
  const all: Record<string, string | number> = { ...headers, 'content-length': Buffer.byteLength(body) }
  if (contentType !== undefined) all['content-type'] = contentType
  res.writeHead(status, all)
  res.end(body)
}

/** The message of anything thrown, for a response body or an error line. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
