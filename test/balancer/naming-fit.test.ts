// naming's Addr and Address reach the balancer structurally (the balancer floor imports only core).
import { describe, expect, it } from 'vitest'
import { balancer } from '../../src/balancer/index.js'
import { Activity } from '../../src/core/activity.js'
import { seededRandom } from '../../src/core/random.js'
import { Var } from '../../src/core/var.js'
import { Addr, Address } from '../../src/naming/index.js'
import { fakeEndpoints } from './helpers.js'

describe('balancer fed by naming', () => {
  it('takes a Var<Addr> (a bound name’s addr) and follows it', () => {
    const addr = Var.value<Addr>(Addr.Pending)
    const eps = fakeEndpoints()
    const lb = balancer({ addresses: addr, connect: eps.connect, random: seededRandom(1) })
    expect(lb.size).toBe(0)
    addr.update(Addr.bound([Address.read('10.0.0.1:80'), Address.read('10.0.0.2:80')]))
    expect(lb.endpoints().map((e) => e.key)).toEqual(['10.0.0.1:80', '10.0.0.2:80'])
    addr.update(Addr.failed('zk down'))
    expect(lb.size).toBe(2)
    addr.update(Addr.Neg)
    expect(lb.size).toBe(0)
  })

  it('takes an Activity<Addr> and reads weights from address metadata', () => {
    const [act, witness] = Activity.mutable<Addr>()
    const lb = balancer({ addresses: act, connect: fakeEndpoints().connect, random: seededRandom(1) })
    witness.ok(
      Addr.bound([Address.inet('10.0.0.1', 80, { [Address.WeightKey]: 3 }), Address.read('10.0.0.2:80')]),
    )
    expect(lb.endpoints().map((e) => e.weight)).toEqual([3, 1])
  })
})
