import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/**
 * The address a request came from, for per-address limits. With `trustedProxyHops` = 0 (default)
 * it is the TCP peer's: `X-Forwarded-For` is written by the client and would let a guesser pick a
 * fresh address per attempt. Behind n proxies that each append the address they saw, the client's
 * is the n-th entry from the right; a header with fewer entries than that did not come through
 * them all, so the peer's address is used.
 */
export function clientAddress(c: Context, trustedProxyHops: number): string {
  const peer = getConnInfo(c).remote.address ?? "unknown";
  if (trustedProxyHops === 0) return peer;
  const forwarded = (c.req.header("x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  return forwarded[forwarded.length - trustedProxyHops] ?? peer;
}
