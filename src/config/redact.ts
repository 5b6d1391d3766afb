/**
 * What a redacted value is replaced with.
 *
 * @example
 * ```ts
 * redactConfig({ password: 'p' }).password === REDACTED // true
 * ```
 */
export const REDACTED = '<redacted>'

// Field names that hold a secret, compared without case, `_` or `-`: passwords, tokens, secrets,
// credentials, private keys and the paths of key files (`keyPath`, `clientKey`, `tls.key`).
const SECRET_WORDS = /(password|passwd|passphrase|secret|token|credential|apikey|authorization|privatekey)/
const KEY_FIELD = /(^|[a-z])key(path|file|pem)?$/

/**
 * Whether a configuration field of this name holds a secret (and is redacted by
 * {@link redactConfig}): any name containing `password`, `passphrase`, `secret`, `token`,
 * `credential`, `apiKey`, `authorization` or `privateKey`, or ending in `key`, `keyPath`, `keyFile`
 * or `keyPem` (case, `_` and `-` ignored).
 *
 * @example
 * ```ts
 * isSecretField('authToken')   // true
 * isSecretField('keyPath')     // true
 * isSecretField('caCertPath')  // false
 * ```
 */
export function isSecretField(name: string): boolean {
  const n = name.toLowerCase().replace(/[_-]/g, '')
  return SECRET_WORDS.test(n) || KEY_FIELD.test(n)
}

/**
 * Options of {@link redactConfig}.
 *
 * @example
 * ```ts
 * redactConfig(config, { extraFields: ['dsn', /^webhook/i] })
 * ```
 */
export interface RedactOptions {
  /** More field names (exact, case-insensitive) or patterns to treat as secret. */
  readonly extraFields?: readonly (string | RegExp)[] | undefined
}

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s]*)@/i

/**
 * A copy of a configuration (parsed YAML/JSON, plain objects and arrays) safe to show or log: the
 * value of every secret field (see {@link isSecretField}; a nested object under such a name
 * included) is replaced by `"<redacted>"`, and the user-info part of any URL
 * (`http://user:pass@host`) is too. The input is not changed. Both namerd's and the l5d router's
 * admin `/config.json` serve their config through it.
 *
 * @example
 * ```ts
 * redactConfig({ interfaces: [{ kind: 'io.l5d.httpController', authToken: 's3cret' }] })
 * // { interfaces: [{ kind: 'io.l5d.httpController', authToken: '<redacted>' }] }
 * redactConfig({ storage: { kind: 'io.l5d.etcd', password: 'p', tls: { keyPath: '/etc/k.pem' } } })
 * // { storage: { kind: 'io.l5d.etcd', password: '<redacted>', tls: { keyPath: '<redacted>' } } }
 * ```
 */
export function redactConfig<T>(config: T, options: RedactOptions = {}): T {
  const extra = options.extraFields ?? []
  const secret = (name: string) =>
    isSecretField(name) ||
    extra.some((e) => (typeof e === 'string' ? e.toLowerCase() === name.toLowerCase() : e.test(name)))
  const seen = new WeakSet<object>()
  const go = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(USERINFO, `$1${REDACTED}@`)
    if (typeof value !== 'object' || value === null) return value
    if (seen.has(value)) return '[circular]'
    seen.add(value)
    try {
      if (Array.isArray(value)) return value.map(go)
      if (value instanceof Map) {
        return new Map([...value].map(([k, v]) => [k, typeof k === 'string' && secret(k) ? REDACTED : go(v)]))
      }
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) {
        out[k] = secret(k) && v !== null && v !== undefined ? REDACTED : go(v)
      }
      return out
    } finally {
      seen.delete(value)
    }
  }
  return go(config) as T
}
