import { SwitchboardError } from '../core/errors.js'

/**
 * The text given to `Path.read`, `NameTree.read`, `Dentry.read`, `Prefix.read` or `Dtab.read` does
 * not follow the grammar. The message has Finagle's exact form,
 * `<expected> expected but <found> found at '<input with the current character in [brackets]>'`,
 * and the parts are also available as fields.
 *
 * @example
 * ```ts
 * try {
 *   Path.read('/foo^bar')
 * } catch (e) {
 *   if (e instanceof ParseError) {
 *     e.message  // "end of input expected but '^' found at '/foo[^]bar'"
 *     e.offset   // 4
 *     e.expected // 'end of input'
 *     e.found    // "'^'"
 *   }
 * }
 * ```
 */
export class ParseError extends SwitchboardError {
  /** The whole text that was being parsed. */
  readonly input: string
  /**
   * Index (in UTF-16 code units) of the character shown in brackets; `input.length` when the
   * parser had reached the end of the input.
   */
  readonly offset: number
  /** What the parser wanted: `'c'`, `end of input`, `label char`, `hex char`, `simple`, `number char`, `weight`, ... */
  readonly expected: string
  /** What it got: `'c'` or `end of input`. */
  readonly found: string

  constructor(fields: { input: string; offset: number; expected: string; found: string }) {
    const { input, offset, expected, found } = fields
    const display =
      offset >= input.length
        ? `${input}[]`
        : `${input.slice(0, offset)}[${input[offset]}]${input.slice(offset + 1)}`
    super('ParseError', `${expected} expected but ${found} found at '${display}'`)
    this.input = input
    this.offset = offset
    this.expected = expected
    this.found = found
  }
}
