// An l5d plugin (load it with `l5d --plugins examples/plugins linkerd.yaml`): the identifier kind
// `io.buoyant.serviceMeshCanary`. A request carrying `X-Service-Mesh-Canary: <service>=enabled` (or
// `=disabled`) for its Host is named `<dstPrefix>/enabled/<host>` (or `/disabled/<host>`), so the dtab
// can send it to the canary (or keep it on stable); any other request is left to the next
// identifier in the router's list. See examples/l5d/canary.yaml.
import * as t from 'io-ts'
import { configKind } from '../../src/config/index.js'
import { headerValue, type Identifier, Unidentified } from '../../src/http/index.js'
import { Path } from '../../src/naming/index.js'
import type { PluginRegistry } from '../../src/router/index.js'

/** The identifier itself: `<prefix>/<enabled|disabled>/<host>` when the header names the Host. */
export function canaryIdentifier(
  options: { header?: string | undefined; prefix?: Path | undefined } = {},
): Identifier {
  const header = options.header ?? 'x-service-mesh-canary'
  const prefix = options.prefix ?? Path.of('svc')
  return (req) => {
    const host = headerValue(req.headers, 'host')
    if (!host) return Unidentified.of('Host header is absent')
    for (const entry of (headerValue(req.headers, header) ?? '').split(',')) {
      const [service, state] = entry.trim().split('=')
      if (service === host && (state === 'enabled' || state === 'disabled'))
        return Path.of(...prefix.segments, state, host)
    }
    return Unidentified.of(`no canary choice for ${host}`)
  }
}

/** Registers the kind: `{ kind: io.buoyant.serviceMeshCanary, header?: <name> }`. */
export function register(registry: PluginRegistry): void {
  registry.identifier(
    configKind(
      'io.buoyant.serviceMeshCanary',
      {},
      { header: t.string },
      (c) => (prefix: Path) => canaryIdentifier({ header: c.header?.toLowerCase(), prefix }),
    ),
  )
}
