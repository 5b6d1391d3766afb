// Loads every subpath export of the built package with plain Node (no vitest resolver), so an ESM
// import that only works under a bundler (fp-ts/io-ts directory imports, missing .js suffixes)
// fails here. Run after `npm run build`.
import { readFile } from 'node:fs/promises'

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
let loaded = 0
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === './package.json') continue
  const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`
  const mod = await import(specifier)
  const names = Object.keys(mod)
  if (names.length === 0) throw new Error(`${specifier} (${target.default}) exports nothing`)
  loaded++
}
// The mesh interface's wire contract is a file beside the built module, copied by `npm run build`.
const { meshProtoPath } = await import(`${pkg.name}/namerd`)
const proto = meshProtoPath()
if (!proto.includes('/dist/')) throw new Error(`mesh.proto was not built into dist: found ${proto}`)
if (!(await readFile(proto, 'utf8')).includes('package io.linkerd.mesh;'))
  throw new Error(`${proto} is not the io.linkerd.mesh definition`)
console.log(`dist smoke: ${loaded} subpaths loaded with plain node; mesh.proto at ${proto}`)
