import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit as streamingBodyLimit } from "hono/body-limit";

/**
 * Refuses request bodies over `maxBytes`. A request that declares its length
 * is judged on that header alone (Node's parser never delivers more bytes than
 * it declares), and one with neither a length nor chunked encoding has no body.
 * Only a chunked body is counted while it streams in. Hono's own middleware
 * opens the body stream of every request to find out whether there is one,
 * which builds a full Fetch `Request` (body stream, abort signal) per request;
 * that was about a sixth of the server's CPU per MCP request.
 */
export function bodyLimit(
  maxBytes: number,
  onTooLarge: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const streaming = streamingBodyLimit({ maxSize: maxBytes, onError: onTooLarge });
  return async (c, next) => {
    if (c.req.header("transfer-encoding") !== undefined) return streaming(c, next);
    const length = c.req.header("content-length");
    if (length !== undefined && Number(length) > maxBytes) return onTooLarge(c);
    await next();
  };
}
