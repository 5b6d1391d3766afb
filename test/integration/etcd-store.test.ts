import { afterAll, beforeAll } from 'vitest'
import { etcdDtabStore, etcdRevision } from '../../src/namerd/store/etcd.js'
import { describeDtabStore } from '../namerd/store-conformance.js'
import { describeReplicatedStore, freshPrefix, type ReplicaOptions } from './replicas.js'
import { startEtcd, type TestServer } from './servers.js'

let etcd: TestServer
beforeAll(async () => {
  etcd = await startEtcd()
}, 60_000)
afterAll(async () => {
  await etcd?.close()
})

const replica = (pathPrefix: string, options: ReplicaOptions = {}) =>
  etcdDtabStore({
    endpoints: [`http://${options.address ?? etcd.address}`],
    pathPrefix,
    ...(options.stats && { stats: options.stats }),
  })

describeDtabStore('io.l5d.etcd (real etcd)', async () => ({ store: replica(freshPrefix()) }))
describeReplicatedStore('io.l5d.etcd (real etcd)', {
  server: () => etcd,
  replica,
  replaysMissedUpdates: true,
  versionNumber: (v) => etcdRevision(v) ?? -1n,
})
