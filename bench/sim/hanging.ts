// A node that accepts requests and never answers (issue 10, item 9). The client has a total timeout
// and no attempt timeout, so every request sent to the hanging node is abandoned by the total
// timeout. Before the fix failure accrual ignored those (the attempt's signal was aborted, "the
// caller gave up"), so the hanging node kept its share forever; now an attempt abandoned by a
// timeout counts as a failure of its endpoint, as in Finagle, and accrual marks the node dead.
//
// Reported per stack: `hangSharePct`, the share of requests sent to a hanging node once
// `settleMs` have passed since it began to hang, and `successPct`.
import { Service } from '../../src/core/service.js'
import { totalTimeout } from '../../src/limits/timeout.js'
import { failureAccrual } from '../../src/liveness/failure-accrual.js'
import { consecutiveFailures } from '../../src/liveness/policy.js'
import type { SimEnv, SimRequest, SimResponse, SimSetup } from './engine.js'
import { finagleLatency } from './latency.js'
import { resilienceReport } from './resilience.js'
import { knob, registerScenario, type StackVariant } from './scenarios.js'
import type { ServerSpec } from './servers.js'

type Client = Service<SimRequest, SimResponse>

/** Requests that reached each server after the settle time, per run. */
const late = new WeakMap<SimEnv, { all: number; hanging: number }>()

function lateOf(env: SimEnv) {
  let x = late.get(env)
  if (!x) {
    x = { all: 0, hanging: 0 }
    late.set(env, x)
  }
  return x
}

function variant(name: string, description: string, accrual: 'none' | 'ignoring' | 'counting'): StackVariant {
  return {
    name,
    description,
    apply: (setup: SimSetup, k) => {
      const settleAt = knob(k, 'hangFromMs') + knob(k, 'settleMs')
      const hanging = knob(k, 'hanging')
      const timeoutMs = knob(k, 'totalTimeoutMs')
      return {
        ...setup,
        wrapEndpoint: (endpoint: Client, server: number, env: SimEnv): Client => {
          const inner =
            accrual === 'none'
              ? endpoint
              : failureAccrual<SimRequest, SimResponse>({
                  // the HTTP client's default policy
                  policy: consecutiveFailures(5),
                  scheduler: env.clock,
                  random: env.random,
                  countAbandoned: accrual === 'counting',
                })(endpoint)
          return Service.of(
            (req: SimRequest, signal?: AbortSignal) => {
              if (env.clock.now() >= settleAt) {
                const x = lateOf(env)
                x.all++
                if (server < hanging) x.hanging++
              }
              return inner(req, signal)
            },
            { status: () => inner.status, close: () => inner.close() },
          )
        },
        wrapClient: (client: Client, env: SimEnv): Client =>
          totalTimeout<SimRequest, SimResponse>({ timeoutMs, scheduler: env.clock, wallClock: env.clock })(
            client,
          ),
        report: (c, env) => {
          const x = lateOf(env)
          return {
            ...resilienceReport(c),
            hangSharePct: x.all === 0 ? 0 : (100 * x.hanging) / x.all,
          }
        },
      }
    },
  }
}

export const HANG_STACKS: readonly StackVariant[] = [
  variant('timeout', 'total timeout only, no failure accrual', 'none'),
  variant(
    'timeout+accrual (0.1.0)',
    'total timeout + failure accrual (consecutiveFailures(5)) that ignores attempts abandoned by the timeout (the old behaviour)',
    'ignoring',
  ),
  variant(
    'timeout+accrual',
    'total timeout + failure accrual (consecutiveFailures(5)) counting attempts abandoned by the timeout as failures',
    'counting',
  ),
]

registerScenario({
  name: 'hanging-node',
  description:
    '`servers` backends with Finagle latencies, of which `hanging` accept every request from `hangFromMs` on and never answer; the client has a total timeout (`totalTimeoutMs`) and no attempt timeout. `hangSharePct` is the share of requests the hanging nodes receive `settleMs` after they began to hang.',
  knobs: {
    servers: 5,
    hanging: 2,
    rate: 500,
    durationMs: 30_000,
    hangFromMs: 5_000,
    settleMs: 5_000,
    totalTimeoutMs: 1_000,
  },
  balancers: ['p2c'],
  seeds: 3,
  columns: ['successPct', 'hangSharePct'],
  variants: HANG_STACKS,
  setup: (k) => {
    const hangFrom = knob(k, 'hangFromMs')
    const servers: ServerSpec[] = Array.from({ length: knob(k, 'servers') }, (_, i) =>
      i < knob(k, 'hanging')
        ? { latency: finagleLatency, hangs: (t: number) => t >= hangFrom }
        : { latency: finagleLatency },
    )
    return {
      servers,
      arrivals: { kind: 'uniform', ratePerSec: knob(k, 'rate') },
      durationMs: knob(k, 'durationMs'),
    }
  },
})
