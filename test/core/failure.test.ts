import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  FailureFlags,
  failureFlagsOf,
  hasFailureFlags,
  InvalidOptionError,
  isRequeueable,
  ServiceClosedError,
  SwitchboardError,
  withFailureFlags,
} from '../../src/core/index.js'

class Boom extends SwitchboardError {
  constructor(flags = 0) {
    super('Boom', 'boom', { failureFlags: flags, cause: 'root' })
  }
}

describe('FailureFlags', () => {
  it('reads flags from any thrown value, 0 when there are none', () => {
    expect(failureFlagsOf(new Error('x'))).toBe(0)
    expect(failureFlagsOf('a string')).toBe(0)
    expect(failureFlagsOf(undefined)).toBe(0)
    expect(failureFlagsOf({ failureFlags: 'nope' })).toBe(0)
    expect(failureFlagsOf(new ServiceClosedError())).toBe(FailureFlags.Retryable)
  })

  it('withFailureFlags copies, never mutates, and keeps class, message, code and cause', () => {
    const original = new Boom(FailureFlags.Retryable)
    const gaveUp = withFailureFlags(original, FailureFlags.NonRetryable)
    expect(original.failureFlags).toBe(FailureFlags.Retryable)
    expect(gaveUp).not.toBe(original)
    expect(gaveUp).toBeInstanceOf(Boom)
    expect(gaveUp.message).toBe('boom')
    expect(gaveUp.code).toBe('Boom')
    expect(gaveUp.cause).toBe('root')
    expect(gaveUp.stack).toBe(original.stack)
    expect(gaveUp.failureFlags).toBe(FailureFlags.NonRetryable)
  })

  it('Retryable and NonRetryable exclude each other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 127 }), (start, add) => {
        const e = withFailureFlags(
          new Boom(start & ~FailureFlags.NonRetryable),
          add & ~FailureFlags.Retryable,
        )
        expect(hasFailureFlags(e, FailureFlags.Retryable | FailureFlags.NonRetryable)).toBe(false)
        for (const bit of Object.values(FailureFlags))
          if (add & bit && bit !== FailureFlags.Retryable) expect(hasFailureFlags(e, bit)).toBe(true)
      }),
    )
  })

  it('returns the same object when nothing changes, and leaves non-objects alone', () => {
    const e = new Boom(FailureFlags.Rejected)
    expect(withFailureFlags(e, FailureFlags.Rejected)).toBe(e)
    expect(withFailureFlags('s', FailureFlags.Retryable)).toBe('s')
  })

  it('flags plain Errors too, without touching the original', () => {
    const plain = new Error('ECONNREFUSED')
    const flagged = withFailureFlags(plain, FailureFlags.Retryable | FailureFlags.Rejected)
    expect(isRequeueable(plain)).toBe(false)
    expect(isRequeueable(flagged)).toBe(true)
    expect(flagged.message).toBe('ECONNREFUSED')
  })

  it('isRequeueable follows the Retryable / Interrupted / NonRetryable rule', () => {
    expect(isRequeueable(new Boom(FailureFlags.Retryable))).toBe(true)
    expect(isRequeueable(new Boom(FailureFlags.Retryable | FailureFlags.Interrupted))).toBe(false)
    expect(isRequeueable(withFailureFlags(new Boom(FailureFlags.Retryable), FailureFlags.NonRetryable))).toBe(
      false,
    )
    expect(isRequeueable(new Boom(FailureFlags.Rejected))).toBe(false)
  })
})

describe('InvalidOptionError', () => {
  it('names the component, option, expectation and what was found', () => {
    const e = new InvalidOptionError('retryBudget', 'ttlMs', 'between 1000 and 60000 (ms)', 10)
    expect(e.message).toBe('retryBudget: ttlMs must be between 1000 and 60000 (ms), got 10')
    expect(e.code).toBe('InvalidOption')
    expect(e.option).toBe('ttlMs')
    expect(new InvalidOptionError('x', 'name', 'a path', 'a b').message).toBe(
      'x: name must be a path, got "a b"',
    )
  })
})
