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
 *
 * A refused body is not read to its end (that is the point of refusing it), so
 * the connection cannot carry another request: the 413 says `Connection: close`
 * and clients open a new connection for their next request, instead of writing
 * it into a socket the server is about to close (ADR 0076).
 */
export function bodyLimit(
  maxBytes: number,
  onTooLarge: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const tooLarge = async (c: Context) => closing(await onTooLarge(c));
  const streaming = streamingBodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    if (c.req.header("transfer-encoding") !== undefined) return streaming(c, next);
    const length = c.req.header("content-length");
    if (length !== undefined && Number(length) > maxBytes) return tooLarge(c);
    await next();
  };
}

function closing(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set("connection", "close");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
