import type { Principal } from "@mcp-langgraph/auth-provider";
import {
  createRequestStateCodec,
  type RequestStateCodec,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { McpServerError } from "./errors.js";

/** How long a minted request state stays valid when no TTL is configured (the SDK's own default). */
export const DEFAULT_REQUEST_STATE_TTL_SECONDS = 600;

/** The least key length the SDK's HMAC codec accepts (bytes). */
export const MIN_REQUEST_STATE_KEY_BYTES = 32;

export interface UserBoundRequestStateOptions {
  /** The HMAC key, shared by every instance that may receive an echoed state (≥ 32 bytes). */
  key: Uint8Array | string;
  /** Who the request acts for: the same function the server's tools use. */
  principalOf: (ctx: ServerContext) => Principal;
  ttlSeconds?: number;
}

/**
 * The 2026-07-28 protocol's `requestState` (multi-round-trip state that travels with the client),
 * sealed with HMAC and bound to the caller and the method: a state minted while serving alice's
 * `tools/call` is refused when bob echoes it, or when it is echoed on another method. The binding
 * is the user id, not the token, so a refreshed token keeps a flow going.
 */
export function createUserBoundRequestStateCodec(
  options: UserBoundRequestStateOptions,
): RequestStateCodec<unknown> {
  const bytes =
    typeof options.key === "string" ? Buffer.byteLength(options.key, "utf8") : options.key.byteLength;
  if (bytes < MIN_REQUEST_STATE_KEY_BYTES) {
    throw new McpServerError(
      "CONFIG_INVALID",
      `The request-state key must be at least ${MIN_REQUEST_STATE_KEY_BYTES} bytes.`,
    );
  }
  return createRequestStateCodec({
    key: options.key,
    ttlSeconds: options.ttlSeconds ?? DEFAULT_REQUEST_STATE_TTL_SECONDS,
    // NUL cannot occur in a JSON-RPC method name, so the two parts cannot be shifted into each other.
    bind: (ctx) => `${ctx.mcpReq.method}\0${options.principalOf(ctx).userId}`,
  });
}
