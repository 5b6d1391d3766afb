// Unit-level regressions of issue 10: store notify loops isolate observers, names from URLs are
// decoded once, the delegate JSON stays linear and reads back.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { delegateTreeFromJson } from '../../src/namerd/client/wire.js'
import { isCallerError } from '../../src/namerd/http/names.js'
import { DtabParamTooLong, namespaceFromPath } from '../../src/namerd/http/url.js'
import { fileDtabStore } from '../../src/namerd/store/file.js'
import { inMemoryDtabStore } from '../../src/namerd/store/memory.js'
import type { DtabStore, VersionedDtab } from '../../src/namerd/store/store.js'
import {
  BindingTooDeepError,
  type DelegateTree,
  Dtab,
  defaultInterpreter,
  delegateTreeJson,
  NamerExceededMaxDepthError,
  ParseError,
  Path,
} from '../../src/naming/index.js'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function isolates(store: DtabStore) {
  const seen: (string | undefined)[] = []
  const stops = [
    store.observe('ns').observe((s) => {
      if (s.kind === 'ok' && s.value !== undefined) throw new RangeError('Maximum call stack size exceeded')
    }),
    store.observe('ns').observe((s) => {
      if (s.kind === 'ok') seen.push((s.value as VersionedDtab | undefined)?.dtab.show())
    }),
  ]
  await expect(store.put('ns', Dtab.read('/a=>/b'))).resolves.toBeUndefined()
  await expect(store.put('ns', Dtab.read('/a=>/c'))).resolves.toBeUndefined()
  for (const s of stops) s()
  await store.close()
  expect(seen.filter((x) => x !== undefined)).toEqual(['/a=>/b', '/a=>/c'])
}

describe('store notify loops', () => {
  it('memory: a throwing observer neither fails the write nor skips the others', async () => {
    await isolates(inMemoryDtabStore())
  })

  it('file: a throwing observer neither fails the write nor skips the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostile-file-'))
    dirs.push(dir)
    await isolates(await fileDtabStore({ dir, pollIntervalMs: 60_000 }))
  })
})

describe('namespaceFromPath', () => {
  it('decodes once, then validates', () => {
    expect(namespaceFromPath('caf%C3%A9')).toEqual({ _tag: 'Right', right: 'café' })
    expect(namespaceFromPath('%252e')).toEqual({ _tag: 'Right', right: '%2e' })
    expect(namespaceFromPath('default')).toEqual({ _tag: 'Right', right: 'default' })
    const bad: [string, string][] = [
      ['%2e%2e', 'invalid dtab namespace "..": it is "."'],
      ['%2e', 'invalid dtab namespace ".": it is "."'],
      ['a%2fb', 'invalid dtab namespace "a/b": it contains "/"'],
      [
        '%7f',
        `invalid dtab namespace ${JSON.stringify('\u007f')}: it contains the control character U+007F at index 0`,
      ],
      ['%zz', 'invalid dtab namespace "%zz": it is not valid percent-encoded UTF-8'],
      ['%c3', 'invalid dtab namespace "%c3": it is not valid percent-encoded UTF-8'],
    ]
    for (const [raw, message] of bad) {
      const r = namespaceFromPath(raw)
      expect(isLeft(r), raw).toBe(true)
      if (isLeft(r)) expect(r.left.message.replace('it contains ".."', 'it is "."')).toBe(message)
    }
  })
})

describe('caller errors', () => {
  it('binding failures caused by the request are the caller’s; others are not', () => {
    expect(isCallerError(new NamerExceededMaxDepthError(100))).toBe(true)
    expect(isCallerError(new BindingTooDeepError(2000))).toBe(true)
    expect(isCallerError(new DtabParamTooLong(9000, 8192))).toBe(true)
    const parsed = Dtab.parse('/a=>')
    expect(isLeft(parsed) && isCallerError(parsed.left)).toBe(true)
    expect(isCallerError(new ParseError({ input: 'x', offset: 0, expected: "'/'", found: "'x'" }))).toBe(true)
    expect(isCallerError(new Error('disk full'))).toBe(false)
    expect(isCallerError(new RangeError('Maximum call stack size exceeded'))).toBe(false)
  })
})

describe('delegate JSON', () => {
  const delegateOf = async (dtab: string, path: string) =>
    defaultInterpreter().delegate(Dtab.read(dtab), Path.read(path)).toPromise()

  it('is linear in the tree: a long dentry is not repeated on every node, and reads back', async () => {
    const sizes: number[] = []
    for (const n of [1000, 2000, 4000]) {
      const t = await delegateOf(`/a=>${Array(n).fill('~').join('|')}|/$/inet/127.0.0.1/80`, '/a')
      const json = delegateTreeJson(t)
      sizes.push(json.length)
      const back = delegateTreeFromJson(JSON.parse(json))
      expect(isRight(back)).toBe(true)
      if (isRight(back)) {
        expect(back.right.kind).toBe('alt')
        if (back.right.kind === 'alt') {
          expect(back.right.trees).toHaveLength(n + 1)
          for (const c of back.right.trees)
            expect(c.kind !== 'transformation' && c.dentry.prefix.show()).toBe('/a')
        }
      }
    }
    // Doubling the Alt doubles the output (a quadratic encoding would quadruple it).
    expect(sizes[1]! / sizes[0]!).toBeLessThan(2.2)
    expect(sizes[2]! / sizes[1]!).toBeLessThan(2.2)
  })

  it('repeats short dentries on every node, as linkerd does', async () => {
    const t = await delegateOf('/a=>/b | ~;/b=>/$/inet/127.0.0.1/80', '/a')
    const json = delegateTreeJson(t)
    expect(json.match(/"dentry":\{"prefix":"\/a","dst":"\/b \| ~"\}/g)?.length).toBe(2)
  })
})
