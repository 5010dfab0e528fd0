import { validateHostHeader, validateOriginHeader } from "@modelcontextprotocol/server";
import type { MiddlewareHandler } from "hono";

const forbidden = (message: string) =>
  new Response(JSON.stringify({ error: "forbidden", message }), {
    status: 403,
    headers: { "content-type": "application/json" },
  });

/**
 * Host names as the SDK's validators compare them (a URL's hostname): lower case, IPv6 in
 * brackets. An operator may list `::1` without them.
 */
function hostnameList(hosts: string[]): string[] {
  return hosts.map((host) => {
    const lower = host.trim().toLowerCase();
    return lower.includes(":") && !lower.startsWith("[") ? `[${lower}]` : lower;
  });
}

/**
 * DNS-rebinding and cross-origin protection. `Host` must name an allowed host
 * (when a list is configured; on loopback binds it always is). A request with
 * an `Origin` must come from an allowed origin, or from an allowed host when
 * no origin list is configured (same-host tools such as the Inspector).
 *
 * The SDK's validators parse and match the host names (port-agnostic); the origin list is
 * matched here, whole (scheme, host and port), which the SDK's hostname-only check cannot do.
 * The answers keep this app's body and never echo the header.
 */
export function hostAndOriginGuard(options: {
  allowedHosts: string[];
  allowedOrigins: string[];
}): MiddlewareHandler {
  const hosts = hostnameList(options.allowedHosts);
  const origins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, "")));
  return async (c, next) => {
    if (hosts.length > 0 && !validateHostHeader(c.req.header("host"), hosts).ok) {
      return forbidden("Host not allowed");
    }
    const origin = c.req.header("origin");
    if (origin !== undefined) {
      const allowed =
        origins.has(origin.toLowerCase().replace(/\/$/, "")) ||
        // The SDK lets an empty Origin through as absent; here any Origin header must be allowed.
        (origin !== "" && hosts.length > 0 && validateOriginHeader(origin, hosts).ok);
      if (!allowed) return forbidden("Origin not allowed");
    }
    await next();
  };
}
