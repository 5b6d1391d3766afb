import { isLeft, isRight } from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { Var } from '../../../src/core/var.js'
import { addrFromJson, boundTreeFromJson, delegateTreeFromJson } from '../../../src/namerd/client/wire.js'
import { Addr } from '../../../src/naming/addr.js'
import { Address } from '../../../src/naming/address.js'
import { delegate } from '../../../src/naming/delegate.js'
import { DelegateTree } from '../../../src/naming/delegate-tree.js'
import { Dtab } from '../../../src/naming/dtab.js'
import { defaultInterpreter } from '../../../src/naming/interpreter.js'
import { addrJson, boundTreeJson, delegateTreeJson } from '../../../src/naming/json.js'
import { NameBound } from '../../../src/naming/name.js'
import { NameTree } from '../../../src/naming/nametree.js'
import { Path } from '../../../src/naming/path.js'

describe('namerd wire JSON decoding', () => {
  it('reads back every addr the encoder writes', () => {
    for (const a of [
      Addr.Neg,
      Addr.Pending,
      Addr.failed('nope'),
      Addr.bound([]),
      Addr.bound(
        [Address.inet('127.0.0.1', 80), Address.inet('10.0.0.1', 81, { endpoint_addr_weight: 0.5 })],
        { authority: 'x' },
      ),
    ]) {
      const r = addrFromJson(JSON.parse(addrJson(a)))
      if (isLeft(r)) throw new Error(r.left)
      expect(addrJson(r.right)).toBe(addrJson(a))
    }
  })

  it('reads back bound trees (the encoder output is a fixed point)', async () => {
    const interpreter = defaultInterpreter()
    const dtab = Dtab.read(
      '/a=>/$/inet/127.0.0.1/80/rest | /$/fail;/u=>1 * /$/inet/127.0.0.1/1 & 3 * /$/inet/127.0.0.1/2;/n=>$',
    )
    for (const p of ['/a', '/u', '/n', '/nothing']) {
      const tree = await interpreter.bind(dtab, Path.read(p)).toPromise()
      const json = boundTreeJson(tree, () => Addr.bound([Address.inet('127.0.0.1', 9)]))
      const back = boundTreeFromJson(JSON.parse(json))
      if (isLeft(back)) throw new Error(back.left)
      const again = NameTree.map(back.right, (w) => new NameBound(Var.constant(w.addr), w.id, w.residual))
      expect(boundTreeJson(again)).toBe(json)
    }
  })

  it('reads back delegate trees, rendering the same for humans', async () => {
    const dtab = Dtab.read('/svc=>/$/inet/127.0.0.1/80;/x=>~;/f=>!;/u=>1 * /svc & 2 * /x')
    for (const p of ['/svc', '/x', '/u', '/none']) {
      const tree = await delegate(dtab, Path.read(p)).toPromise()
      const json = delegateTreeJson(tree, () => Addr.Neg)
      const back = delegateTreeFromJson(JSON.parse(json))
      if (isLeft(back)) throw new Error(back.left)
      expect(DelegateTree.render(back.right, (b) => b.show())).toBe(DelegateTree.render(tree, (b) => b.idStr))
    }
  })

  it('a fail node has no path on the wire ("!"), so it reads back with the empty path', async () => {
    const tree = await delegate(Dtab.read('/f=>!'), Path.read('/f')).toPromise()
    const back = delegateTreeFromJson(JSON.parse(delegateTreeJson(tree)))
    if (isLeft(back)) throw new Error(back.left)
    expect(back.right.kind === 'delegate' && back.right.tree.kind).toBe('fail')
    expect(back.right.kind === 'delegate' && back.right.tree.path.isEmpty).toBe(true)
  })

  it('names what is wrong in malformed JSON', () => {
    expect(addrFromJson({ type: 'bogus' })).toEqual({
      _tag: 'Left',
      left: 'addr.type: expected bound, neg, pending or failed, found "bogus"',
    })
    expect(isRight(boundTreeFromJson({ type: 'leaf', bound: { addr: { type: 'neg' }, id: 'nope' } }))).toBe(
      false,
    )
    expect(isRight(delegateTreeFromJson([]))).toBe(false)
  })
})
