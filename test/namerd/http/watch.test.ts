import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import { Activity } from '../../../src/core/activity.js'
import { streamActivity, watchRegistry } from '../../../src/namerd/http/watch.js'

/** A response that records what was written and can pretend its socket is full. */
class FakeResponse extends EventEmitter {
  status = 0
  headers: Record<string, string> = {}
  chunks: string[] = []
  full = false
  writableEnded = false
  writeHead(status: number, headers: Record<string, string>) {
    this.status = status
    this.headers = headers
    return this
  }
  flushHeaders() {}
  write(chunk: string) {
    this.chunks.push(chunk)
    return !this.full
  }
  end(chunk?: string) {
    if (chunk !== undefined) this.chunks.push(chunk)
    this.writableEnded = true
    return this
  }
}

const lines = {
  key: (s: string) => s,
  render: (s: string) => `${s}\n`,
  errorLine: (e: unknown) => `${(e as Error).message}\n`,
}

describe('streamActivity', () => {
  it('sends headers at once, skips pending, writes each new value once', () => {
    const [a, w] = Activity.mutable<string>()
    const res = new FakeResponse()
    streamActivity(res as unknown as ServerResponse, a, lines, watchRegistry(), 'application/json')
    expect(res.status).toBe(200)
    expect(res.headers).toEqual({ 'transfer-encoding': 'chunked', 'content-type': 'application/json' })
    expect(res.chunks).toEqual([])
    w.ok('a')
    w.ok('a')
    w.pending()
    w.ok('b')
    w.ok('a')
    expect(res.chunks).toEqual(['a\n', 'b\n', 'a\n'])
  })

  it('a failure writes its message as the last line and releases the observation', () => {
    let observed = 0
    const [inner, w] = Activity.mutable<string>()
    const a = Activity.of({
      ...inner.states,
      observe: (f: Parameters<typeof inner.states.observe>[0]) => {
        observed++
        const d = inner.states.observe(f)
        return () => {
          observed--
          d()
        }
      },
    } as typeof inner.states)
    const res = new FakeResponse()
    const registry = watchRegistry()
    streamActivity(res as unknown as ServerResponse, a, lines, registry, undefined)
    w.ok('a')
    w.fail(new Error('boom'))
    expect(res.chunks).toEqual(['a\n', 'boom\n'])
    expect(res.writableEnded).toBe(true)
    expect(observed).toBe(0)
    expect(registry.size).toBe(0)
  })

  it('a slow reader gets only the latest value when its socket drains', () => {
    const [a, w] = Activity.mutable<string>()
    const res = new FakeResponse()
    streamActivity(res as unknown as ServerResponse, a, lines, watchRegistry(), undefined)
    res.full = true
    w.ok('v1')
    w.ok('v2')
    w.ok('v3')
    w.ok('v4')
    expect(res.chunks).toEqual(['v1\n'])
    res.full = false
    res.emit('drain')
    expect(res.chunks).toEqual(['v1\n', 'v4\n'])
  })

  it('the client going away, or the registry closing, stops the stream', () => {
    const [a, w] = Activity.mutable<string>()
    const res = new FakeResponse()
    const registry = watchRegistry()
    streamActivity(res as unknown as ServerResponse, a, lines, registry, undefined)
    const res2 = new FakeResponse()
    streamActivity(res2 as unknown as ServerResponse, a, lines, registry, undefined)
    expect(registry.size).toBe(2)
    res.emit('close')
    expect(registry.size).toBe(1)
    w.ok('x')
    expect(res.chunks).toEqual([])
    expect(res2.chunks).toEqual(['x\n'])
    registry.closeAll()
    expect(registry.size).toBe(0)
    expect(res2.writableEnded).toBe(true)
  })
})
