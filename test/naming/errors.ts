import { expect } from 'vitest'
import { ParseError } from '../../src/naming/index.js'

/** The ParseError message `read` throws for `text`; fails the test if it does not throw one. */
export function errorOf(read: (text: string) => unknown, text: string): string {
  try {
    read(text)
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError)
    return (e as ParseError).message
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`)
}
