// What the resilience filters cost per request on the happy path (nothing fails, nothing is
// retried), against a bare service, plus the budget and backoff primitives.
// Run: `npx tsx bench/resilience.bench.ts`.
import { Bench } from 'tinybench'
import { Filter, type Service, Service as Svc, seededRandom, systemScheduler } from '../src/core/index.js'
import { attemptTimeout, concurrencyLimit, totalTimeout } from '../src/limits/index.js'
import { failFast, failureAccrual } from '../src/liveness/index.js'
import { Backoff, RetryBudget, requeues, retries, retryBudget } from '../src/retry/index.js'

const bare: Service<number, number> = Svc.of(async (n: number) => n + 1)
const budget = retryBudget()
const random = seededRandom(1)
const jitter = Backoff.decorrelatedJitter(5, 200, random)

const withRetries = retries<number, number>({ budget })(bare)
const withRequeues = requeues<number, number>({ budget: RetryBudget.withdrawOnly(budget) })(bare)
const withAccrual = failureAccrual<number, number>({ random })(bare)
const withFailFast = failFast<number, number>({ random })(bare)
const withAttemptTimeout = attemptTimeout<number, number>({ timeoutMs: 1000, scheduler: systemScheduler })(
  bare,
)
const withTotalTimeout = totalTimeout<number, number>({ timeoutMs: 1000 })(bare)
const withLimit = concurrencyLimit<number, number>({ maxConcurrent: 100 })(bare)
const fullStack = Filter.chain<number, number>(
  totalTimeout({ timeoutMs: 2000 }),
  retries({ budget }),
  requeues({ budget: RetryBudget.withdrawOnly(budget) }),
  failureAccrual({ random }),
  attemptTimeout({ timeoutMs: 1000 }),
  concurrencyLimit({ maxConcurrent: 100 }),
  failFast({ random }),
)(bare)

let sink = 0
const cases: { name: string; fn: () => unknown }[] = [
  {
    name: 'budget deposit + tryWithdraw',
    fn: () => {
      budget.deposit()
      sink += budget.tryWithdraw() ? 1 : 0
    },
  },
  {
    name: 'decorrelated jitter: walk 10 delays',
    fn: () => {
      let i = 0
      for (const d of jitter) {
        sink += d
        if (++i === 10) break
      }
    },
  },
  { name: 'bare service call', fn: () => bare(1) },
  { name: 'retries (success, no retry)', fn: () => withRetries(1) },
  { name: 'requeues (success)', fn: () => withRequeues(1) },
  { name: 'failureAccrual (success)', fn: () => withAccrual(1) },
  { name: 'failFast (success)', fn: () => withFailFast(1) },
  { name: 'attemptTimeout (real timer set + cleared)', fn: () => withAttemptTimeout(1) },
  { name: 'totalTimeout (real timer set + cleared)', fn: () => withTotalTimeout(1) },
  { name: 'concurrencyLimit (free slot)', fn: () => withLimit(1) },
  { name: 'all seven filters stacked', fn: () => fullStack(1) },
]

async function main(): Promise<void> {
  const bench = new Bench({ name: 'resilience', time: 1000, warmup: true, retainSamples: false })
  for (const c of cases) bench.add(c.name, c.fn)
  await bench.run()
  console.table(
    bench.tasks.map((task) => {
      const r = task.result
      if (r.state !== 'completed') return { case: task.name, state: r.state }
      return {
        case: task.name,
        'median (µs)': (r.latency.p50 * 1000).toFixed(2),
        'mean (µs)': (r.latency.mean * 1000).toFixed(2),
        'p99 (µs)': (r.latency.p99 * 1000).toFixed(2),
        'median ops/s': Math.round(1000 / r.latency.p50).toLocaleString('en-US'),
      }
    }),
  )
  // Sanity: the stacked client really answers (a bench of a broken stack would flatter us).
  const ok = (await fullStack(41)) === 42 && sink > 0
  console.log(`${ok ? 'PASS' : 'FAIL'} the full stack answers 41 + 1`)
  if (!ok || bench.tasks.some((t) => t.result.state !== 'completed')) process.exitCode = 1
}

await main()
