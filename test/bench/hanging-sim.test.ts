// The hanging-node scenario (bench/sim/hanging.ts, issue 10 item 9): nodes that accept requests and
// never answer, behind a client with a total timeout and no attempt timeout. Virtual time, one seed.
import { describe, expect, it } from 'vitest'
import { balancerNamed } from '../../bench/sim/balancers.js'
import { runService } from '../../bench/sim/engine.js'
import { HANG_STACKS } from '../../bench/sim/hanging.js'
import { knobsFor } from '../../bench/sim/report.js'
import { scenarioNamed } from '../../bench/sim/scenarios.js'

async function run(variant: string) {
  const s = scenarioNamed('hanging-node')
  const k = knobsFor(s, { durationMs: 12_000, hangFromMs: 2_000, settleMs: 2_000 })
  const stack = HANG_STACKS.find((v) => v.name === variant)!
  return runService(stack.apply(s.setup(k), k), balancerNamed('p2c'), 1)
}

describe('simulator: hanging nodes behind a total timeout', () => {
  it('failure accrual counts attempts abandoned by the timeout: the hanging share drops below 1 % within 2 s', async () => {
    const r = await run('timeout+accrual')
    expect(r.extra['hangSharePct']).toBeLessThan(1)
    expect(r.extra['successPct']).toBeGreaterThan(98)
  })

  it('accrual that ignores abandoned attempts (0.1.0) leaves the hanging nodes their share', async () => {
    const old = await run('timeout+accrual (0.1.0)')
    const none = await run('timeout')
    expect(old.extra['hangSharePct']).toBeGreaterThan(5)
    expect(old.extra['hangSharePct']).toBeCloseTo(none.extra['hangSharePct']!, 5)
    expect(old.extra['successPct']).toBeLessThan(95)
  })
})
