// Real etcd and ZooKeeper servers for integration tests: each one runs on free loopback ports in its
// own temp folder, can be stopped and started again on the same ports with the same data, and is
// killed when the test process exits even if a test forgot to stop it.
//
// The binaries come from Debian's `etcd-server` and `zookeeper` packages (`.ci/run` installs them).
// When they are missing, starting a server throws an error saying what to install: integration
// tests must fail loudly, never skip.

import { type ChildProcess, spawn } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/** A server process the test controls. */
export interface TestServer {
  /** `host:port` of the client port on 127.0.0.1. */
  readonly address: string
  readonly host: string
  readonly port: number
  /** The temp folder holding the data and the log. */
  readonly dir: string
  /** Whether the process is running. */
  readonly running: boolean
  /** Stops the process (SIGTERM, then SIGKILL after 5 s); the data stays. */
  stop(): Promise<void>
  /** Kills the process at once with SIGKILL; the data stays. */
  kill(): Promise<void>
  /** Starts the process again on the same ports with the same data and waits until it serves. */
  start(): Promise<void>
  /** Stops the process and deletes its folder. */
  close(): Promise<void>
  /** The last lines of the server's log, for failure messages. */
  logTail(lines?: number): string
}

const live = new Set<ChildProcess>()
let hooksInstalled = false
function track(child: ChildProcess, dir: string): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  // Who owns the server, so that a later run can reap it if this process dies without cleaning up.
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ owner: process.pid, server: child.pid }))
  if (!hooksInstalled) {
    hooksInstalled = true
    const killAll = () => {
      for (const c of live) c.kill('SIGKILL')
    }
    // A crashed or interrupted test run must not leave servers behind holding ports and folders.
    process.once('exit', killAll)
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        killAll()
        process.kill(process.pid, signal)
      })
    }
  }
}

const OWNER_FILE = 'owner.json'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Kills the servers of earlier test runs that were killed outright (SIGKILL leaves no chance to
 * clean up), and removes their folders. A server is only killed if its owner is gone and its
 * command line still names its folder, so a reused pid is never hit.
 */
function reapOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!/^switchboard-(etcd|zk|dnsmasq)-/.test(name)) continue
    const dir = join(tmpdir(), name)
    let owner: { owner: number; server?: number }
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8'))
    } catch {
      continue
    }
    if (alive(owner.owner)) continue
    if (owner.server !== undefined && alive(owner.server)) {
      let cmdline = ''
      try {
        cmdline = readFileSync(`/proc/${owner.server}/cmdline`, 'utf8')
      } catch {}
      if (cmdline.includes(dir)) process.kill(owner.server, 'SIGKILL')
    }
    rmSync(dir, { recursive: true, force: true })
  }
}
/** A port on 127.0.0.1 that nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, name)
    if (dir && existsSync(candidate)) return candidate
  }
  return undefined
}

/** The etcd binary: `$ETCD_BIN`, else `etcd` on PATH, else a clear error. */
export function etcdBinary(): string {
  const explicit = process.env['ETCD_BIN']
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`ETCD_BIN=${explicit} does not exist`)
    return explicit
  }
  const found = findOnPath('etcd') ?? (existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : undefined)
  if (!found) {
    throw new Error(
      "etcd binary not found: the integration tests need a real etcd. Install Debian's etcd-server " +
        'package (`apt-get install -y etcd-server`, as .ci/run does) or set ETCD_BIN.',
    )
  }
  return found
}

/** The ZooKeeper server jar: `$ZOOKEEPER_JAR`, else Debian's, else a clear error. */
export function zookeeperClasspath(): { java: string; classpath: string } {
  const jar = process.env['ZOOKEEPER_JAR'] ?? '/usr/share/java/zookeeper.jar'
  if (!existsSync(jar)) {
    throw new Error(
      `ZooKeeper jar not found at ${jar}: the integration tests need a real ZooKeeper. Install ` +
        "Debian's zookeeper package (`apt-get install -y zookeeper`, as .ci/run does) or set ZOOKEEPER_JAR.",
    )
  }
  const java = process.env['JAVA'] ?? findOnPath('java')
  if (!java)
    throw new Error('java not found on PATH: ZooKeeper needs a Java runtime (Debian: default-jre-headless)')
  // Debian's zookeeper.jar names its dependencies in its manifest; slf4j-simple (a dependency of the
  // package) routes the server's log lines to stderr, which goes to the log file.
  const simple = '/usr/share/java/slf4j-simple.jar'
  return { java, classpath: existsSync(simple) ? `${jar}${delimiter}${simple}` : jar }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

async function waitUntil(
  what: string,
  ready: () => Promise<boolean>,
  child: () => ChildProcess | undefined,
  log: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const c = child()
    if (!c || c.exitCode !== null || c.signalCode !== null) {
      throw new Error(
        `${what} exited before it was ready (code ${c?.exitCode}, signal ${c?.signalCode}):\n${log()}`,
      )
    }
    if (await ready().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${log()}`)
    await sleep(50)
  }
}

/** Sends a ZooKeeper four-letter command and returns the answer. */
export function fourLetter(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    const timer = setTimeout(
      () => socket.destroy(new Error(`${command}: no answer in ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.on('connect', () => socket.end(command))
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
  })
}

