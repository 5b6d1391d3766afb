// Runs Prometheus's own `promtool` (Debian's `prometheus` package; `.ci/run` installs it) on text we
// export. Missing promtool is an error naming the package: these tests never skip.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function promtoolBinary(): string {
  for (const p of ['/usr/bin/promtool', '/usr/local/bin/promtool']) if (existsSync(p)) return p
  throw new Error('promtool not found: apt-get install prometheus (it ships /usr/bin/promtool)')
}

function run(args: string[], stdin?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtoolBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, output }))
    child.stdin.end(stdin ?? '')
  })
}

/** `promtool check metrics` on an exposition: the problems it prints (none means it passed). */
export async function checkMetrics(text: string): Promise<{ code: number; problems: string[] }> {
  const { code, output } = await run(['check', 'metrics'], text)
  return { code, problems: output.split('\n').filter((l) => l.trim() !== '') }
}

/** `promtool test rules` on a unit-test file (PromQL evaluated by Prometheus's own engine). */
export async function testRules(yaml: string): Promise<{ code: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-promtool-'))
  try {
    const file = join(dir, 'test.yml')
    writeFileSync(file, yaml)
    return await run(['test', 'rules', file])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
