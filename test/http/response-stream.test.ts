import { describe, expect, it } from 'vitest'
import { ResponseBody } from '../../src/http/body.js'
import { BodyUnusableError, ResponseStream } from '../../src/http/response-stream.js'

/** A body fed by hand, recording what the consumer asked of the connection. */
function source() {
  const calls: string[] = []
  const body = new ResponseBody({
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    abort: (r) => calls.push(`abort:${r.message}`),
  })
  return { body, calls }
}

describe('ResponseStream', () => {
  it('collects text, json and bytes straight from the body, with trailers', async () => {
    const { body } = source()
    const s = new ResponseStream(body)
    const text = s.text()
    body.push(Buffer.from('{"a":'))
    body.push(Buffer.from('1}'))
    body.end({ 'x-trailer': 'yes' })
    expect(await text).toBe('{"a":1}')
    expect(s.trailers).toEqual({ 'x-trailer': 'yes' })
    expect(s.bodyUsed).toBe(true)
    await expect(s.text()).rejects.toBeInstanceOf(BodyUnusableError)
    expect(await new ResponseStream(ResponseBody.of('{"b":2}')).json()).toEqual({ b: 2 })
    expect([...(await new ResponseStream(ResponseBody.of('hi')).bytes())]).toEqual([104, 105])
    expect(Buffer.from(await new ResponseStream(ResponseBody.of('hi')).arrayBuffer()).toString()).toBe('hi')
    expect(await (await new ResponseStream(ResponseBody.of('hi')).blob()).text()).toBe('hi')
  })

  it('streams with backpressure when read as a Readable', async () => {
    const { body, calls } = source()
    const s = new ResponseStream(body)
    const chunks: string[] = []
    const done = (async () => {
      for await (const c of s) chunks.push(String(c))
    })()
    for (let i = 0; i < 3; i++) body.push(Buffer.alloc(40_000, 'x'))
    body.end({})
    await done
    expect(chunks.join('').length).toBe(120_000)
    expect(calls).toContain('pause')
  })

  it('destroying it before the end aborts the request', async () => {
    const { body, calls } = source()
    const s = new ResponseStream(body)
    s.resume()
    body.push(Buffer.from('partial'))
    s.destroy()
    await new Promise((r) => setImmediate(r))
    expect(calls.some((c) => c.startsWith('abort:'))).toBe(true)
  })

  it('an error in the body fails the reader', async () => {
    const { body } = source()
    const s = new ResponseStream(body)
    const text = s.text()
    body.fail(new Error('reset'))
    await expect(text).rejects.toThrow('reset')
  })

  it('dump reads to the end, or aborts past its limit', async () => {
    const small = source()
    const d1 = new ResponseStream(small.body).dump()
    small.body.push(Buffer.from('abc'))
    small.body.end({})
    expect(await d1).toBeNull()
    expect(small.calls.some((c) => c.startsWith('abort'))).toBe(false)
    const big = source()
    const d2 = new ResponseStream(big.body).dump({ limit: 10 })
    big.body.push(Buffer.alloc(20))
    expect(await d2).toBeNull()
    expect(big.calls.some((c) => c.startsWith('abort'))).toBe(true)
  })

  it('formData is not supported, as in undici', async () => {
    await expect(new ResponseStream(ResponseBody.of('')).formData()).rejects.toBeInstanceOf(BodyUnusableError)
  })
})
