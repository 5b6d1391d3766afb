// The io.l5d.ingress identifier: every vector of linkerd's IngressCacheTest and
// IngressIdentifierTest as a case (their fixture lists served by the fake API server), plus live
// updates, networking.k8s.io/v1 shapes and namespaces.
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  type IngressIdentifier,
  type IngressPath,
  type IngressSpec,
  ingressIdentifier,
  ingressPathMatches,
  matchIngress,
} from '../../src/http/ingress.js'
import type { HttpRequest } from '../../src/http/request.js'
import { Path } from '../../src/naming/path.js'
import { type FakeK8s, type K8sObj, startFakeK8s } from '../integration/fake-k8s.js'

const fixture = (name: string) =>
  (
    JSON.parse(readFileSync(new URL(`../integration/fixtures/k8s/${name}`, import.meta.url), 'utf8')) as {
      items: K8sObj[]
    }
  ).items

const req = (host: string | undefined, path: string): HttpRequest => ({
  method: 'GET',
  path,
  version: '1.1',
  headers: host === undefined ? {} : { host },
  body: null,
})

const shown = (x: ReturnType<IngressIdentifier>) =>
  x instanceof Path ? x.show() : x.kind === 'identified' ? x.dst.show() : `unidentified: ${x.reason}`

let k8s: FakeK8s
const ids: IngressIdentifier[] = []
beforeEach(async () => {
  k8s = await startFakeK8s()
})
afterEach(async () => {
  for (const i of ids.splice(0)) await i.close()
  await k8s.close()
})

async function identifierWith(items: K8sObj[], options: Parameters<typeof ingressIdentifier>[0] = {}) {
  for (const o of items) k8s.put('apis/extensions/v1beta1', 'ingresses', o)
  const id = ingressIdentifier({
    host: k8s.host,
    port: k8s.port,
    apiVersion: 'extensions/v1beta1',
    ...options,
  })
  ids.push(id)
  await id.ready()
  return id
}

describe('io.l5d.ingress (linkerd IngressIdentifierTest)', () => {
  it('identifies requests by host, without path', async () => {
    const id = await identifierWith(fixture('ingresses-identifier.json'))
    expect(shown(id(req('foo.bar.com', '/penguins')))).toBe('/svc/fooNamespace/fooHostPort/fooHostService')
  })
  it('identifies requests by host & path', async () => {
    const id = await identifierWith(fixture('ingresses-identifier.json'))
    expect(shown(id(req('foo.bar.com', '/fooPath/penguins')))).toBe(
      '/svc/fooNamespace/fooPathPort/fooPathService',
    )
  })
  it('falls back to the default backend', async () => {
    const id = await identifierWith(fixture('ingresses-identifier.json'))
    expect(shown(id(req('authority', '/fooPath/penguins')))).toBe(
      '/svc/fooNamespace/defaultPort/defaultService',
    )
  })
  it('ignores default backends when told to: no match is unidentified', async () => {
    const id = await identifierWith(fixture('ingresses-identifier.json'), { ignoreDefaultBackends: true })
    expect(shown(id(req('authority', '/fooPath/penguins')))).toBe('unidentified: no ingress rule matches')
  })
})

