import type { ServerResponse } from 'node:http'
import type { Activity } from '../../core/activity.js'
import type { Disposer } from '../../core/var.js'

/** How a watched activity becomes a stream of chunks. */
export interface WatchRendering<T> {
  /**
   * Identity of a value for de-duplication: a value whose key equals the previous value's key is
   * not written. `undefined` means "nothing to show" (a namespace that does not exist).
   */
  key(value: T): string | undefined
  /** The chunk for a value whose key is new (already newline-terminated). */
  render(value: T): string
  /** The line written for a failure, after which the stream ends. */
  errorLine(error: unknown): string
}

/** The open streams of a server, so `close()` can end them and stats can count them. */
export interface WatchRegistry {
  readonly size: number
  add(stop: () => void): Disposer
  closeAll(): void
}

/**
 * A registry of open watch streams.
 *
 * @example
 * ```ts
 * const watches = watchRegistry(); watches.size // 0
 * ```
 */
export function watchRegistry(): WatchRegistry {
  const open = new Set<() => void>()
  return {
    get size() {
      return open.size
    },
    add(stop) {
      open.add(stop)
      return () => {
        open.delete(stop)
      }
    },
    closeAll() {
      for (const stop of [...open]) stop()
    },
  }
}

/**
 * Streams an activity as a chunked 200 response, one chunk per distinct value (namerd's `watch`):
 * headers go out at once, pending states write nothing, consecutive values with the same key are
 * dropped, and a failure writes its line and ends the stream. When the client reads slowly, values
 * that pile up are conflated: only the latest is written when the socket drains. The observation
 * is released when the client goes away or the registry closes the stream.
 *
 * @example
 * ```ts
 * streamActivity(res, store.list(), { key: (ns) => ns.join(), render: (ns) => `${JSON.stringify(ns)}\n`, errorLine: String }, watches, 'application/json')
 * ```
 */
export function streamActivity<T>(
  res: ServerResponse,
  activity: Activity<T>,
  rendering: WatchRendering<T>,
  registry: WatchRegistry,
  contentType: string | undefined,
): void {
  const headers: Record<string, string> = { 'transfer-encoding': 'chunked' }
  if (contentType !== undefined) headers['content-type'] = contentType
  res.writeHead(200, headers)
  res.flushHeaders()

  let lastKey: string | undefined
  let seen = false
  let blocked = false
  let queued: string | undefined
  let finished = false
  let dispose: Disposer | undefined
  let unregister: Disposer | undefined

  const stop = (last?: string) => {
    if (finished) return
    finished = true
    res.off('drain', onDrain)
    res.off('close', onClose)
    dispose?.()
    unregister?.()
    if (!res.writableEnded) {
      if (last === undefined) res.end()
      else res.end(last)
    }
  }
  const onClose = () => stop()
  const write = (chunk: string) => {
    if (blocked) {
      queued = chunk
      return
    }
    if (!res.write(chunk)) blocked = true
  }
  const onDrain = () => {
    blocked = false
    const next = queued
    queued = undefined
    if (next !== undefined && !finished) write(next)
  }
  res.on('drain', onDrain)
  res.on('close', onClose)
  unregister = registry.add(onClose)

  dispose = activity.observe((state) => {
    if (finished) return
    if (state.kind === 'pending') return
    if (state.kind === 'failed') {
      stop(rendering.errorLine(state.error))
      return
    }
    const key = rendering.key(state.value)
    if (seen && key === lastKey) return
    seen = true
    lastKey = key
    if (key !== undefined) write(rendering.render(state.value))
  })
  // The observation may have failed synchronously, before `dispose` was assigned.
  if (finished) dispose()
}
