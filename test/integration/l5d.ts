// Real l5d processes for integration tests: started from a config text in a temp dir, reaped on
// exit; the servers' addresses are read from the startup lines.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface L5dProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** `http://ip:port` of the first server of router `label`. */
  url(label: string): string
  readonly admin: string
  err(): string
  out(): string
  readonly exited: Promise<number | null>
  /** Resident set size in bytes, from /proc. */
  rss(): number
  stop(): Promise<void>
}

export async function tempDir(
  prefix = 'switchboard-l5d-',
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** Starts `l5d <config>` and waits for `initialized` (or its exit). */
export async function startL5d(
  config: string,
  dir: string,
  args: string[] = [],
  timeoutMs = 45_000,
): Promise<L5dProcess> {
  const file = join(dir, `linkerd-${Math.random().toString(36).slice(2)}.yaml`)
  await writeFile(file, config)
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/l5d.ts', ...args, file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (stderr.includes('initialized')) resolve(true)
        else setTimeout(check, 50)
      }
      check()
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs)),
  ])
  if (!ready) {
    child.kill('SIGKILL')
    throw new Error(`l5d did not start:\n${stderr}\n${stdout}`)
  }
  const servers = new Map<string, string>()
  for (const m of stderr.matchAll(/^serving (\S+) on (\S+)$/gm))
    if (!servers.has(m[1]!)) servers.set(m[1]!, m[2]!)
  const admin = /serving http admin on (\S+)/.exec(stderr)?.[1]
  return {
    child,
    pid: child.pid!,
    url: (label) => {
      const a = servers.get(label)
      if (!a) throw new Error(`no server for router ${label}: ${stderr}`)
      return `${config.includes('certPath') && /https/.test(a) ? 'https' : 'http'}://${a}`
    },
    admin: `http://${admin}`,
    err: () => stderr,
    out: () => stdout,
    exited,
    rss: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
    },
  }
}
