#!/usr/bin/env node
// The namerctl executable: linkerd's namerd CLI (`namerctl dtab get default`, ...).
import { text } from 'node:stream/consumers'
import { namerctlMain } from './namerctl-main.js'

process.exitCode = await namerctlMain(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readStdin: () => text(process.stdin),
  env: process.env,
  cwd: process.cwd(),
})
