// Every error class a public subpath exports has its row in docs/errors.md, with its stable code.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as balancer from '../../src/balancer/index.js'
import * as config from '../../src/config/index.js'
import * as core from '../../src/core/index.js'
import * as http from '../../src/http/index.js'
import * as root from '../../src/index.js'
import * as limits from '../../src/limits/index.js'
import * as liveness from '../../src/liveness/index.js'
import * as namerd from '../../src/namerd/index.js'
import * as namers from '../../src/namers/index.js'
import * as naming from '../../src/naming/index.js'
import * as retry from '../../src/retry/index.js'
import * as router from '../../src/router/index.js'
import * as stats from '../../src/stats/index.js'
import * as transformers from '../../src/transformers/index.js'

const modules = {
  root,
  core,
  stats,
  naming,
  namers,
  transformers,
  balancer,
  liveness,
  retry,
  limits,
  config,
  http,
  namerd,
  router,
}

const errorNames = (): string[] => {
  const names = new Set<string>()
  for (const mod of Object.values(modules))
    for (const [name, value] of Object.entries(mod))
      if (typeof value === 'function' && value.prototype instanceof Error) names.add(name)
  return [...names].sort()
}

const doc = () => readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8')

describe('docs/errors.md', () => {
  it('lists every exported error class', async () => {
    const rows = new Set([...(await doc()).matchAll(/^\| `(\w+)` *\|/gm)].map((m) => m[1]))
    const names = errorNames()
    expect(names.length).toBeGreaterThan(30)
    expect(names.filter((name) => !rows.has(name))).toEqual([])
  })

  it("gives each class's code as its constructor passes it to SwitchboardError", async () => {
    const src = new URL('../../src/', import.meta.url).pathname
    const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'))
    const text = (await Promise.all(files.map((f) => readFile(join(src, f), 'utf8')))).join('\n')
    const table = await doc()
    for (const name of errorNames()) {
      const code = new RegExp(
        `class ${name} extends SwitchboardError \\{[\\s\\S]*?super\\(\\s*'(\\w+)'`,
      ).exec(text)?.[1]
      if (code === undefined) continue // SwitchboardError itself, ActivityPendingError (a plain Error)
      const documented = new RegExp(`^\\| \`${name}\` *\\|[^|]*\\| \`(\\w+)\` *\\|`, 'm').exec(table)?.[1]
      expect({ name, code: documented }).toEqual({ name, code })
    }
  })
})
