#!/usr/bin/env node
// The namerd executable: `namerd [-validate] <config.yaml | ->`. SIGINT/SIGTERM close it cleanly.
import { text } from 'node:stream/consumers'
import { namerdMain } from './namerd-main.js'

const outcome = await namerdMain(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readStdin: () => text(process.stdin),
})
if ('exitCode' in outcome) {
  process.exitCode = outcome.exitCode
} else {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`namerd: ${signal} again, exiting now\n`)
      process.exit(1)
    }
    stopping = true
    process.stderr.write(`namerd: ${signal}, shutting down\n`)
    outcome.namerd.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`namerd: error while shutting down: ${String(error)}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}
