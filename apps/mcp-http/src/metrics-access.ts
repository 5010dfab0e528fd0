import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

export type MetricsAccess = "allowed" | "unauthorized" | "forbidden";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback (`::ffff:127.x.x.x`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined || isIP(address) === 0) return false;
  const v4 = address.toLowerCase().startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}

/**
 * Who may read `/metrics`. With a token configured: exactly `Bearer <token>`, compared in
 * constant time (digests of equal length, so not even the length leaks). Without one: only a
 * loopback peer (a scraper on the same host or a sidecar); any other address is refused, since
 * metrics reveal traffic, error rates and versions.
 */
export function metricsAccess(
  token: string | undefined,
  authorization: string | undefined,
  remoteAddress: string | undefined,
): MetricsAccess {
  if (token === undefined) return isLoopbackAddress(remoteAddress) ? "allowed" : "forbidden";
  const given = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
  if (given === undefined) return "unauthorized";
  return timingSafeEqual(digest(given), digest(token)) ? "allowed" : "unauthorized";
}
