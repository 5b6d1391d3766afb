// Runs every bench/*.bench.ts in turn, each in its own Node process so that one benchmark's JIT
// state and garbage do not colour the next. `npm run bench -- naming` runs only files whose name
// contains "naming". Exits non-zero if any benchmark does.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()

let failed = 0
for (const file of files) {
  console.log(`\n=== ${file} ===`)
  const { status } = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], { stdio: 'inherit' })
  if (status !== 0) {
    failed++
    console.error(`${file} exited with ${status}`)
  }
}
if (files.length === 0) console.log(`no bench/*.bench.ts matched ${filters.join(' ')}`)
process.exitCode = failed === 0 ? 0 : 1
