import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Activity } from '../../src/core/activity.js'
import { manualClock } from '../../src/core/clock.js'
import { seededRandom } from '../../src/core/random.js'
import { Service } from '../../src/core/service.js'
import { ResponseBody } from '../../src/http/body.js'
import { nonRetryable5xx, retryableRead5xx } from '../../src/http/classifiers.js'
import { createClient } from '../../src/http/client.js'
import type { HttpResponse } from '../../src/http/endpoint.js'
import { toHttpRequest, UnsupportedRequestError, withQuery } from '../../src/http/interceptor.js'
import { paramsResolver, type ServiceParams } from '../../src/http/params.js'
import type { HttpRequest } from '../../src/http/request.js'
import { BindingTimeoutError, pickName } from '../../src/http/router.js'
import { Addr } from '../../src/naming/addr.js'
import { Address } from '../../src/naming/address.js'
import type { NameInterpreter } from '../../src/naming/interpreter.js'
import { Name, type NameBound } from '../../src/naming/name.js'
import { NameTree } from '../../src/naming/nametree.js'
import { Path } from '../../src/naming/path.js'

const bound = (id: string) => Name.bound(Path.read(id), Addr.bound([Address.read('127.0.0.1:1')]))

describe('pickName', () => {
  it('takes a leaf, the first usable alternative, nothing for Neg and Fail', () => {
    const r = seededRandom(1)
    const a = bound('/a')
    expect(pickName(NameTree.leaf(a), r)).toBe(a)
    expect(pickName(NameTree.alt(NameTree.Neg, NameTree.leaf(a)), r)).toBe(a)
    expect(pickName(NameTree.Neg, r)).toBeUndefined()
    expect(pickName(NameTree.Fail, r)).toBeUndefined()
    expect(pickName(NameTree.Empty, r)).toBeUndefined()
  })
  it('picks union branches in proportion to their weights (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer(),
        (wa, wb, seed) => {
          const a = bound('/a')
          const b = bound('/b')
          const tree = NameTree.union(
            NameTree.weighted(wa, NameTree.leaf(a)),
            NameTree.weighted(wb, NameTree.leaf(b)),
          )
          const r = seededRandom(seed)
          let as = 0
          const n = 4000
          for (let i = 0; i < n; i++) if (pickName(tree, r) === a) as++
          expect(Math.abs(as / n - wa / (wa + wb))).toBeLessThan(0.05)
        },
      ),
      { numRuns: 20 },
    )
  })
})

describe('paramsResolver', () => {
  const resolve = paramsResolver<ServiceParams>(
    { totalTimeoutMs: 1000 },
    {
      configs: [
        { prefix: '/', responseClassifier: retryableRead5xx },
        { prefix: '/svc/*/v2', totalTimeoutMs: 50 },
        { prefix: '/svc/users', responseClassifier: nonRetryable5xx, totalTimeoutMs: undefined },
      ],
    },
  )
  it('applies every matching config in order, field by field', () => {
    expect(resolve(Path.read('/svc/web'))).toEqual({
      totalTimeoutMs: 1000,
      responseClassifier: retryableRead5xx,
    })
    expect(resolve(Path.read('/svc/web/v2'))).toEqual({
      totalTimeoutMs: 50,
      responseClassifier: retryableRead5xx,
    })
    // a later config that omits a field keeps the earlier one's value
    expect(resolve(Path.read('/svc/users/v2'))).toEqual({
      totalTimeoutMs: 50,
      responseClassifier: nonRetryable5xx,
    })
  })
  it('a plain object applies to every name over the defaults', () => {
    const one = paramsResolver<ServiceParams>({ totalTimeoutMs: 1 }, { responseClassifier: retryableRead5xx })
    expect(one(Path.read('/any'))).toEqual({ totalTimeoutMs: 1, responseClassifier: retryableRead5xx })
  })
})

