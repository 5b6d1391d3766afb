import { InvalidOptionError } from './errors.js'

/** Bounds for `checkNumber`; both inclusive. */
export interface NumberBounds {
  min?: number | undefined
  max?: number | undefined
  integer?: boolean | undefined
  /** Allow `Infinity` (e.g. an uncapped backoff). */
  infinite?: boolean | undefined
}

/**
 * Checks a numeric option eagerly, when a component is built, and returns it. Throws
 * `InvalidOptionError` naming the component, the option, the range and the value found.
 *
 * @example
 * ```ts
 * const ttlMs = checkNumber('retryBudget', 'ttlMs', options.ttlMs ?? 10_000, { min: 1000, max: 60_000 })
 * ```
 */
export function checkNumber(
  component: string,
  option: string,
  value: unknown,
  bounds: NumberBounds = {},
): number {
  const {
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
    integer = false,
    infinite = false,
  } = bounds
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (Number.isFinite(value) || (infinite && value === Number.POSITIVE_INFINITY)) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value))
  if (!ok) throw new InvalidOptionError(component, option, describe(bounds), value)
  return value as number
}

function describe({ min, max, integer, infinite }: NumberBounds): string {
  const kind = integer ? 'an integer' : 'a number'
  const range =
    min !== undefined && max !== undefined
      ? ` between ${min} and ${max}`
      : min !== undefined
        ? ` >= ${min}`
        : max !== undefined
          ? ` <= ${max}`
          : ''
  return `${kind}${range}${infinite ? ' (or Infinity)' : ''}`
}
