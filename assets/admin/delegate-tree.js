// Rendering shared by namerd's and l5d's pages: DOM helpers and the delegation tree (the JSON of
// namerd's /api/1/delegate and l5d's /delegator.json). Server values go in as text only.

/** A new element with a class and text content. */
export function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

/** An addr as a line of text: the addresses, or the state. */
export function addrText(addr) {
  if (!addr) return ''
  if (addr.type === 'bound') {
    const list = addr.addrs.map((a) => `${a.ip}:${a.port}`)
    return list.length === 0 ? '(no addresses)' : list.join(', ')
  }
  return addr.type === 'failed' ? `failed: ${addr.cause ?? ''}` : addr.type
}

/** One delegation tree node as a list item, its children nested (union branches with their weight). */
export function treeNode(node, weight) {
  const li = el('li', `node node-${node.type}`)
  if (weight !== undefined) li.append(el('span', 'node-weight', `${weight}×`))
  li.append(el('span', 'node-type', node.type), el('code', 'node-path', node.path ?? ''))
  if (node.dentry) li.append(el('code', 'node-dentry', `${node.dentry.prefix} => ${node.dentry.dst}`))
  if (node.type === 'leaf' && node.bound) {
    li.append(
      el('code', 'node-id', ` ${node.bound.id ?? ''}`),
      el('span', 'node-addrs', addrText(node.bound.addr)),
    )
  }
  if (node.type === 'transformation') li.append(el('span', 'node-dentry', node.name ?? ''))
  if (node.message) li.append(el('span', 'node-bad', node.message))
  const children = el('ul')
  if (node.delegate) children.append(treeNode(node.delegate))
  if (node.tree) children.append(treeNode(node.tree))
  for (const alt of node.alt ?? []) children.append(treeNode(alt))
  for (const w of node.union ?? []) children.append(treeNode(w.tree, w.weight))
  if (children.childElementCount > 0) li.append(children)
  return li
}