describe('toHttpRequest', () => {
  const opts = (over: Record<string, unknown>) =>
    ({ origin: 'http://users:8080', path: '/a', method: 'GET', headers: {}, ...over }) as never
  it('takes the Host from the origin unless one is given, and appends query', () => {
    expect(toHttpRequest(opts({})).headers['host']).toBe('users:8080')
    expect(toHttpRequest(opts({ headers: ['Host', 'other'] })).headers['host']).toBe('other')
    expect(toHttpRequest(opts({ query: { a: 1, b: ['x', 'y'] } })).path).toBe('/a?a=1&b=x&b=y')
    expect(withQuery('/a?z=0', { a: 'b c' })).toBe('/a?z=0&a=b+c')
  })
  it('refuses https origins, CONNECT and upgrades', () => {
    expect(() => toHttpRequest(opts({ origin: 'https://users' }))).toThrow(UnsupportedRequestError)
    expect(() => toHttpRequest(opts({ method: 'CONNECT' }))).toThrow(UnsupportedRequestError)
    expect(() => toHttpRequest(opts({ upgrade: 'websocket' }))).toThrow(UnsupportedRequestError)
  })
})

/** An endpoint that answers every request at once, recording the request. */
function fakeEndpoint(seen: HttpRequest[], status = 200) {
  return () =>
    Service.of(async (req: HttpRequest): Promise<HttpResponse> => {
      seen.push(req)
      return { statusCode: status, statusMessage: '', headers: {}, body: ResponseBody.of('ok') }
    })
}

describe('binding', () => {
  it('waits for a pending binding, then fails with BindingTimeoutError', async () => {
    const clock = manualClock()
    const pending: NameInterpreter = { bind: () => Activity.pending() }
    const c = createClient({
      interpreter: pending,
      scheduler: clock,
      bindingTimeoutMs: 500,
      endpoint: fakeEndpoint([]),
    })
    const p = c.request('http://users/').catch((e: unknown) => e)
    await Promise.resolve()
    clock.advance(499)
    await Promise.resolve()
    clock.advance(1)
    const e = await p
    expect(e).toBeInstanceOf(BindingTimeoutError)
    expect((e as Error).message).toBe('Exceeded 500 ms binding timeout while resolving name: /svc/users')
    await c.close()
  })

  it('a request waiting for its binding goes out as soon as it binds', async () => {
    const [tree, witness] = Activity.mutable<NameTree<NameBound>>()
    const seen: HttpRequest[] = []
    const c = createClient({ interpreter: { bind: () => tree }, endpoint: fakeEndpoint(seen) })
    const p = c.request('http://users/')
    await new Promise((r) => setTimeout(r, 5))
    expect(seen.length).toBe(0)
    witness.ok(NameTree.leaf(bound('/#/x/users')))
    expect((await p).statusCode).toBe(200)
    expect(seen[0]?.headers['l5d-dst-client']).toBe('/#/x/users')
    await c.close()
  })

  it('a failed binding fails the request with its error', async () => {
    const c = createClient({
      interpreter: { bind: () => Activity.exception(new Error('namer down')) },
      endpoint: fakeEndpoint([]),
    })
    await expect(c.request('http://users/')).rejects.toThrow('namer down')
    await c.close()
  })

  it('closes path stacks and bound clients left idle for idleTtlMs', async () => {
    const clock = manualClock()
    let closed = 0
    const c = createClient({
      interpreter: { bind: (_d, p) => Activity.value(NameTree.leaf(bound(`/#/x${p.show()}`))) },
      scheduler: clock,
      idleTtlMs: 60_000,
      endpoint: () => {
        const svc = fakeEndpoint([])()
        return Service.of(svc, {
          close: () => {
            closed++
          },
        })
      },
    })
    await (await c.request('http://users/')).body.dump()
    expect(closed).toBe(0)
    clock.advance(59_000)
    expect(closed).toBe(0)
    clock.advance(61_000)
    await new Promise((r) => setTimeout(r, 5))
    expect(closed).toBe(1)
    // and it is made again on the next request
    expect((await c.request('http://users/')).statusCode).toBe(200)
    await c.close()
  })
})
