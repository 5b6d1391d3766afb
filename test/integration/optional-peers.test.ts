// etcd3 and node-zookeeper-client are optional peer dependencies. Without them the core loads,
// and the etcd / ZooKeeper stores fail with MissingDependencyError naming the package to install.
// Absence is simulated in a child process by a resolution hook that refuses the package by name.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const hook = fileURLToPath(new URL('./hide-packages.mjs', import.meta.url))

/** Runs `script` (an ES module body) under tsx with the given packages hidden; prints its output. */
async function withHidden(hide: string, script: string): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--import', hook, '--input-type=module', '-e', script],
    { cwd: root, env: { ...process.env, SWITCHBOARD_HIDE: hide }, timeout: 60_000 },
  )
  return stdout.trim()
}

const CORE = [
  'index',
  'core/index',
  'naming/index',
  'namerd/index',
  'http/index',
  'config/index',
  'namers/index',
  'balancer/index',
]

describe('optional peer dependencies', { timeout: 90_000 }, () => {
  it('the hook really hides a package', async () => {
    const out = await withHidden(
      'etcd3',
      "await import('etcd3').then(() => console.log('loaded'), (e) => console.log(e.code))",
    )
    expect(out).toBe('ERR_MODULE_NOT_FOUND')
  })

  it('every core subpath loads without etcd3 and node-zookeeper-client', async () => {
    const imports = CORE.map((m) => `await import('./src/${m}.ts')`).join('; ')
    const out = await withHidden('etcd3,node-zookeeper-client', `${imports}; console.log('ok')`)
    expect(out).toBe('ok')
  })

  it.each([
    ['etcd3', 'namerd/store/etcd', 'switchboard/namerd/etcd'],
    ['node-zookeeper-client', 'namerd/store/zk', 'switchboard/namerd/zk'],
  ])('without %s, %s fails naming the package', async (pkg, module, subpath) => {
    const out = await withHidden(
      pkg,
      `try { await import('./src/${module}.ts'); console.log('loaded') }
       catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, pkg: e.packageName, message: e.message })) }`,
    )
    expect(JSON.parse(out)).toEqual({
      name: 'MissingDependencyError',
      code: 'MissingDependency',
      pkg,
      message: `${subpath} needs the package "${pkg}": npm install ${pkg}`,
    })
  })

  it('every core subpath loads without @grpc/grpc-js and @grpc/proto-loader', async () => {
    const imports = CORE.map((m) => `await import('./src/${m}.ts')`).join('; ')
    const out = await withHidden('@grpc/grpc-js,@grpc/proto-loader', `${imports}; console.log('ok')`)
    expect(out).toBe('ok')
  })

  it('a namerd config with an io.l5d.mesh interface says which package to install', async () => {
    const out = await withHidden(
      '@grpc/grpc-js',
      `import { namerdMain } from './src/cli/namerd-main.ts'
       const lines = []
       const config = 'admin: { port: 0 }\\nstorage: { kind: io.l5d.inMemory }\\ninterfaces: [{ kind: io.l5d.mesh, port: 0 }]\\n'
       const out = await namerdMain(['-'], { stdout: (l) => lines.push('out ' + l), stderr: (l) => lines.push('err ' + l), readStdin: async () => config })
       if ('namerd' in out) { await out.namerd.close(); console.log('started') } else console.log(JSON.stringify({ code: out.exitCode, lines }))`,
    )
    const { code, lines } = JSON.parse(out) as { code: number; lines: string[] }
    expect(code).toBe(1)
    expect(lines.join('\n')).toContain(
      'the io.l5d.mesh interface needs the package "@grpc/grpc-js": npm install @grpc/grpc-js',
    )
  })

  it('the io.l5d.mesh interpreter without @grpc/proto-loader fails its names, naming the package', async () => {
    const out = await withHidden(
      '@grpc/proto-loader',
      `import { meshInterpreter } from './src/namerd/client/mesh.ts'
       import { Dtab, Path } from './src/naming/index.ts'
       const i = meshInterpreter({ target: '127.0.0.1:1' })
       const r = await i.bind(Dtab.empty, Path.read('/svc/a')).toPromise().then(() => 'bound', (e) => e.name + ': ' + e.message)
       await i.close()
       console.log(r)`,
    )
    expect(out).toBe(
      'MissingDependencyError: the io.l5d.mesh interpreter needs the package "@grpc/proto-loader": npm install @grpc/proto-loader',
    )
  })

  it('every core subpath loads without consul', async () => {
    const imports = CORE.map((m) => `await import('./src/${m}.ts')`).join('; ')
    const out = await withHidden('consul,etcd3,node-zookeeper-client', `${imports}; console.log('ok')`)
    expect(out).toBe('ok')
  })

  it.each([
    ['consul', 'consulNamer({ port: 1 })', 'the io.l5d.consul namer', '/dc1/web'],
    [
      'node-zookeeper-client',
      "serversetsNamer({ zkAddrs: [{ host: '127.0.0.1', port: 1 }] })",
      'the io.l5d.serversets namer',
      '/a/b',
    ],
  ])('without %s, a lookup of its namer fails naming the package', async (pkg, make, feature, path) => {
    const out = await withHidden(
      pkg,
      `import { consulNamer, serversetsNamer } from './src/namers/index.ts'
       import { Path } from './src/naming/path.ts'
       const namer = ${make}
       const a = namer.lookup(Path.read('${path}'))
       const s = await new Promise((resolve) => { const off = a.observe((s) => { if (s.kind === 'failed') { resolve(s); queueMicrotask(() => off()) } }) })
       namer.close()
       console.log(JSON.stringify({ name: s.error.name, pkg: s.error.packageName, message: s.error.message }))`,
    )
    expect(JSON.parse(out)).toEqual({
      name: 'MissingDependencyError',
      pkg,
      message: `${feature} needs the package "${pkg}": npm install ${pkg}`,
    })
  })

  it('without consul, the io.l5d.consul store refuses writes naming the package', async () => {
    const out = await withHidden(
      'consul',
      `import { consulDtabStore } from './src/namerd/store/consul.ts'
       import { Dtab } from './src/naming/dtab.ts'
       const store = consulDtabStore({ port: 1 })
       try { await store.put('default', Dtab.read('/a=>/b')); console.log('written') }
       catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })) }
       await store.close()`,
    )
    expect(JSON.parse(out)).toEqual({
      name: 'MissingDependencyError',
      message: 'the io.l5d.consul dtab store needs the package "consul": npm install consul',
    })
  })

  it('a namerd config with io.l5d.etcd says which package to install', async () => {
    const out = await withHidden(
      'etcd3',
      `import { namerdMain } from './src/cli/namerd-main.ts'
       const lines = []
       const config = 'admin: { port: 0 }\\nstorage: { kind: io.l5d.etcd, experimental: true }\\nnamers: []\\ninterfaces: [{ kind: io.l5d.httpController, port: 0 }]\\n'
       const out = await namerdMain(['-'], { stdout: (l) => lines.push('out ' + l), stderr: (l) => lines.push('err ' + l), readStdin: async () => config })
       if ('namerd' in out) { await out.namerd.close(); console.log('started') } else console.log(JSON.stringify({ code: out.exitCode, lines }))`,
    )
    const { code, lines } = JSON.parse(out) as { code: number; lines: string[] }
    expect(code).toBe(1)
    expect(lines.join('\n')).toContain('switchboard/namerd/etcd needs the package "etcd3": npm install etcd3')
  })

  it('without prom-client and OpenTelemetry, stats and telemetry load, process metrics fall back to the built-in set, tracing says what to install', async () => {
    const out = await withHidden(
      'prom-client,@opentelemetry/api,@opentelemetry/sdk-trace-base',
      `await import('./src/stats/index.ts'); await import('./src/http/index.ts')
       const { openTelemetryTracing, startTelemetry } = await import('./src/telemetry/index.ts')
       const { processMetrics } = await import('./src/stats/index.ts')
       const pm = await processMetrics()
       const text = await pm.text()
       let tracing
       try { await openTelemetryTracing(); tracing = 'loaded' } catch (e) { tracing = e.message }
       let telemeters
       try { await startTelemetry([{ kind: 'io.l5d.recentRequests', sampleRate: 1, capacity: 1 }]); telemeters = 'loaded' } catch (e) { telemeters = e.message }
       const { createLinker } = await import('./src/router/index.ts')
       let l5d
       try {
         const l = await createLinker('{admin: {ip: 127.0.0.1, port: 0}, telemetry: [{kind: io.l5d.zipkin}], routers: [{protocol: http, servers: [{ip: 127.0.0.1, port: 0}]}]}', { log: () => {} })
         l5d = 'loaded'
         await l.close(0)
       } catch (e) { l5d = e.message }
       console.log(JSON.stringify({ source: pm.source, cpu: text.includes('process_cpu_seconds_total'), tracing, telemeters, l5d }))`,
    )
    expect(JSON.parse(out)).toEqual({
      source: 'builtin',
      cpu: true,
      tracing: 'tracing needs the package "@opentelemetry/api": npm install @opentelemetry/api',
      telemeters: 'tracing telemeters needs the package "@opentelemetry/api": npm install @opentelemetry/api',
      // l5d with a tracing telemeter says what to install instead of starting without it
      l5d: 'tracing telemeters needs the package "@opentelemetry/api": npm install @opentelemetry/api',
    })
  })
})
