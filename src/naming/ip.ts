/**
 * The eight 16-bit groups of an IPv6 address in text (`::` expanded, a trailing dotted IPv4 part
 * folded into the last two groups, a `%scope` ignored). The text must already be a valid IPv6
 * address (`net.isIP(text) === 6`).
 *
 * @example
 * ```ts
 * ipv6Groups('::ffff:10.0.0.1') // [0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]
 * ```
 */
export function ipv6Groups(text: string): number[] {
  let address = text.split('%')[0] ?? ''
  let v4: number[] | undefined
  const lastColon = address.lastIndexOf(':')
  if (address.slice(lastColon + 1).includes('.')) {
    v4 = address
      .slice(lastColon + 1)
      .split('.')
      .map(Number)
    address = `${address.slice(0, lastColon + 1)}0:0`
  }
  const [head = '', tail] = address.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0')
  const groups = [...h, ...fill, ...t].map((g) => Number.parseInt(g, 16))
  if (v4 !== undefined) {
    groups[6] = (v4[0]! << 8) | v4[1]!
    groups[7] = (v4[2]! << 8) | v4[3]!
  }
  return groups
}
