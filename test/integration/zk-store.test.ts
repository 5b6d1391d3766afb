import { afterAll, beforeAll } from 'vitest'
import { zkDtabStore, zkVersionOf } from '../../src/namerd/store/zk.js'
import { describeDtabStore } from '../namerd/store-conformance.js'
import { describeReplicatedStore, freshPrefix, type ReplicaOptions } from './replicas.js'
import { startZooKeeper, type TestServer } from './servers.js'

let zk: TestServer
beforeAll(async () => {
  zk = await startZooKeeper()
}, 60_000)
afterAll(async () => {
  await zk?.close()
})

const replica = (pathPrefix: string, options: ReplicaOptions = {}) => {
  const [host, port] = (options.address ?? zk.address).split(':') as [string, string]
  return zkDtabStore({
    zkAddrs: [{ host, port: Number(port) }],
    pathPrefix,
    sessionTimeoutMs: 10_000,
    ...(options.stats && { stats: options.stats }),
  })
}

describeDtabStore('io.l5d.zk (real ZooKeeper)', async () => ({ store: replica(freshPrefix()) }))
describeReplicatedStore('io.l5d.zk (real ZooKeeper)', {
  server: () => zk,
  replica,
  replaysMissedUpdates: false,
  versionNumber: (v) => BigInt(zkVersionOf(v) ?? -1),
  versionStep: 1n,
})