class ProcessServer implements TestServer {
  readonly host = '127.0.0.1'
  readonly port: number
  readonly dir: string
  private child: ChildProcess | undefined
  private readonly name: string
  private readonly command: () => { file: string; args: string[] }
  private readonly ready: () => Promise<boolean>
  private readonly logFile: string

  constructor(
    name: string,
    port: number,
    dir: string,
    command: () => { file: string; args: string[] },
    ready: () => Promise<boolean>,
  ) {
    this.name = name
    this.port = port
    this.dir = dir
    this.command = command
    this.ready = ready
    this.logFile = join(dir, `${name}.log`)
  }

  get address(): string {
    return `${this.host}:${this.port}`
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }

  async start(): Promise<void> {
    if (this.running) return
    reapOrphans()
    const { file, args } = this.command()
    const fd = openSync(this.logFile, 'a')
    try {
      const child = spawn(file, args, { cwd: this.dir, stdio: ['ignore', fd, fd] })
      this.child = child
      track(child, this.dir)
      child.on('error', () => {}) // reported through the exit check in waitUntil
    } finally {
      closeSync(fd)
    }
    await waitUntil(
      `${this.name} on ${this.address}`,
      this.ready,
      () => this.child,
      () => this.logTail(),
    )
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.kill(sig)
    if (sig === 'SIGKILL') return exited
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM')
  }

  kill(): Promise<void> {
    return this.signal('SIGKILL')
  }

