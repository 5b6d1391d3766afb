import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FailureFlags, withFailureFlags } from '../../src/core/failure.js'
import {
  allSuccessful,
  type ClassifiedRequest,
  type ClassifiedResponse,
  type HttpClassifier,
  httpClassifiers,
  isRetryableHttpError,
  nonRetryable5xx,
  retryableAll5xx,
  retryableIdempotent5xx,
  retryableRead5xx,
  withL5dRules,
} from '../../src/http/classifiers.js'
import { ChannelClosedError, ConnectionFailedError } from '../../src/http/errors.js'
import type { ReqRep } from '../../src/retry/classifier.js'
import { ResponseClass } from '../../src/retry/classifier.js'

type RR = ReqRep<ClassifiedRequest, ClassifiedResponse>
const rep = (method: string, statusCode: number, headers: Record<string, string> = {}): RR => ({
  request: { method, body: null },
  ok: true,
  response: { statusCode, headers },
})
const err = (method: string, error: unknown): RR => ({ request: { method, body: null }, ok: false, error })
const show = (c: HttpClassifier, rr: RR) => ResponseClass.show(c(rr))

const closed = new ChannelClosedError('10.0.0.1:80', new Error('reset'))
const refused = new ConnectionFailedError('10.0.0.1:80', new Error('ECONNREFUSED'))
const boom = new Error('boom')
// limits' TimeoutError carries code 'Timeout'
const timeout = Object.assign(new Error('attempt timeout of 10 ms exceeded'), { code: 'Timeout' })

describe('HTTP classifiers', () => {
  it('nonRetryable5xx: 5XX and errors are non-retryable failures, the rest successes', () => {
    expect(show(nonRetryable5xx, rep('GET', 500))).toBe('NonRetryableFailure')
    expect(show(nonRetryable5xx, rep('GET', 599))).toBe('NonRetryableFailure')
    expect(show(nonRetryable5xx, rep('GET', 600))).toBe('Success')
    expect(show(nonRetryable5xx, rep('GET', 499))).toBe('Success')
    expect(show(nonRetryable5xx, rep('GET', 200))).toBe('Success')
    expect(show(nonRetryable5xx, err('GET', closed))).toBe('NonRetryableFailure')
    expect(show(nonRetryable5xx, err('POST', boom))).toBe('NonRetryableFailure')
    expect(show(nonRetryable5xx, err('GET', withFailureFlags(boom, FailureFlags.Ignorable)))).toBe(
      'Ignorable',
    )
  })

  it('nonRetryable5xx: a retryable nack is a retryable failure, a non-retryable one is not', () => {
    const nack = withFailureFlags(new Error('nack'), FailureFlags.Retryable | FailureFlags.Rejected)
    expect(show(nonRetryable5xx, err('POST', nack))).toBe('RetryableFailure')
    const spent = withFailureFlags(nack, FailureFlags.NonRetryable, FailureFlags.Retryable)
    expect(show(nonRetryable5xx, err('POST', spent))).toBe('NonRetryableFailure')
    expect(show(nonRetryable5xx, err('POST', withFailureFlags(new Error('x'), FailureFlags.Retryable)))).toBe(
      'NonRetryableFailure',
    )
  })

  const table: [HttpClassifier, string[], string[]][] = [
    [retryableRead5xx, ['GET', 'HEAD', 'OPTIONS', 'TRACE'], ['PUT', 'DELETE', 'POST', 'PATCH']],
    [retryableIdempotent5xx, ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'], ['POST', 'PATCH']],
    [retryableAll5xx, ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'POST', 'PATCH'], []],
  ]
  it.each(table)('%# retries 5XX and retryable errors for its methods only', (c, yes, no) => {
    for (const m of yes) {
      expect(show(c, rep(m, 503))).toBe('RetryableFailure')
      expect(show(c, err(m, closed))).toBe('RetryableFailure')
      expect(show(c, err(m, refused))).toBe('RetryableFailure')
      expect(show(c, err(m, timeout))).toBe('RetryableFailure')
      expect(show(c, err(m, boom))).toBe('NonRetryableFailure')
      expect(show(c, rep(m, 404))).toBe('Success')
    }
    for (const m of no) {
      expect(show(c, rep(m, 503))).toBe('NonRetryableFailure')
      expect(show(c, err(m, closed))).toBe('NonRetryableFailure')
    }
  })

  it('allSuccessful: every response succeeds, every error fails', () => {
    expect(show(allSuccessful, rep('POST', 500))).toBe('Success')
    expect(show(allSuccessful, err('GET', refused))).toBe('NonRetryableFailure')
  })

  it('never retries errors flagged Interrupted or NonRetryable', () => {
    expect(isRetryableHttpError(withFailureFlags(closed, FailureFlags.NonRetryable))).toBe(false)
    expect(isRetryableHttpError(withFailureFlags(refused, FailureFlags.Interrupted))).toBe(false)
    expect(isRetryableHttpError({ code: 'UND_ERR_HEADERS_TIMEOUT' })).toBe(true)
    expect(isRetryableHttpError({ code: 'HPE_INVALID_CONSTANT' })).toBe(true)
    expect(isRetryableHttpError(new Error('x'))).toBe(false)
  })

  it('are registered under their linkerd kinds', () => {
    expect(Object.keys(httpClassifiers).sort()).toEqual([
      'io.l5d.http.allSuccessful',
      'io.l5d.http.nonRetryable5XX',
      'io.l5d.http.retryableAll5XX',
      'io.l5d.http.retryableIdempotent5XX',
      'io.l5d.http.retryableRead5XX',
    ])
  })
})

