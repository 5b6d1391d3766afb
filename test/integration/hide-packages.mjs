// A module-resolution hook that makes the packages named in SWITCHBOARD_HIDE (comma-separated)
// unresolvable, as if they were not installed: Node's own ERR_MODULE_NOT_FOUND, same message shape.
// Used with `node --import ./hide-packages.mjs` by optional-peers.test.ts.
import { register } from 'node:module'

register(
  `data:text/javascript,${encodeURIComponent(`
const hidden = new Set((process.env.SWITCHBOARD_HIDE ?? '').split(',').filter(Boolean))
export async function resolve(specifier, context, next) {
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]
  if (hidden.has(name)) {
    const error = new Error("Cannot find package '" + name + "' imported from " + context.parentURL)
    error.code = 'ERR_MODULE_NOT_FOUND'
    throw error
  }
  return next(specifier, context)
}`)}`,
)
