import { Blob } from 'node:buffer'
import { Readable } from 'node:stream'
import { SwitchboardError } from '../core/errors.js'
import type { ResponseBody } from './body.js'
import type { HttpHeaders } from './request.js'

/**
 * A response body was read twice (`text()` after `json()`, or after streaming it), or `formData()`
 * was asked for (undici's request bodies do not support it either).
 *
 * @example
 * ```ts
 * await rep.body.text(); await rep.body.text() // rejects with BodyUnusableError
 * ```
 */
export class BodyUnusableError extends SwitchboardError {
  constructor(message = 'response body is unusable: it was already read') {
    super('BodyUnusable', message)
  }
}

/**
 * The response body of `client.request`: a Node `Readable` with undici's body mixin (`text()`,
 * `json()`, `bytes()`, `arrayBuffer()`, `blob()`, `dump()`, `body`, `bodyUsed`). Read with a mixin
 * method, the chunks go straight from the connection into one buffer, with no stream machinery;
 * read as a stream (`pipe`, `for await`, `'data'`), it is an ordinary `Readable` with backpressure.
 * Destroying it before the end aborts the request on the wire.
 *
 * @example
 * ```ts
 * const { body } = await client.request('http://users/api/42')
 * const user = await body.json()
 * ```
 */
export class ResponseStream extends Readable {
  private readonly source: ResponseBody
  private mode: 'idle' | 'stream' | 'consumed' = 'idle'
  private ended = false
  private bytesRead = 0
  private web: ReadableStream<Uint8Array> | undefined
  /** Filled when the body ends. */
  readonly trailers: HttpHeaders

  constructor(source: ResponseBody, trailers: HttpHeaders = {}) {
    super({ autoDestroy: true, highWaterMark: 64 * 1024 })
    this.source = source
    this.trailers = trailers
  }

  override _read(): void {
    if (this.mode === 'stream') {
      this.source.resume()
      return
    }
    if (this.mode === 'consumed') return
    this.mode = 'stream'
    this.source.attach({
      onData: (chunk) => {
        this.bytesRead += chunk.length
        if (!this.push(chunk)) this.source.pause()
      },
      onEnd: (trailers) => {
        this.ended = true
        Object.assign(this.trailers, trailers)
        this.push(null)
      },
      onError: (error) => this.destroy(error),
    })
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.ended)
      this.source.abort(error ?? new SwitchboardError('RequestAborted', 'response body destroyed'))
    callback(error)
  }

  /** Whether the body has been read (or is being read). */
  get bodyUsed(): boolean {
    return this.mode !== 'idle'
  }

  /** The body as a web `ReadableStream`. */
  get body(): ReadableStream<Uint8Array> {
    this.web ??= Readable.toWeb(this) as ReadableStream<Uint8Array>
    return this.web
  }

  private collect(): Promise<Buffer> {
    if (this.mode !== 'idle') return Promise.reject(new BodyUnusableError())
    this.mode = 'consumed'
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      this.source.attach({
        onData: (chunk) => {
          this.bytesRead += chunk.length
          chunks.push(chunk)
        },
        onEnd: (trailers) => {
          this.ended = true
          Object.assign(this.trailers, trailers)
          resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
          this.destroy()
        },
        onError: (error) => {
          reject(error)
          this.destroy()
        },
      })
    })
  }

  /** The body as UTF-8 text. */
  async text(): Promise<string> {
    return (await this.collect()).toString('utf8')
  }

  /** The body parsed as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text())
  }

  /** The body's bytes. */
  async bytes(): Promise<Uint8Array> {
    const b = await this.collect()
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  }

  /** The body as an `ArrayBuffer` (a copy). */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.collect()
    const out = new ArrayBuffer(b.byteLength)
    new Uint8Array(out).set(b)
    return out
  }

  /** The body as a `Blob`. */
  async blob(): Promise<Blob> {
    return new Blob([await this.collect()])
  }

  /** Not supported, as in undici. */
  async formData(): Promise<never> {
    throw new BodyUnusableError('formData() is not supported on a request body; use fetch')
  }

  /**
   * Reads and drops the body so the connection can be reused; past `limit` bytes (default 128 KiB)
   * the request is aborted instead.
   */
  dump(options: { limit?: number; signal?: AbortSignal } = {}): Promise<null> {
    const limit = options.limit ?? 128 * 1024
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.mode !== 'idle') {
      this.destroy()
      return Promise.resolve(null)
    }
    this.mode = 'consumed'
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.destroy(signal?.reason)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const done = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve(null)
      }
      this.source.attach({
        onData: (chunk) => {
          this.bytesRead += chunk.length
          if (this.bytesRead > limit) {
            this.destroy()
            done()
          }
        },
        onEnd: () => {
          this.ended = true
          this.destroy()
          done()
        },
        onError: () => {
          this.destroy()
          done()
        },
      })
    })
  }
}
