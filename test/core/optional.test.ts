import { describe, expect, it } from 'vitest'
import { importOptional, MissingDependencyError } from '../../src/core/index.js'

describe('importOptional', () => {
  it('loads an installed package', async () => {
    const yaml = await importOptional<typeof import('yaml')>('yaml', 'config loading')
    expect(typeof yaml.parse).toBe('function')
  })

  it('names the missing package and the feature that needs it', async () => {
    const err: MissingDependencyError = await importOptional<never>(
      'switchboard-no-such-package',
      'the test feature',
    ).catch((e: unknown) => e as MissingDependencyError)
    expect(err).toBeInstanceOf(MissingDependencyError)
    expect(err.code).toBe('MissingDependency')
    expect(err.packageName).toBe('switchboard-no-such-package')
    expect(err.message).toBe(
      'the test feature needs the package "switchboard-no-such-package": npm install switchboard-no-such-package',
    )
  })
})
