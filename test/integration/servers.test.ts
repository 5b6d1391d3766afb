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
