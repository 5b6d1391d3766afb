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
