import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkNamespace,
  InvalidDtabNamespace,
  namespaceProblem,
} from '../../../src/namerd/store/namespace.js'
import { Version } from '../../../src/namerd/store/version.js'

describe('namespace names', () => {
  it('accepts ordinary and unusual names', () => {
    for (const ns of ['default', 'yeezus', 'a.b', 'with space', 'ünïcödé', '%2F', 'x:y#z', 'a'.repeat(255)])
      expect(namespaceProblem(ns)).toBeUndefined()
  })

  it('rejects names with a reason', () => {
    expect(namespaceProblem('')).toBe('it is empty')
    expect(namespaceProblem('a/b')).toBe('it contains "/"')
    expect(namespaceProblem('.')).toBe('it is "."')
    expect(namespaceProblem('..')).toBe('it contains ".."')
    expect(namespaceProblem('a..b')).toBe('it contains ".."')
    expect(namespaceProblem('a\nb')).toBe('it contains the control character U+000A at index 1')
    expect(namespaceProblem('\u007f')).toBe('it contains the control character U+007F at index 0')
    expect(namespaceProblem('a'.repeat(256))).toBe('it is 256 characters long, more than 255')
  })

  it('checkNamespace throws InvalidDtabNamespace naming the namespace', () => {
    expect(checkNamespace('ok')).toBe('ok')
    expect(() => checkNamespace('a/b')).toThrow(InvalidDtabNamespace)
    expect(() => checkNamespace('a/b')).toThrow('invalid dtab namespace "a/b": it contains "/"')
  })

  it('a valid name never contains a path separator or a control character', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('a', 'Z', '/', '.', '\n', '\u0000', '\u007f', '\u0085', 'é', ' ', '%'),
          maxLength: 12,
        }),
        (ns) => {
          if (namespaceProblem(ns) === undefined) {
            expect(ns.includes('/')).toBe(false)
            // biome-ignore lint/suspicious/noControlCharactersInRegex: the property under test
            expect(/[\u0000-\u001f]/.test(ns)).toBe(false)
            expect(ns.length).toBeGreaterThan(0)
          }
        },
      ),
    )
  })
})

describe('Version', () => {
  it('ETags are padded standard base64 of the bytes', () => {
    expect(Version.toEtag(Version.counter(1n))).toBe('AAAAAAAAAAE=')
    expect(Version.toEtag(Version.counter(2n))).toBe('AAAAAAAAAAI=')
    expect(Version.toEtag(new Uint8Array([0, 0, 0, 0]))).toBe('AAAAAA==')
    expect(Version.toEtag(new TextEncoder().encode('42'))).toBe('NDI=')
  })

  it('If-Match decoding is lenient: quotes and spaces are ignored, garbage matches nothing', () => {
    const v = Version.counter(1n)
    expect(Version.equals(Version.fromEtag('"AAAAAAAAAAE="'), v)).toBe(true)
    expect(Version.equals(Version.fromEtag(' AAAAAAAAAAE= '), v)).toBe(true)
    expect(Version.equals(Version.fromEtag('yolo'), v)).toBe(false)
    expect(Version.equals(Version.fromEtag(''), v)).toBe(false)
  })

  it('round-trips any bytes through an ETag', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(Version.equals(Version.fromEtag(Version.toEtag(bytes)), bytes)).toBe(true)
      }),
    )
  })

  it('counters round-trip', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (n) => {
        expect(Version.counterOf(Version.counter(n))).toBe(n)
      }),
    )
  })
})
