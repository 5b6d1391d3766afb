import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { Etcd3 } from 'etcd3'
import { afterEach, describe, expect, it } from 'vitest'
import {
  etcdBinary,
  fourLetter,
  startEtcd,
  startZooKeeper,
  type TestServer,
  zookeeperClasspath,
} from './servers.js'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

function withEnv<T>(name: string, value: string, f: () => T): T {
  const old = process.env[name]
  process.env[name] = value
  try {
    return f()
  } finally {
    if (old === undefined) delete process.env[name]
    else process.env[name] = old
  }
}

describe('integration servers', () => {
  it('etcd starts on a free loopback port, keeps its data across a restart, and is removed on close', async () => {
    const etcd = await startEtcd()
    servers.push(etcd)
    expect(etcd.host).toBe('127.0.0.1')
    const client = new Etcd3({ hosts: `http://${etcd.address}` })
    try {
      await client.put('k').value('v')
      await etcd.stop()
      expect(etcd.running).toBe(false)
      await etcd.start()
      expect(await client.get('k').string()).toBe('v')
    } finally {
      client.close()
    }
    await etcd.close()
    expect(existsSync(etcd.dir)).toBe(false)
  })

  it('ZooKeeper starts standalone, can be killed and started again on the same port', async () => {
    const zk = await startZooKeeper()
    servers.push(zk)
    expect(await fourLetter(zk.port, 'ruok')).toBe('imok')
    await zk.kill()
    await expect(fourLetter(zk.port, 'ruok')).rejects.toThrow()
    await zk.start()
    expect(await fourLetter(zk.port, 'srvr')).toContain('Mode: standalone')
  })

  it('a missing etcd or ZooKeeper is a clear error, not a skip', () => {
    expect(() => withEnv('ETCD_BIN', '/nonexistent/etcd', etcdBinary)).toThrow(
      'ETCD_BIN=/nonexistent/etcd does not exist',
    )
    expect(() => withEnv('ZOOKEEPER_JAR', '/nonexistent/zk.jar', zookeeperClasspath)).toThrow(
      /ZooKeeper jar not found at \/nonexistent\/zk.jar.*apt-get install -y zookeeper/,
    )
  })
})

describe('integration servers left behind', () => {
  it('a test run killed outright leaves no server running: the next run reaps it', async () => {
    // A child process starts a ZooKeeper and is killed with SIGKILL before it can stop it.
    const script = `
      import { startZooKeeper } from './test/integration/servers.ts'
      const zk = await startZooKeeper()
      console.log(JSON.stringify({ dir: zk.dir, port: zk.port }))
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
    })
    const deadline = Date.now() + 30_000
    while (!out.includes('\n')) {
      if (Date.now() > deadline) throw new Error(`the child did not start a ZooKeeper: ${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const orphan = JSON.parse(out) as { dir: string; port: number }
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    expect(await fourLetter(orphan.port, 'ruok')).toBe('imok') // still running, owner gone

    const zk = await startZooKeeper() // any start reaps what dead runs left
    servers.push(zk)
    await expect(fourLetter(orphan.port, 'ruok')).rejects.toThrow()
    expect(existsSync(orphan.dir)).toBe(false)
  })
})
