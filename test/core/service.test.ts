import { describe, expect, it } from 'vitest'
import { Filter, Service, ServiceClosedError } from '../../src/core/index.js'

describe('Service', () => {
  it('is callable, open until closed, and rejects after close', async () => {
    let closes = 0
    const svc = Service.of(async (n: number) => n * 2, {
      close: () => {
        closes++
      },
    })
    expect(await svc(2)).toBe(4)
    expect(svc.status).toBe('open')
    await Promise.all([svc.close(), svc.close()])
    expect(closes).toBe(1)
    expect(svc.status).toBe('closed')
    await expect(svc(1)).rejects.toBeInstanceOf(ServiceClosedError)
  })

  it('turns a synchronous throw into a rejection', async () => {
    const svc = Service.of<number, number>(() => {
      throw new Error('sync')
    })
    await expect(svc(1)).rejects.toThrow('sync')
  })
})

describe('Filter', () => {
  const tag =
    (name: string, log: string[]): Filter<string, string> =>
    (next) =>
      Service.of(async (req, signal) => {
        log.push(`${name}>`)
        const rep = await next(`${req}${name}`, signal)
        log.push(`<${name}`)
        return rep
      })

  it('chain puts the first filter outermost', async () => {
    const log: string[] = []
    const svc = Filter.chain(tag('a', log), tag('b', log), tag('c', log))(Service.of(async (r: string) => r))
    expect(await svc('')).toBe('abc')
    expect(log).toEqual(['a>', 'b>', 'c>', '<c', '<b', '<a'])
  })

  it('Filter.of passes status and close through', async () => {
    let busy = true
    let closed = false
    const inner = Service.of(async (r: string) => r, {
      status: () => (busy ? 'busy' : 'open'),
      close: () => {
        closed = true
      },
    })
    const svc = Filter.of<string, string>((req, signal, next) => next(req.toUpperCase(), signal))(inner)
    expect(await svc('x')).toBe('X')
    expect(svc.status).toBe('busy')
    busy = false
    expect(svc.status).toBe('open')
    await svc.close()
    expect(closed).toBe(true)
  })
})