describe('io.l5d.ingress (linkerd IngressCacheTest)', () => {
  const host = 'myhost'
  const svcOf = (id: IngressIdentifier, h: string | undefined, p: string) => {
    const r = id(req(h, p))
    return r instanceof Path ? r.segments[3] : undefined
  }

  it('when multiple ingress resources, only adds one with desired annotation class', async () => {
    const id = await identifierWith(fixture('ingresses-many-classes.json'))
    expect(svcOf(id, host, '/istio-only')).toBeUndefined()
    expect(svcOf(id, host, '/nginx-only')).toBeUndefined()
    expect(svcOf(id, host, '/non-existing-path')).toBeUndefined()
    expect(svcOf(id, host, '/linkerd-only')).toBe('echo')
    expect(shown(id(req(host, '/linkerd-only')))).toBe('/svc/default/7070/echo')
  })

  it('when multiple ingress resources with desired annotation class, matches based on path of either', async () => {
    const id = await identifierWith(fixture('ingresses-two-linkerd.json'))
    expect(svcOf(id, host, '/linkerd-1')).toBe('echo1')
    expect(svcOf(id, host, '/linkerd-2')).toBe('echo2')
    expect(['shared1', 'shared2']).toContain(svcOf(id, host, '/shared'))
  })

  it('when only one ingress configured, adds it irrespective of annotations', async () => {
    const id = await identifierWith(fixture('ingresses-one-unannotated.json'))
    expect(svcOf(id, host, '/some-path')).toBe('echo')
    expect(svcOf(id, host, '/non-existing-path')).toBeUndefined()
  })

  it("ignores port in a request's hostname", async () => {
    const id = await identifierWith(fixture('ingresses-one-unannotated.json'))
    expect(svcOf(id, 'myhost:80', '/some-path')).toBe('echo')
  })

  const p = (h: string | undefined, path: string | undefined, svc: string): IngressPath => ({
    host: h,
    path,
    namespace: 'ns',
    svc,
    port: '80',
  })
  const spec = (name: string, rules: IngressPath[], fallback?: IngressPath): IngressSpec => ({
    name,
    namespace: 'ns',
    rules,
    fallback,
  })

  it('on multiple path matches, return first match', () => {
    const s = spec('my-ingress', [p(host, '/path', 'primary-svc'), p(host, '/path', 'secondary-svc')])
    expect(matchIngress([s], host, '/path')?.svc).toBe('primary-svc')
  })
  it('on multiple host matches, return first match', () => {
    const r1 = spec('polar-bear1', [p(host, undefined, 'svc1')])
    const r2 = spec('polar-bear2', [p(host, undefined, 'svc2')])
    expect(matchIngress([r1, r2], host, '/path')?.svc).toBe('svc1')
  })
  it("don't return default backend before checking all resources for matches", () => {
    const r1 = spec('polar-bear1', [p('other host', undefined, 'svc1')], p(undefined, undefined, 'fallback'))
    const r2 = spec('polar-bear2', [p(host, undefined, 'svc2')])
    expect(matchIngress([r1, r2], host, '/path')?.svc).toBe('svc2')
  })
  it('on no host/path matches, return first default backend', () => {
    const r1 = spec('polar-bear1', [p(host, undefined, 'svc1')])
    const r2 = spec('polar-bear2', [p(host, undefined, 'svc2')], p(undefined, undefined, 'fallback'))
    expect(matchIngress([r1, r2], 'unknown host', '/path')?.svc).toBe('fallback')
  })
  it('no matches', () => {
    const r1 = spec('polar-bear1', [p(host, undefined, 'svc1')])
    const r2 = spec('polar-bear2', [p(host, undefined, 'svc2')])
    expect(matchIngress([r1, r2], 'unknown host', '/path')).toBeUndefined()
  })
  it('match on path regex', () => {
    expect(ingressPathMatches(p(host, '/prefix/.*', 'svc1'), host, '/prefix/and-other-stuff')).toBe(true)
  })
  it('match / with reqs that have empty paths only', () => {
    expect(ingressPathMatches(p(host, '/', 'svc1'), host, '/')).toBe(true)
    expect(ingressPathMatches(p(host, '/', 'svc1'), host, '/foo')).toBe(false)
  })
  it('match empty string with all reqs', () => {
    expect(ingressPathMatches(p(host, '', 'svc1'), host, '/')).toBe(true)
    expect(ingressPathMatches(p(host, '', 'svc1'), host, '/foo')).toBe(true)
  })
  it('match omitted path with all reqs', () => {
    expect(ingressPathMatches(p(host, undefined, 'svc1'), host, '/')).toBe(true)
    expect(ingressPathMatches(p(host, undefined, 'svc1'), host, '/foo')).toBe(true)
  })
})