describe('withL5dRules', () => {
  it('l5d-retryable: true upgrades a non-retryable failure response', () => {
    const c = withL5dRules(nonRetryable5xx)
    expect(show(c, rep('POST', 502, { 'l5d-retryable': 'true' }))).toBe('RetryableFailure')
    expect(show(c, rep('POST', 502, { 'l5d-retryable': 'TRUE' }))).toBe('RetryableFailure')
    expect(show(c, rep('POST', 502, { 'l5d-retryable': 'false' }))).toBe('NonRetryableFailure')
    expect(show(c, rep('POST', 200, { 'l5d-retryable': 'true' }))).toBe('Success')
  })

  const methods = fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS', 'TRACE')
  const classifiers = fc.constantFrom(...Object.values(httpClassifiers))
  const outcome = fc.oneof(
    fc.record({ statusCode: fc.integer({ min: 100, max: 599 }), retryable: fc.boolean() }),
    fc.constantFrom(closed, refused, boom, timeout),
  )
  const toRR = (method: string, body: ClassifiedRequest['body'], o: unknown): RR =>
    o instanceof Error
      ? { request: { method, body }, ok: false, error: o }
      : {
          request: { method, body },
          ok: true,
          response: {
            statusCode: (o as { statusCode: number }).statusCode,
            headers: (o as { retryable: boolean }).retryable ? { 'l5d-retryable': 'true' } : {},
          },
        }

  it('a request with a stream body is never retryable (property)', () => {
    fc.assert(
      fc.property(classifiers, methods, outcome, (c, m, o) => {
        const cls = withL5dRules(c)(toRR(m, Readable.from([]), o))
        expect(cls.kind === 'failed' && cls.retryable).toBe(false)
      }),
    )
  })

  it('only ever turns failures retryable, never changes successes (property)', () => {
    fc.assert(
      fc.property(classifiers, methods, outcome, (c, m, o) => {
        const rr = toRR(m, 'body', o)
        const before = c(rr)
        const after = withL5dRules(c)(rr)
        if (before.kind !== 'failed') expect(after).toBe(before)
        else expect(after.kind).toBe('failed')
      }),
    )
  })
})
