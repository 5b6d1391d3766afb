#!/usr/bin/env node
// The l5d executable (linkerd 1.x's router process): `l5d [-validate] [--plugins DIR] <linkerd.yaml | ->`.
// SIGINT/SIGTERM (or POST /admin/shutdown) stop accepting, drain requests in flight and exit 0.
import { text } from 'node:stream/consumers'
import { l5dMain } from './l5d-main.js'

const outcome = await l5dMain(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readStdin: () => text(process.stdin),
  env: process.env,
})
if ('exitCode' in outcome) {
  process.exitCode = outcome.exitCode
} else {
  const { linker } = outcome
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`l5d: ${signal} again, exiting now\n`)
      process.exit(1)
    }
    stopping = true
    process.stderr.write(`l5d: ${signal}, shutting down\n`)
    void linker.close()
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  linker.closed.then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`l5d: error while shutting down: ${String(error)}\n`)
      process.exit(1)
    },
  )
}
