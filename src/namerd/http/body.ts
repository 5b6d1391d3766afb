import type { IncomingMessage } from 'node:http'
import { SwitchboardError } from '../../core/errors.js'

/** namerd's limit on a request body: dtabs are small, and a bigger body is a mistake or an attack. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

/**
 * A request body larger than the limit (HTTP 413). The rest of the body is not read.
 *
 * @example
 * ```ts
 * await readBody(req, 1024) // rejects with RequestBodyTooLarge for a 2 KiB body
 * ```
 */
export class RequestBodyTooLarge extends SwitchboardError {
  readonly limit: number
  constructor(limit: number, found: number | undefined) {
    super(
      'RequestBodyTooLarge',
      found === undefined
        ? `request body is larger than the limit of ${limit} bytes`
        : `request body is ${found} bytes, larger than the limit of ${limit} bytes`,
    )
    this.limit = limit
  }
}

/**
 * Reads a whole request body, stopping as soon as it passes `limit` bytes (a declared
 * `Content-Length` over the limit is refused before anything is read).
 *
 * @example
 * ```ts
 * const text = (await readBody(req, DEFAULT_MAX_BODY_BYTES)).toString('utf8')
 * ```
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > limit) {
      req.resume()
      reject(new RequestBodyTooLarge(limit, Number(declared)))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onAborted)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        done = true
        cleanup()
        req.resume()
        reject(new RequestBodyTooLarge(limit, undefined))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      if (done) return
      done = true
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error) => {
      if (done) return
      done = true
      cleanup()
      reject(error)
    }
    const onAborted = () => onError(new Error('request aborted'))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onAborted)
  })
}
