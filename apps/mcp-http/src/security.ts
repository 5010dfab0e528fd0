import type { MiddlewareHandler } from "hono";

/** Hostname of a Host header value, without port; IPv6 keeps its brackets. */
function hostnameOf(hostHeader: string): string {
  const trimmed = hostHeader.trim().toLowerCase();
  if (trimmed.startsWith("[")) return trimmed.slice(0, trimmed.indexOf("]") + 1);
  return trimmed.split(":")[0] ?? "";
}

function originHostname(origin: string): string | null {
  try {
    const { hostname } = new URL(origin);
    return hostname.toLowerCase();
  } catch {
    return null;
  }
}

const forbidden = (message: string) =>
  new Response(JSON.stringify({ error: "forbidden", message }), {
    status: 403,
    headers: { "content-type": "application/json" },
  });

/**
 * DNS-rebinding and cross-origin protection. `Host` must name an allowed host
 * (when a list is configured; on loopback binds it always is). A request with
 * an `Origin` must come from an allowed origin, or from an allowed host when
 * no origin list is configured (same-host tools such as the Inspector).
 */
export function hostAndOriginGuard(options: {
  allowedHosts: string[];
  allowedOrigins: string[];
}): MiddlewareHandler {
  const hosts = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  const origins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, "")));
  const hostAllowed = (hostname: string) =>
    hosts.has(hostname) || (hostname.startsWith("[") ? false : hosts.has(`[${hostname}]`));
  return async (c, next) => {
    if (hosts.size > 0) {
      const host = c.req.header("host");
      if (!host || !hostAllowed(hostnameOf(host))) return forbidden("Host not allowed");
    }
    const origin = c.req.header("origin");
    if (origin !== undefined) {
      const normalized = origin.toLowerCase().replace(/\/$/, "");
      const hostname = originHostname(origin);
      const allowed =
        origins.has(normalized) ||
        (hostname !== null && hosts.size > 0 && (hostAllowed(hostname) || hostAllowed(`[${hostname}]`)));
      if (!allowed) return forbidden("Origin not allowed");
    }
    await next();
  };
}
