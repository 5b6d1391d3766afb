import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatL5dCtxTrace,
  formatTraceparent,
  parseL5dCtxTrace,
  parseTraceparent,
  readTraceHeaders,
  type TraceContext,
} from '../../src/telemetry/trace-context.js'

const hex = (n: number) =>
  fc
    .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n })
    .filter((s) => /[^0]/.test(s))

const context = fc.record({ traceId: hex(32), spanId: hex(16), sampled: fc.boolean() })

describe('traceparent', () => {
  it('parses the W3C example and refuses invalid values', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    })
    for (const bad of [
      '',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // all-zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero span id
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // extra field on 00
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', // short trace id
    ])
      expect(parseTraceparent(bad)).toBeUndefined()
    // a future version may add fields
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x')?.sampled).toBe(false)
  })

  it('round-trips (property) and never throws on any input', () => {
    fc.assert(
      fc.property(context, (c) => {
        expect(parseTraceparent(formatTraceparent(c))).toEqual(c)
      }),
    )
    fc.assert(fc.property(fc.string(), (s) => void parseTraceparent(s)))
  })
})

describe('l5d-ctx-trace', () => {
  it('round-trips 64- and 128-bit trace ids with the parent and the sampling decision (property)', () => {
    const ctx = fc.record({
      traceId: fc.oneof(
        hex(32),
        hex(16).map((low) => `${'0'.repeat(16)}${low}`),
      ),
      spanId: hex(16),
      parentSpanId: fc.option(hex(16), { nil: undefined }),
      sampled: fc.option(fc.boolean(), { nil: undefined }),
    })
    fc.assert(
      fc.property(ctx, (c: TraceContext) => {
        const text = formatL5dCtxTrace(c)
        expect(Buffer.from(text, 'base64').length).toBe(c.traceId.startsWith('0'.repeat(16)) ? 32 : 40)
        const back = parseL5dCtxTrace(text)!
        expect(back.traceId).toBe(c.traceId)
        expect(back.spanId).toBe(c.spanId)
        expect(back.sampled).toBe(c.sampled)
        expect(back.parentSpanId).toBe(c.parentSpanId === c.spanId ? undefined : c.parentSpanId)
      }),
    )
  })

  it("reads Finagle's layout: span, parent, trace id, flags (8 bytes each, big-endian)", () => {
    const bytes = Buffer.alloc(32)
    bytes.write('0000000000000002', 0, 'hex') // span
    bytes.write('0000000000000001', 8, 'hex') // parent
    bytes.write('00000000000000ab', 16, 'hex') // trace
    bytes.writeBigUInt64BE(6n, 24) // SamplingKnown | Sampled
    expect(parseL5dCtxTrace(bytes.toString('base64'))).toEqual({
      traceId: `${'0'.repeat(16)}00000000000000ab`,
      spanId: '0000000000000002',
      parentSpanId: '0000000000000001',
      sampled: true,
    })
    bytes.writeBigUInt64BE(2n, 24) // SamplingKnown, not sampled
    expect(parseL5dCtxTrace(bytes.toString('base64'))?.sampled).toBe(false)
    expect(parseL5dCtxTrace('not base64!')).toBeUndefined()
    expect(parseL5dCtxTrace(Buffer.alloc(31).toString('base64'))).toBeUndefined()
    fc.assert(fc.property(fc.string(), (s) => void parseL5dCtxTrace(s)))
  })

  it('headers: a valid traceparent wins over l5d-ctx-trace; an invalid one falls back', () => {
    const l5d = formatL5dCtxTrace({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: true })
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    expect(readTraceHeaders({ traceparent: tp, 'l5d-ctx-trace': l5d })?.traceId).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    )
    expect(readTraceHeaders({ traceparent: 'junk', 'l5d-ctx-trace': l5d })?.traceId).toBe('a'.repeat(32))
    expect(readTraceHeaders({})).toBeUndefined()
  })
})
