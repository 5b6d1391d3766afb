import type { HttpHeaders } from './request.js'

/** Where a response body goes: the chunks in order, then either the end (with trailers) or an error. */
export interface BodySink {
  onData(chunk: Buffer): void
  onEnd(trailers: HttpHeaders): void
  onError(error: Error): void
}

/** The connection-side controls of a streaming body (undici's `DispatchController`). */
export interface BodySource {
  pause(): void
  resume(): void
  abort(reason: Error): void
}

type State =
  | { kind: 'open' }
  | { kind: 'ended'; trailers: HttpHeaders }
  | { kind: 'failed'; error: Error }
  | { kind: 'delivered' }

const noopSink: BodySink = { onData() {}, onEnd() {}, onError() {} }

/**
 * The body of a response while it streams in: exactly one consumer `attach`es a sink and receives
 * the chunks (those that arrived before it attached first), or `discard`s it, which reads it to the
 * end so that the connection can carry the next request. Until then chunks are buffered. Backpressure
 * and cancellation go back to the connection through `pause`, `resume` and `abort`.
 *
 * @example
 * ```ts
 * const rep = await endpoint(req)
 * if (rep.statusCode >= 500) rep.body.discard()
 * else console.log(await rep.body.text())
 * ```
 */
export class ResponseBody {
  private source: BodySource | undefined
  private sink: BodySink | undefined
  private buffered: Buffer[] = []
  private state: State = { kind: 'open' }
  private readonly done: (() => void) | undefined

  /**
   * `onDone` runs once when the body is over: ended, failed or aborted (the endpoint counts the
   * request as pending until then).
   */
  constructor(source?: BodySource, onDone?: () => void) {
    this.source = source
    this.done = onDone
  }

  /**
   * A body that is already complete.
   *
   * @example
   * ```ts
   * await ResponseBody.of('hello').text() // 'hello'
   * ```
   */
  static of(content: string | Uint8Array = ''): ResponseBody {
    const body = new ResponseBody()
    const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content)
    if (bytes.length > 0) body.push(bytes)
    body.end({})
    return body
  }

  /** True once a sink is attached (or the body was discarded). */
  get attached(): boolean {
    return this.sink !== undefined
  }

  /** Connection side: a chunk arrived. */
  push(chunk: Buffer): void {
    if (this.state.kind !== 'open') return
    if (this.sink) this.sink.onData(chunk)
    else this.buffered.push(chunk)
  }

  /** Connection side: the body ended. */
  end(trailers: HttpHeaders): void {
    if (this.state.kind !== 'open') return
    if (this.sink) {
      this.state = { kind: 'delivered' }
      this.finish()
      this.sink.onEnd(trailers)
    } else {
      this.state = { kind: 'ended', trailers }
      this.finish()
    }
  }

  /** Connection side: the body failed. */
  fail(error: Error): void {
    if (this.state.kind !== 'open') return
    if (this.sink) {
      this.state = { kind: 'delivered' }
      this.finish()
      this.sink.onError(error)
    } else {
      this.state = { kind: 'failed', error }
      this.finish()
    }
  }

  /**
   * Attaches the one consumer; throws if one is already attached. Buffered chunks are delivered
   * synchronously, then the rest as it arrives.
   */
  attach(sink: BodySink): void {
    if (this.sink) throw new Error('response body already consumed')
    this.sink = sink
    const chunks = this.buffered
    this.buffered = []
    for (const c of chunks) sink.onData(c)
    const s = this.state
    if (s.kind === 'ended') {
      this.state = { kind: 'delivered' }
      sink.onEnd(s.trailers)
    } else if (s.kind === 'failed') {
      this.state = { kind: 'delivered' }
      sink.onError(s.error)
    }
  }

  /** Reads the body to its end and drops it, so the connection is reused. Idempotent. */
  discard(): void {
    if (this.sink) return
    this.attach(noopSink)
    this.source?.resume()
  }

  /** Stops the body: the connection is closed and the sink (if any) sees `reason`. */
  abort(reason: Error): void {
    if (this.state.kind !== 'open') return
    this.source?.abort(reason)
    this.fail(reason)
  }

  pause(): void {
    this.source?.pause()
  }

  resume(): void {
    this.source?.resume()
  }

  /**
   * Collects the whole body.
   *
   * @example
   * ```ts
   * const bytes = await rep.body.bytes()
   * ```
   */
  bytes(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      this.attach({
        onData: (c) => chunks.push(c),
        onEnd: () => resolve(Buffer.concat(chunks)),
        onError: reject,
      })
    })
  }

  /** Collects the whole body as UTF-8 text. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8')
  }

  private finish(): void {
    this.source = undefined
    this.done?.()
  }
}
