import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { escapeLabelValue, inMemoryStats, prometheusSeries, prometheusText } from '../../src/stats/index.js'
import { checkMetrics, testRules } from './promtool.js'

/** The sample lines of an exposition as `name{labels} value` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1).replace('+Inf', 'Infinity')))
  }
  return out
}

/** Undoes the text format's label-value escaping. */
const unescapeLabel = (s: string) => s.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c))

describe('prometheusSeries', () => {
  it('maps linkerd scopes to labels: rt, service, client, server, exception, status', () => {
    expect(prometheusSeries(['rt', 'incoming', 'service', 'svc/users', 'requests'])).toMatchObject({
      family: 'rt_service_requests',
      labels: [
        ['rt', 'incoming'],
        ['service', 'svc/users'],
      ],
    })
    expect(prometheusSeries(['rt', 'service', 'svc/users', 'requests']).labels).toEqual([
      ['service', 'svc/users'],
    ])
    expect(prometheusSeries(['rt', 'out', 'server', '0.0.0.0/4140', 'request_latency_ms'])).toMatchObject({
      family: 'rt_server_request_latency_seconds',
      labels: [
        ['rt', 'out'],
        ['server', '0.0.0.0/4140'],
      ],
      unit: 'milliseconds',
    })
    expect(
      prometheusSeries(['rt', 'client', '$/inet/127.1/80', 'failures', 'ConnectionFailed']),
    ).toMatchObject({
      family: 'rt_client_failures_by_exception',
      labels: [
        ['client', '$/inet/127.1/80'],
        ['exception', 'ConnectionFailed'],
      ],
    })
    expect(prometheusSeries(['rt', 'r', 'client', 'c', 'status', '503']).labels).toContainEqual([
      'status_code',
      '503',
    ])
    expect(prometheusSeries(['rt', 'r', 'client', 'c', 'status', '5XX']).family).toBe(
      'rt_client_status_class',
    )
    expect(prometheusSeries(['rt', 'r', 'client', 'c', 'service', 'svc/a', 'requests'])).toMatchObject({
      family: 'rt_client_service_requests',
      labels: [
        ['rt', 'r'],
        ['client', 'c'],
        ['service', 'svc/a'],
      ],
    })
  })

  it('a router labelled like a scope keyword is still the router when a scope follows it', () => {
    expect(prometheusSeries(['rt', 'service', 'client', 'c1', 'requests']).labels).toEqual([
      ['rt', 'service'],
      ['client', 'c1'],
    ])
  })

  it("maps namerd's scopes: namespace, namer, store, api and an interface number", () => {
    expect(prometheusSeries(['namespace', 'default', 'dtab', 'writes']).labels).toEqual([
      ['namespace', 'default'],
    ])
    expect(prometheusSeries(['namer', '#/io.l5d.fs', 'lookups']).family).toBe('namer_lookups')
    expect(prometheusSeries(['api', 'bound-names', 'requests'])).toMatchObject({
      family: 'api_requests',
      labels: [['api', 'bound-names']],
    })
    expect(prometheusSeries(['http', '1', 'requests'])).toMatchObject({
      family: 'http_requests',
      labels: [['http_name', '1']],
    })
  })
})