describe('io.l5d.ingress, live and networking.k8s.io/v1', () => {
  const v1 = (name: string, ns: string, rules: object[], extra: object = {}): K8sObj => ({
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    metadata: { name, namespace: ns },
    spec: { rules, ...extra },
  })
  const rule = (host: string | undefined, path: string, pathType: string, svc: string, port: object) => ({
    ...(host ? { host } : {}),
    http: { paths: [{ path, pathType, backend: { service: { name: svc, port } } }] },
  })

  it('reads v1 Ingresses (Prefix and Exact paths, port numbers and names, ingressClassName) and follows changes', async () => {
    k8s.put(
      'apis/networking.k8s.io/v1',
      'ingresses',
      v1('a', 'default', [rule('web.example', '/api', 'Prefix', 'api', { number: 8080 })]),
    )
    k8s.put(
      'apis/networking.k8s.io/v1',
      'ingresses',
      v1('b', 'shop', [rule(undefined, '/exact', 'Exact', 'cart', { name: 'http' })]),
    )
    k8s.put(
      'apis/networking.k8s.io/v1',
      'ingresses',
      v1('c', 'default', [rule(undefined, '/other', 'Prefix', 'nginx-only', { number: 80 })], {
        ingressClassName: 'nginx',
      }),
    )
    const id = ingressIdentifier({ host: k8s.host, port: k8s.port, prefix: '/ingress' })
    ids.push(id)
    expect(shown(id(req('web.example', '/api')))).toBe('unidentified: ingress rules are not loaded yet')
    await id.ready()
    expect(shown(id(req('web.example', '/api/v1/users?x=1')))).toBe('/ingress/default/8080/api')
    expect(shown(id(req('web.example', '/apix')))).toBe('unidentified: no ingress rule matches')
    expect(shown(id(req('any', '/exact')))).toBe('/ingress/shop/http/cart')
    expect(shown(id(req('any', '/exact/more')))).toBe('unidentified: no ingress rule matches')
    expect(shown(id(req('any', '/other')))).toBe('unidentified: no ingress rule matches')
    k8s.put(
      'apis/networking.k8s.io/v1',
      'ingresses',
      v1('d', 'default', [rule(undefined, '/new', 'Prefix', 'fresh', { number: 1 })]),
    )
    await vi.waitFor(() => expect(shown(id(req('any', '/new')))).toBe('/ingress/default/1/fresh'), {
      timeout: 10_000,
    })
    k8s.remove('apis/networking.k8s.io/v1', 'ingresses', 'default', 'a')
    await vi.waitFor(
      () => expect(shown(id(req('web.example', '/api')))).toBe('unidentified: no ingress rule matches'),
      {
        timeout: 10_000,
      },
    )
  })

  it('watches only its namespace when given one', async () => {
    k8s.put(
      'apis/networking.k8s.io/v1',
      'ingresses',
      v1('a', 'default', [rule(undefined, '/a', 'Prefix', 'a', { number: 1 })]),
    )
    k8s.put(
      'apis/networking.k8s.io/v1',
      'ingresses',
      v1('b', 'other', [rule(undefined, '/b', 'Prefix', 'b', { number: 1 })]),
    )
    const id = ingressIdentifier({ host: k8s.host, port: k8s.port, namespace: 'other' })
    ids.push(id)
    await id.ready()
    expect(shown(id(req('h', '/a')))).toBe('unidentified: no ingress rule matches')
    expect(shown(id(req('h', '/b')))).toBe('/svc/other/1/b')
    expect(
      k8s.requests.some((r) => r.startsWith('GET /apis/networking.k8s.io/v1/namespaces/other/ingresses')),
    ).toBe(true)
  })

  it('a path that is not a regular expression matches nothing instead of failing', () => {
    expect(ingressPathMatches({ path: '/(', namespace: 'n', svc: 's', port: '1' }, 'h', '/(')).toBe(false)
  })
})
