import type { Logger } from "@mcp-langgraph/core";
import { httpFailureOf } from "../http-errors.js";
import type { Identity } from "../identity.js";
import { JSONRPC_SERVER_ERROR, jsonRpcError } from "../jsonrpc.js";

/** Deadline of one authentication or key-management call at the edge. */
export const AUTH_TIMEOUT_MS = 5_000;

/** Builds the 401 answer with its `WWW-Authenticate` challenge pointing at the resource metadata (RFC 9728). */
export function unauthorizedResponder(publicUrl: string): (hadCredential: boolean) => Response {
  const resourceMetadataUrl = `${publicUrl}/.well-known/oauth-protected-resource`;
  return (hadCredential) => {
    const challenge = hadCredential
      ? `Bearer error="invalid_token", error_description="The access token is invalid or expired", resource_metadata="${resourceMetadataUrl}"`
      : `Bearer resource_metadata="${resourceMetadataUrl}"`;
    return new Response(
      JSON.stringify(jsonRpcError(JSONRPC_SERVER_ERROR, "Unauthorized: a valid bearer token is required")),
      {
        status: 401,
        headers: { "content-type": "application/json", "www-authenticate": challenge },
      },
    );
  };
}

/** The code of a refused credential, for the debug log (the message may quote the credential's claims). */
export const refusalOf = (error: unknown) => ({ code: (error as { code?: unknown })?.code ?? "unknown" });

/** The caller, or undefined for a missing or bad credential; a backend that cannot answer throws (503). */
export async function callerOf(
  identity: Identity,
  authorization: string | undefined,
  signal: AbortSignal,
  log: Logger,
) {
  try {
    return await identity.authenticate(authorization, signal);
  } catch (error) {
    if (httpFailureOf(error)?.status === 503) throw error;
    log.debug(refusalOf(error), "credential refused");
    return undefined;
  }
}
