import { pino } from 'pino'

/**
 * Log levels, lowest first (pino's).
 *
 * @example
 * ```ts
 * LOG_LEVELS.includes('warn') // true
 * ```
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** A log method: a message, or fields then a message (pino's call shape). */
export interface LogFn {
  (message: string): void
  (fields: Record<string, unknown>, message?: string): void
}

/**
 * The logger switchboard writes to: pino's shape, so a pino logger (or any with these methods) can
 * be injected.
 */
export interface Logger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child(bindings: Record<string, unknown>): Logger
}

/**
 * A level name from configuration or the environment; `undefined` for anything else.
 *
 * @example
 * ```ts
 * parseLogLevel('WARN') // 'warn'
 * ```
 */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined) return undefined
  const v = value.trim().toLowerCase()
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : undefined
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** Default: `LOG_LEVEL` from `env`, else `info`. */
  readonly level?: LogLevel | undefined
  /** Fields on every line, e.g. `{ name: 'namerd' }`. */
  readonly base?: Record<string, unknown> | undefined
  /** Where lines go. Default standard error (standard output stays for a program's answers). */
  readonly destination?: { write(line: string): unknown } | undefined
  /** Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/**
 * A pino logger writing JSON lines (`{"level":30,"time":...,"name":"namerd","msg":"..."}`), its
 * level from the option, else `LOG_LEVEL`, else `info`. An unknown `LOG_LEVEL` is an error naming
 * the levels.
 *
 * @example
 * ```ts
 * const log = createLogger({ base: { name: 'namerd' } })
 * log.info({ namespace: 'default', version: 'AAAAAAAAAAE=' }, 'dtab updated')
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env
  const fromEnv = env['LOG_LEVEL']
  const level = options.level ?? parseLogLevel(fromEnv)
  if (level === undefined && fromEnv !== undefined && fromEnv !== '')
    throw new RangeError(
      `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, found ${JSON.stringify(fromEnv)}`,
    )
  const dest = options.destination ?? process.stderr
  return pino(
    { level: level ?? 'info', base: options.base ?? {}, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (line: string) => dest.write(line) },
  ) as unknown as Logger
}

/**
 * A logger that writes nothing (the default of library code).
 *
 * @example
 * ```ts
 * nullLogger.info('dropped')
 * ```
 */
export const nullLogger: Logger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => nullLogger,
}