describe('prometheusText', () => {
  it('names that differ only in - _ . stay three series of one family, and promtool finds no problem', async () => {
    const stats = inMemoryStats()
    for (const name of ['svc/users-v2', 'svc/users_v2', 'svc/users.v2']) {
      const s = stats.scope('rt', 'service', name)
      s.counter('requests').incr(2)
      s.stat('request_latency_ms').add(12)
      s.gauge('pending', () => 1)
      s.counter('failures/ConnectionFailed').incr()
    }
    const text = stats.prometheus()
    const got = samples(text)
    for (const name of ['svc/users-v2', 'svc/users_v2', 'svc/users.v2'])
      expect(got.get(`rt_service_requests_total{service="${name}"}`)).toBe(2)
    expect(text.match(/^# TYPE rt_service_requests_total counter$/gm)).toHaveLength(1)
    expect(await checkMetrics(text)).toEqual({ code: 0, problems: [] })
  })

  it('counters end in _total, _ms stats become histograms in seconds with cumulative buckets', () => {
    const stats = inMemoryStats({ buckets: { seconds: [0.01, 0.1] } })
    const lat = stats.stat('request_latency_ms')
    for (const v of [5, 50, 50, 500]) lat.add(v)
    stats.counter('failure_accrual/removed_for_ms').incr(1500)
    const got = samples(stats.prometheus())
    expect(got.get('request_latency_seconds_bucket{le="0.01"}')).toBe(1)
    expect(got.get('request_latency_seconds_bucket{le="0.1"}')).toBe(3)
    expect(got.get('request_latency_seconds_bucket{le="+Inf"}')).toBe(4)
    expect(got.get('request_latency_seconds_sum')).toBeCloseTo(0.605, 9)
    expect(got.get('request_latency_seconds_count')).toBe(4)
    expect(got.get('failure_accrual_removed_for_seconds_total')).toBe(1.5)
  })

  it('has a HELP and a TYPE line for every family and a prefix when asked', () => {
    const stats = inMemoryStats()
    stats.scope('store', 'io.l5d.k8s').gauge('namespaces', () => 3)
    stats.counter('someCamelCase').incr()
    const text = stats.prometheus({ prefix: 'namerd_' })
    const names = new Set([...samples(text).keys()].map((k) => k.split('{')[0]!))
    for (const n of names) {
      expect(text).toContain(`# HELP ${n} `)
      expect(text).toContain(`# TYPE ${n} `)
    }
    expect(text).toContain('namerd_store_namespaces{store="io.l5d.k8s"} 3')
    expect(text).toContain('namerd_some_camel_case_total 1')
  })

  it('two names that still meet after mapping go to switchboard_unmapped by raw name, never a broken scrape', async () => {
    const stats = inMemoryStats()
    stats.counter('ab/cd_ef').incr(1)
    stats.counter('ab_cd/ef').incr(2)
    stats.gauge('ab_cd_ef_total', () => 7)
    const text = stats.prometheus()
    const got = samples(text)
    // sorted by raw name, the first keeps the family
    expect(got.get('ab_cd_ef_total')).toBe(1)
    expect(got.get('switchboard_unmapped_total{name="ab_cd/ef"}')).toBe(2)
    expect(got.get('switchboard_unmapped_value{name="ab_cd_ef_total"}')).toBe(7)
    expect((await checkMetrics(text)).problems).toEqual([])
  })

  it('escapes any label value so it reads back as the raw name (property), and promtool accepts them', async () => {
    const names = fc.sample(fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }), {
      numRuns: 60,
      seed: 42,
    })
    names.push('quote"back\\slash', 'new\nline', 'svc/users-v2')
    const stats = inMemoryStats()
    for (const n of names) stats.scope('rt', 'service', n).counter('requests').incr()
    const text = prometheusText(stats.snapshot())
    const seen = new Set<string>()
    for (const key of samples(text).keys()) {
      const m = /^rt_service_requests_total\{service="(.*)"\}$/s.exec(key)
      expect(m).not.toBeNull()
      seen.add(unescapeLabel(m![1]!))
    }
    expect(seen).toEqual(new Set(names))
    expect((await checkMetrics(text)).problems).toEqual([])
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = escapeLabelValue(s)
        return !/(^|[^\\])(\\\\)*"/.test(e) && !e.includes('\n') && unescapeLabel(e) === s
      }),
    )
  })

  it("histogram_quantile over two instances' summed buckets gives the combined latency (Prometheus's own engine)", async () => {
    // Instance a serves 100 requests in 7 ms, instance b 100 in 70 ms: together, p75 is in b's bucket.
    const scrape = (ms: number) => {
      const stats = inMemoryStats()
      const lat = stats.scope('rt', 'service', 'svc/users').stat('request_latency_ms')
      for (let i = 0; i < 100; i++) lat.add(ms)
      return samples(stats.prometheus())
    }
    const series: string[] = []
    for (const [instance, got] of [
      ['a', scrape(7)],
      ['b', scrape(70)],
    ] as const) {
      for (const [key, value] of got) {
        if (!key.startsWith('rt_service_request_latency_seconds_bucket')) continue
        const withInstance = key.replace('{', `{instance="${instance}",`)
        series.push(`      - series: '${withInstance}'\n        values: '${value}'`)
      }
    }
    // Linear interpolation in the (0.05, 0.1] bucket: rank 150 of 200, 100 below it, 100 in it → 0.075 s;
    // p25 in a's (0.005, 0.01] bucket → 0.0075 s. (Averaging each instance's p75 would give 0.048.)
    const yaml = `rule_files: []
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
${series.join('\n')}
    promql_expr_test:
      - expr: round(10000 * histogram_quantile(0.75, sum by (le) (rt_service_request_latency_seconds_bucket)))
        eval_time: 0m
        exp_samples:
          - labels: '{}'
            value: 750
      - expr: round(10000 * histogram_quantile(0.25, sum by (le) (rt_service_request_latency_seconds_bucket)))
        eval_time: 0m
        exp_samples:
          - labels: '{}'
            value: 75
`
    const result = await testRules(yaml)
    expect(result.output).toContain('SUCCESS')
    expect(result.code).toBe(0)
  })
})