  async close(): Promise<void> {
    await this.signal('SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** TLS for a test etcd: PEM files. */
export interface EtcdTls {
  readonly certFile: string
  readonly keyFile: string
  /** With `clientCertAuth`, clients must present a certificate signed by this CA. */
  readonly caFile: string
  readonly clientCertAuth?: boolean
}

/** A test etcd: its client URL, `https://` with TLS. */
export interface EtcdServer extends TestServer {
  readonly url: string
}

/**
 * Starts a single-member etcd cluster on free loopback ports in a new temp folder; readiness is
 * checked on a separate plain-HTTP metrics port, so it works with TLS too.
 *
 * @example
 * ```ts
 * const etcd = await startEtcd()
 * const client = new Etcd3({ hosts: etcd.url })
 * await etcd.close()
 * ```
 */
export async function startEtcd(options: { tls?: EtcdTls } = {}): Promise<EtcdServer> {
  const file = etcdBinary()
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-etcd-'))
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()]
  const tls = options.tls
  const client = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  const metrics = `http://127.0.0.1:${metricsPort}`
  const args = [
    '--name=test',
    `--data-dir=${join(dir, 'data')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    '--initial-cluster-state=new',
    `--listen-metrics-urls=${metrics}`,
    '--log-level=warn',
    '--logger=zap',
    ...(tls
      ? [
          `--cert-file=${tls.certFile}`,
          `--key-file=${tls.keyFile}`,
          `--trusted-ca-file=${tls.caFile}`,
          ...(tls.clientCertAuth ? ['--client-cert-auth'] : []),
        ]
      : []),
  ]
  const ready = async () => {
    const res = await fetch(`${metrics}/health`, { signal: AbortSignal.timeout(1000) })
    return res.ok && ((await res.json()) as { health?: string }).health === 'true'
  }
  const server = new ProcessServer('etcd', clientPort, dir, () => ({ file, args }), ready)
  try {
    await server.start()
  } catch (e) {
    await server.close()
    throw e
  }
  return Object.assign(server, { url: client })
}

/**
 * Starts a standalone ZooKeeper on a free loopback port in a new temp folder.
 *
 * @example
 * ```ts
 * const zk = await startZooKeeper()
 * const client = zookeeper.createClient(zk.address)
 * await zk.close()
 * ```
 */
export async function startZooKeeper(): Promise<TestServer> {
  const { java, classpath } = zookeeperClasspath()
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-zk-'))
  const port = await freePort()
  const cfg = join(dir, 'zoo.cfg')
  writeFileSync(
    cfg,
    [
      'tickTime=500',
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      // Sessions from 1 s to 60 s, so tests can ask for short sessions and see them expire.
      'minSessionTimeout=1000',
      'maxSessionTimeout=60000',
      '4lw.commands.whitelist=ruok,srvr',
      '',
    ].join('\n'),
  )
  const args = [
    '-Xmx128m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Dzookeeper.jmx.log4j.disable=true',
    '-cp',
    classpath,
    'org.apache.zookeeper.server.quorum.QuorumPeerMain',
    cfg,
  ]
  const ready = async () => (await fourLetter(port, 'srvr')).includes('Mode: standalone')
  const server = new ProcessServer('zookeeper', port, dir, () => ({ file: java, args }), ready)
  try {
    await server.start()
  } catch (e) {
    await server.close()
    throw e
  }
  return server
}

/** A TCP proxy in front of a server, to cut one client off while the server keeps running. */
export interface TcpProxy {
  /** `127.0.0.1:<port>` to give the client instead of the server's address. */
  readonly address: string
  readonly port: number
  /** Drops every open connection and refuses new ones until `restore()`. */
  cut(): Promise<void>
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

/**
 * Starts a TCP proxy on a free loopback port forwarding to `127.0.0.1:<targetPort>`.
 *
 * @example
 * ```ts
 * const proxy = await tcpProxy(etcd.port)
 * await proxy.cut()     // the client behind the proxy sees the server vanish
 * await proxy.restore()
 * ```
 */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort()
  const sockets = new Set<Socket>()
  const makeServer = () =>
    createServer((inbound) => {
      const outbound = connect({ host: '127.0.0.1', port: targetPort })
      sockets.add(inbound)
      sockets.add(outbound)
      const drop = () => {
        inbound.destroy()
        outbound.destroy()
        sockets.delete(inbound)
        sockets.delete(outbound)
      }
      inbound.on('error', drop).on('close', drop)
      outbound.on('error', drop).on('close', drop)
      inbound.pipe(outbound)
      outbound.pipe(inbound)
    })
  let server: Server | undefined
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = makeServer()
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => {
        server = s
        resolve()
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server
      server = undefined
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      if (!s) return resolve()
      s.close(() => resolve())
    })
  await listen()
  return {
    address: `127.0.0.1:${port}`,
    port,
    cut: stop,
    restore: async () => {
      if (!server) await listen()
    },
    close: stop,
  }
}

/** A SRV record served by a test DNS server: `<name> SRV <priority> <weight> <port> <target>`. */
export interface SrvRecordSpec {
  readonly name: string
  readonly target: string
  readonly port: number
  readonly priority?: number
  readonly weight?: number
}

/** A test dnsmasq: its records can be replaced (which restarts it on the same port). */
export interface DnsServer extends TestServer {
  /** Replaces the SRV and A records and restarts dnsmasq with them. */
  setRecords(records: { srv?: readonly SrvRecordSpec[]; a?: Readonly<Record<string, string>> }): Promise<void>
}

/** The dnsmasq binary: `$DNSMASQ_BIN`, else Debian's, else a clear error. */
export function dnsmasqBinary(): string {
  const file = process.env['DNSMASQ_BIN'] ?? findOnPath('dnsmasq') ?? '/usr/sbin/dnsmasq'
  if (!existsSync(file)) {
    throw new Error(
      "dnsmasq not found: the DNS integration tests need a real DNS server. Install Debian's dnsmasq " +
        'package (`apt-get install -y dnsmasq`, as .ci/run does) or set DNSMASQ_BIN.',
    )
  }
  return file
}

/** Asks a DNS server on 127.0.0.1:port for a name's A record; resolves true if it answers at all. */
async function dnsAnswers(port: number): Promise<boolean> {
  const { Resolver } = await import('node:dns/promises')
  const r = new Resolver({ timeout: 500, tries: 1 })
  r.setServers([`127.0.0.1:${port}`])
  try {
    await r.resolve4('ready.test')
    return true
  } catch (e) {
    return (e as { code?: string }).code === 'ENOTFOUND' || (e as { code?: string }).code === 'ENODATA'
  }
}

/**
 * Starts dnsmasq as an authoritative-only server for the `test` domain (and `localDomains`) on a free loopback port
 * (UDP and TCP), in a new temp folder, with no upstream servers and no /etc/hosts: names under
 * `test` that it has no record for are NXDOMAIN. Records are given on its command line; changing
 * them restarts it on the same port.
 *
 * @example
 * ```ts
 * const dns = await startDnsmasq({ srv: [{ name: '_http._tcp.web.test', target: 'a.web.test', port: 8080 }], a: { 'a.web.test': '127.0.0.2' } })
 * dnsSrvNamer({ dnsHosts: [dns.address] })
 * await dns.close()
 * ```
 */
export async function startDnsmasq(
  records: { srv?: readonly SrvRecordSpec[]; a?: Readonly<Record<string, string>> } = {},
  options: { localDomains?: readonly string[] } = {},
): Promise<DnsServer> {
  const file = dnsmasqBinary()
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-dnsmasq-'))
  const port = await freePort()
  let current = records
  const args = () => [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--no-negcache',
    '--local=/test/',
    ...(options.localDomains ?? []).map((d) => `--local=/${d}/`),
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--user=root',
    '--log-facility=-',
    `--host-record=ready.test,127.0.0.1`,
    ...(current.srv ?? []).map(
      (r) => `--srv-host=${r.name},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 0}`,
    ),
    ...Object.entries(current.a ?? {}).map(([name, ip]) => `--host-record=${name},${ip}`),
  ]
  const server = new ProcessServer(
    'dnsmasq',
    port,
    dir,
    () => ({ file, args: args() }),
    () => dnsAnswers(port),
  )
  try {
    await server.start()
  } catch (e) {
    await server.close()
    throw e
  }
  return Object.assign(server, {
    async setRecords(next: { srv?: readonly SrvRecordSpec[]; a?: Readonly<Record<string, string>> }) {
      current = next
      await server.stop()
      await server.start()
    },
  })
}
