// Failure scenarios for the resilience filters (issue 4): Finagle balancersim's `temporaryfailure`
// and `permanentfailure`, and a `black-hole` node that fails half its requests in 5 ms (fast failures
// make a node look lightly loaded, so least-loaded balancers send it *more* traffic). Each runs the
// same balancer under several client stacks, from nothing to failure accrual + retry budget, and
// under cockatiel's retry + circuit breaker for comparison. Reported per stack: success rate, load
// amplification (requests the servers received ÷ requests the clients sent) and latency percentiles.
import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  type IBreaker,
  retry,
  SamplingBreaker,
  wrap,
} from 'cockatiel'
import { Service } from '../../src/core/service.js'
import { failureAccrual } from '../../src/liveness/index.js'
import {
  Backoff,
  ResponseClass,
  type ResponseClassifier,
  RetryBudget,
  retries,
  retryBudget,
} from '../../src/retry/index.js'
import {
  type RunCounters,
  type SimEnv,
  type SimRequest,
  type SimResponse,
  SimServerError,
  type SimSetup,
} from './engine.js'
import { finagleLatency } from './latency.js'
import { knob, registerScenario, type StackVariant } from './scenarios.js'
import type { ServerSpec } from './servers.js'

type Client = Service<SimRequest, SimResponse>

/** A simulated server failure is what an HTTP classifier would call a retryable 503. */
const serverErrorsRetryable: ResponseClassifier<SimRequest, SimResponse> = (rr) =>
  !rr.ok && rr.error instanceof SimServerError ? ResponseClass.RetryableFailure : undefined

/** Our retries filter as the variants configure it: 3 retries, decorrelated jitter 5–200 ms. */
function ourRetries(budget: (env: SimEnv) => RetryBudget) {
  return (client: Client, env: SimEnv): Client =>
    retries<SimRequest, SimResponse>({
      budget: budget(env),
      maxRetries: 3,
      classifier: serverErrorsRetryable,
      backoff: Backoff.decorrelatedJitter(5, 200, env.random),
      scheduler: env.clock,
      stats: env.stats,
    })(client)
}

function ourAccrual(endpoint: Client, _server: number, env: SimEnv): Client {
  return failureAccrual<SimRequest, SimResponse>({
    classifier: serverErrorsRetryable,
    scheduler: env.clock,
    random: env.random,
    stats: env.stats,
  })(endpoint)
}

/**
 * cockatiel 3 as its README composes it: `wrap(retry, circuitBreaker)` around the whole client (a
 * function-level library has no per-endpoint hook), 3 retries with its exponential (decorrelated
 * jitter) backoff from 5 ms to 200 ms, and a breaker that opens for 10 s.
 */
function cockatielClient(breaker: () => IBreaker) {
  return (client: Client): Client => {
    const policy = wrap(
      retry(handleAll, {
        maxAttempts: 3,
        backoff: new ExponentialBackoff({ initialDelay: 5, maxDelay: 200 }),
      }),
      circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: breaker() }),
    )
    return Service.of(
      (req: SimRequest, signal?: AbortSignal) => policy.execute(({ signal: s }) => client(req, s), signal),
      { status: () => client.status, close: () => client.close() },
    )
  }
}

export const STACKS: readonly StackVariant[] = [
  { name: 'none', description: 'no retries, no failure accrual', apply: (s) => s },
  {
    name: 'retries',
    description: '3 retries (decorrelated jitter 5–200 ms), no budget',
    apply: (s) => ({ ...s, wrapClient: ourRetries(() => RetryBudget.infinite) }),
  },
  {
    name: 'budget',
    description: '3 retries within the default retry budget (20 % + 10/s)',
    apply: (s) => ({ ...s, wrapClient: ourRetries((env) => retryBudget({ clock: env.clock })) }),
  },
  {
    name: 'accrual',
    description: 'failure accrual (default hybrid policy) per endpoint, no retries',
    apply: (s) => ({ ...s, wrapEndpoint: ourAccrual }),
  },
  {
    name: 'accrual+budget',
    description: 'failure accrual per endpoint + 3 retries within the default budget',
    apply: (s) => ({
      ...s,
      wrapEndpoint: ourAccrual,
      wrapClient: ourRetries((env) => retryBudget({ clock: env.clock })),
    }),
  },
  {
    name: 'cockatiel',
    description:
      'cockatiel 3.2: wrap(retry ×3, circuitBreaker(ConsecutiveBreaker(5), 10 s)) around the client',
    apply: (s) => ({
      ...s,
      wrapClient: cockatielClient(() => new ConsecutiveBreaker(5)),
      virtualTimers: true,
    }),
  },
  {
    name: 'cockatiel-sampling',
    description: 'cockatiel 3.2: the same with SamplingBreaker(20 % over 10 s, ≥ 5 req/s)',
    apply: (s) => ({
      ...s,
      wrapClient: cockatielClient(
        () => new SamplingBreaker({ threshold: 0.2, duration: 10_000, minimumRps: 5 }),
      ),
      virtualTimers: true,
    }),
  },
]

