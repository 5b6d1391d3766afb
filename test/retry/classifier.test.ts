import { describe, expect, it } from 'vitest'
import { FailureFlags, ServiceClosedError, SwitchboardError } from '../../src/core/index.js'
import { TimeoutError } from '../../src/limits/index.js'
import { classify, ReqRep, ResponseClass, ResponseClassifier } from '../../src/retry/index.js'

const flagged = (flags: number) => new SwitchboardError('X', 'x', { failureFlags: flags })
const thrown = (error: unknown): ReqRep<string, number> => ({ request: 'r', ok: false, error })
const returned = (response: number): ReqRep<string, number> => ({ request: 'r', ok: true, response })
const show = (c: ResponseClass) => ResponseClass.show(c)

describe('ResponseClassifier.default', () => {
  it("follows Finagle's default rules", () => {
    expect(show(ResponseClassifier.default(returned(500)))).toBe('Success')
    expect(show(ResponseClassifier.default(thrown(flagged(FailureFlags.Ignorable))))).toBe('Ignorable')
    expect(show(ResponseClassifier.default(thrown(new ServiceClosedError())))).toBe('RetryableFailure')
    expect(
      show(ResponseClassifier.default(thrown(flagged(FailureFlags.Retryable | FailureFlags.Interrupted)))),
    ).toBe('NonRetryableFailure')
    expect(show(ResponseClassifier.default(thrown(new Error('reset'))))).toBe('NonRetryableFailure')
    expect(show(ResponseClassifier.default(thrown('a string')))).toBe('NonRetryableFailure')
  })
})

describe('classifiers', () => {
  it('classify falls back to the default where a classifier has no answer', () => {
    const only500: ResponseClassifier<string, number> = (rr) =>
      rr.ok && rr.response >= 500 ? ResponseClass.NonRetryableFailure : undefined
    expect(show(classify(only500, returned(503)))).toBe('NonRetryableFailure')
    expect(show(classify(only500, returned(200)))).toBe('Success')
    expect(show(classify(undefined, thrown(new ServiceClosedError())))).toBe('RetryableFailure')
  })

  it('orElse takes the first answer', () => {
    const a: ResponseClassifier<string, number> = (rr) =>
      rr.ok && rr.response === 1 ? ResponseClass.Ignorable : undefined
    const b: ResponseClassifier<string, number> = (rr) => (rr.ok ? ResponseClass.RetryableFailure : undefined)
    const c = ResponseClassifier.orElse(a, b)
    expect(show(c(returned(1))!)).toBe('Ignorable')
    expect(show(c(returned(2))!)).toBe('RetryableFailure')
    expect(c(thrown(new Error()))).toBeUndefined()
  })

  it('retryOnThrows and retryOnErrors respect NonRetryable and Interrupted', () => {
    expect(show(ResponseClassifier.retryOnThrows(thrown(new Error()))!)).toBe('RetryableFailure')
    expect(show(ResponseClassifier.retryOnThrows(thrown(flagged(FailureFlags.NonRetryable)))!)).toBe(
      'NonRetryableFailure',
    )
    expect(ResponseClassifier.retryOnThrows(returned(1))).toBeUndefined()
    const onTypeError = ResponseClassifier.retryOnErrors((e) => e instanceof TypeError)
    expect(show(onTypeError(thrown(new TypeError()))!)).toBe('RetryableFailure')
    expect(onTypeError(thrown(new Error()))).toBeUndefined()
    expect(
      show(onTypeError(thrown(Object.assign(new TypeError(), { failureFlags: FailureFlags.Interrupted })))!),
    ).toBe('NonRetryableFailure')
  })

  it('ResponseClass.successful keeps fractions in (0, 1]', () => {
    expect(ResponseClass.successful(1)).toBe(ResponseClass.Success)
    expect(show(ResponseClass.successful(0.25))).toBe('Successful(0.25)')
    expect(() => ResponseClass.successful(0)).toThrow(RangeError)
    expect(ResponseClass.isFailure(ResponseClass.RetryableFailure)).toBe(true)
    expect(ResponseClass.isFailure(ResponseClass.Ignorable)).toBe(false)
  })

  it('ReqRep.settle and unwrap turn a promise into data and back', async () => {
    const ok = await ReqRep.settle('r', Promise.resolve(5))
    expect(ok).toEqual({ request: 'r', ok: true, response: 5 })
    const err = new Error('e')
    const failed = await ReqRep.settle('r', Promise.reject(err))
    expect(failed).toEqual({ request: 'r', ok: false, error: err })
    expect(ReqRep.unwrap(ok)).toBe(5)
    expect(() => ReqRep.unwrap(failed)).toThrow(err)
  })
})

describe('stock classifiers (Finagle ResponseClassifierTest)', () => {
  it('retryOnWriteExceptions: requeueable errors are retryable, anything else has no answer', () => {
    expect(show(ResponseClassifier.retryOnWriteExceptions(thrown(new ServiceClosedError()))!)).toBe(
      'RetryableFailure',
    )
    expect(ResponseClassifier.retryOnWriteExceptions(thrown(new Error('reset')))).toBeUndefined()
    expect(
      ResponseClassifier.retryOnWriteExceptions(
        thrown(flagged(FailureFlags.Retryable | FailureFlags.Interrupted)),
      ),
    ).toBeUndefined()
    expect(ResponseClassifier.retryOnWriteExceptions(returned(200))).toBeUndefined()
  })

  it('retryOnTimeout: timeouts of every kind are retryable, anything else has no answer', () => {
    for (const kind of ['attempt', 'total', 'deadline'] as const)
      expect(show(ResponseClassifier.retryOnTimeout(thrown(new TimeoutError(kind, 10)))!)).toBe(
        'RetryableFailure',
      )
    expect(ResponseClassifier.retryOnTimeout(thrown(new Error('Timeout')))).toBeUndefined()
    expect(ResponseClassifier.retryOnTimeout(returned(1))).toBeUndefined()
  })

  it('ignoreIRTEs: a per-attempt timeout is ignorable, a total timeout is not answered', () => {
    expect(show(ResponseClassifier.ignoreIRTEs(thrown(new TimeoutError('attempt', 10)))!)).toBe('Ignorable')
    expect(ResponseClassifier.ignoreIRTEs(thrown(new TimeoutError('total', 10)))).toBeUndefined()
    expect(ResponseClassifier.ignoreIRTEs(thrown(new Error('x')))).toBeUndefined()
    expect(show(classify(ResponseClassifier.ignoreIRTEs, thrown(new TimeoutError('total', 10))))).toBe(
      'NonRetryableFailure',
    )
  })
})
