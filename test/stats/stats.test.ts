import fc from 'fast-check'
import * as hdr from 'hdr-histogram-js'
import { describe, expect, it } from 'vitest'
import { inMemoryStats, nullStats, promName } from '../../src/stats/index.js'

describe('inMemoryStats', () => {
  it('scopes names with / and counts', () => {
    const stats = inMemoryStats()
    const lb = stats.scope('svc', '', 'loadbalancer')
    lb.counter('rebuilds').incr()
    lb.counter('rebuilds').incr(2)
    expect(stats.counterValue('svc/loadbalancer/rebuilds')).toBe(3)
    expect(stats.counterValue('nope')).toBe(0)
  })

  it('reads gauges at export time and forgets disposed ones', () => {
    const stats = inMemoryStats()
    let size = 3
    const stop = stats.gauge('size', () => size)
    size = 4
    expect(stats.json()['size']).toBe(4)
    stop()
    expect(stats.gaugeValue('size')).toBeUndefined()
  })

  it('summarises stats with percentiles in JSON and Prometheus', () => {
    const stats = inMemoryStats()
    const lat = stats.scope('http').stat('request_latency_ms')
    for (let i = 1; i <= 100; i++) lat.add(i)
    const s = stats.statSummary('http/request_latency_ms')!
    expect(s.count).toBe(100)
    expect(s.p50).toBe(50)
    expect(s.p99).toBe(99)
    expect(s.max).toBe(100)
    expect(stats.json()['http/request_latency_ms.p99']).toBe(99)
    const text = stats.prometheus()
    expect(text).toContain('# TYPE http_request_latency_seconds histogram')
    expect(text).toContain('http_request_latency_seconds_bucket{le="0.05"} 50')
    expect(text).toContain('http_request_latency_seconds_bucket{le="+Inf"} 100')
    expect(text).toContain('http_request_latency_seconds_sum 5.05')
    expect(text).toContain('http_request_latency_seconds_count 100')
  })

  it('the min of a stat counts zeros (a histogram of retries per request is mostly 0)', () => {
    const stats = inMemoryStats()
    const perRequest = stats.stat('retries/requeues_per_request')
    perRequest.add(0)
    expect(stats.statSummary('retries/requeues_per_request')!.min).toBe(0)
    perRequest.add(3)
    expect(stats.json()['retries/requeues_per_request.min']).toBe(0)
    const lat = stats.stat('lat')
    lat.add(7)
    lat.add(5)
    expect(stats.statSummary('lat')!.min).toBe(5)
  })

  it('makes valid Prometheus names', () => {
    expect(promName('rt/http/client/$/inet/127.0.0.1/80/requests')).toBe(
      'rt:http:client:_:inet:127_0_0_1:80:requests',
    )
    expect(promName('9lives')).toBe('_9lives')
  })

  it('nullStats accepts everything', () => {
    nullStats.scope('a').counter('b').incr()
    nullStats.stat('c').add(1)
    expect(typeof nullStats.gauge('d', () => 1)).toBe('function')
  })
})

describe('inMemoryStats: lazy histograms and removable scopes', () => {
  it('a stat summarises exactly as an HDR histogram would, before and after it allocates one (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 80 }),
        (values) => {
          const stats = inMemoryStats()
          const s = stats.stat('lat')
          const h = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 })
          for (const v of values) {
            s.add(v)
            h.recordValue(v)
          }
          const got = stats.statSummary('lat')!
          expect(got.count).toBe(values.length)
          expect(got.sum).toBe(values.reduce((a, b) => a + b, 0))
          expect(got.max).toBe(h.maxValue)
          expect(got.p50).toBe(h.getValueAtPercentile(50))
          expect(got.p99).toBe(h.getValueAtPercentile(99))
          expect(got.min).toBe(h.getValueAtPercentile(0))
        },
      ),
      { numRuns: 50 },
    )
  })

  it('a stat never used is not exported', () => {
    const stats = inMemoryStats()
    stats.stat('unused')
    expect(stats.statSummary('unused')).toBeUndefined()
    expect(stats.prometheus()).toBe('')
  })

  it('remove() deletes every metric made through a removable scope and its sub-scopes, and nothing else', () => {
    const stats = inMemoryStats()
    stats.counter('service/a/requests').incr()
    stats.counter('service/ab/requests').incr()
    const b = stats.removableScope!('service', 'a')
    b.counter('requests').incr(2)
    b.scope('retries').counter('requeues').incr()
    b.stat('latency').add(5)
    b.gauge('pending', () => 1)
    expect(stats.counterValue('service/a/requests')).toBe(3)
    expect(stats.gaugeValue('service/a/pending')).toBe(1)
    b.remove()
    expect(stats.json()).toEqual({ 'service/ab/requests': 1 })
    // a stat used after remove() records nothing
    b.stat('late').add(1)
    expect(stats.statSummary('service/a/late')).toBeUndefined()
  })
})
