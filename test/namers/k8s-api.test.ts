// The pure parts of the Kubernetes API client: splitting a watch stream into event lines.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { K8sApiError, lineSplitter } from '../../src/namers/k8s-api.js'

describe('lineSplitter', () => {
  it('gives the same lines however the bytes are chunked, multi-byte characters included (property)', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\n/g, ' '))
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8')
        const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort(
          (a, b) => a - b,
        )
        const s = lineSplitter(1 << 20, 'watch')
        const out: string[] = []
        let at = 0
        for (const p of [...points, bytes.length]) {
          out.push(...s.push(bytes.subarray(at, p)))
          at = p
        }
        out.push(...s.end())
        expect(out).toEqual(lines)
      }),
    )
  })

  it('keeps an unterminated last line for end() and refuses an over-long line', () => {
    const s = lineSplitter(8, 'watch /x')
    expect(s.push(Buffer.from('ab\ncd'))).toEqual(['ab'])
    expect(s.end()).toEqual(['cd'])
    const t = lineSplitter(8, 'watch /x')
    expect(() => t.push(Buffer.from('0123456789'))).toThrow(K8sApiError)
    expect(() => lineSplitter(8, 'watch /x').push(Buffer.from('0123456789'))).toThrow(
      /watch \/x: an event line is over 8 bytes/,
    )
  })
})