/** `successPct` and `amplification` (backend requests ÷ logical requests) for every run. */
export function resilienceReport(c: RunCounters): Record<string, number> {
  return {
    successPct: c.logical === 0 ? 100 : (100 * c.succeeded) / c.logical,
    amplification: c.logical === 0 ? 0 : c.serverAdmissions / c.logical,
  }
}

const COMMON = { servers: 11, rate: 1250, durationMs: 45_000, failMs: 5 }

/** 10 stable backends and one that fails per `fails`, as in Finagle's balancersim. */
function withFailingNode(
  k: Readonly<Record<string, number>>,
  failing: (t: number) => boolean,
  failChance: number,
): SimSetup {
  const failMs = knob(k, 'failMs')
  const bad: ServerSpec = {
    latency: finagleLatency,
    fails: (t, random) => (failing(t) && random.next() < failChance ? failMs : undefined),
    degradedAt: failing,
  }
  const stable: ServerSpec[] = Array.from({ length: knob(k, 'servers') - 1 }, () => ({
    latency: finagleLatency,
  }))
  return {
    servers: [bad, ...stable],
    arrivals: { kind: 'uniform', ratePerSec: knob(k, 'rate') },
    durationMs: knob(k, 'durationMs'),
    report: resilienceReport,
  }
}

const shared = {
  balancers: ['p2c'],
  seeds: 3,
  columns: ['successPct', 'amplification'],
  variants: STACKS,
} as const

registerScenario({
  ...shared,
  name: 'outage',
  description:
    'A retry storm: all 11 backends fail every request (in `failMs`) during [10 s, 25 s), 1 250 req/s for 45 s; what do retries add to a backend that is already down?',
  knobs: { ...COMMON, failFromMs: 10_000, failUntilMs: 25_000 },
  setup: (k) => {
    const failing = (t: number) => t >= knob(k, 'failFromMs') && t < knob(k, 'failUntilMs')
    const failMs = knob(k, 'failMs')
    return {
      servers: Array.from({ length: knob(k, 'servers') }, () => ({
        latency: finagleLatency,
        fails: (t: number) => (failing(t) ? failMs : undefined),
        degradedAt: failing,
      })),
      arrivals: { kind: 'uniform', ratePerSec: knob(k, 'rate') },
      durationMs: knob(k, 'durationMs'),
      report: resilienceReport,
    }
  },
})

registerScenario({
  ...shared,
  name: 'black-hole',
  description:
    '10 stable backends + 1 that fails `failRate` of its requests in `failMs` (a black hole: fast failures look like low load), 1 250 req/s for 45 s',
  knobs: { ...COMMON, failRate: 0.5 },
  setup: (k) => withFailingNode(k, () => true, knob(k, 'failRate')),
})

registerScenario({
  ...shared,
  name: 'temporary-failure',
  description:
    "Finagle's `temporaryfailure`: 10 stable backends + 1 that fails every request (in `failMs`) during [10 s, 25 s), 1 250 req/s for 45 s",
  knobs: { ...COMMON, failFromMs: 10_000, failUntilMs: 25_000 },
  setup: (k) => withFailingNode(k, (t) => t >= knob(k, 'failFromMs') && t < knob(k, 'failUntilMs'), 1),
})

registerScenario({
  ...shared,
  name: 'permanent-failure',
  description:
    "Finagle's `permanentfailure`: 10 stable backends + 1 that fails every request (in `failMs`) from 10 s on, 1 250 req/s for 45 s",
  knobs: { ...COMMON, failFromMs: 10_000 },
  setup: (k) => withFailingNode(k, (t) => t >= knob(k, 'failFromMs'), 1),
})
