import { Service } from '../core/service.js'
import type { Address } from '../naming/address.js'
import { writeTraceHeaders } from '../telemetry/trace-context.js'
import { messageOf } from '../telemetry/tracing.js'
import type { HttpEndpointOptions, HttpResponse } from './endpoint.js'
import type { HttpRequest } from './request.js'
import type { RoutedRequest } from './router.js'

type EndpointFactory = (address: Address, options: HttpEndpointOptions) => Service<HttpRequest, HttpResponse>

/**
 * Wraps an endpoint factory so that each attempt of a traced request (one carrying a `trace`) runs
 * in a `client` span and sends `traceparent` and `l5d-ctx-trace` naming that span. Untraced
 * requests pass straight through.
 *
 * @example
 * ```ts
 * const endpoint = tracedEndpoint(httpEndpoint)
 * ```
 */
export function tracedEndpoint(make: EndpointFactory): EndpointFactory {
  return (address, options) => {
    const svc = make(address, options)
    return Service.of<HttpRequest, HttpResponse>(
      (req, signal) => {
        const trace = (req as Partial<RoutedRequest>).trace
        if (trace === undefined) return svc(req, signal)
        const span = trace.attempt(address.host, address.port)
        if (span.context) writeTraceHeaders(req.headers as Record<string, unknown>, span.context)
        return svc(req, signal).then(
          (rep) => {
            span.setAttribute('http.response.status_code', rep.statusCode)
            if (rep.statusCode >= 500) span.fail(`HTTP ${rep.statusCode}`)
            span.end()
            return rep
          },
          (error: unknown) => {
            span.fail(messageOf(error))
            span.end()
            throw error
          },
        )
      },
      { status: () => svc.status, close: () => svc.close() },
    )
  }
}
