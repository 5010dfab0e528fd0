import type { Principal } from "@mcp-langgraph/auth-provider";
import type { ServerContext } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { createUserBoundRequestStateCodec, isMcpServerError } from "../src/index.ts";

const KEY = "k".repeat(32);
const ctxFor = (userId: string | undefined, method = "tools/call") =>
  ({
    mcpReq: { method },
    http: { authInfo: { extra: userId ? { principal: { userId } } : {} } },
  }) as unknown as ServerContext;
const principalOf = (ctx: ServerContext): Principal => {
  const principal = ctx.http?.authInfo?.extra?.principal as Principal | undefined;
  if (!principal) throw new Error("not authenticated");
  return principal;
};

describe("createUserBoundRequestStateCodec", () => {
  it("returns the payload to the user and method it was minted for", async () => {
    const codec = createUserBoundRequestStateCodec({ key: KEY, principalOf });
    const state = await codec.mint({ step: 2 }, ctxFor("user:alice"));
    await expect(codec.verify(state, ctxFor("user:alice"))).resolves.toEqual({ step: 2 });
  });

  it("refuses it for another user, another method, no user, or under another key", async () => {
    const codec = createUserBoundRequestStateCodec({ key: KEY, principalOf });
    const state = await codec.mint({ step: 2 }, ctxFor("user:alice"));
    await expect(codec.verify(state, ctxFor("user:bob"))).rejects.toThrow("bind");
    await expect(codec.verify(state, ctxFor("user:alice", "prompts/get"))).rejects.toThrow("bind");
    await expect(codec.verify(state, ctxFor(undefined))).rejects.toThrow();
    const other = createUserBoundRequestStateCodec({ key: "o".repeat(32), principalOf });
    await expect(other.verify(state, ctxFor("user:alice"))).rejects.toThrow("mac");
  });

  it("refuses an expired state", async () => {
    const codec = createUserBoundRequestStateCodec({ key: KEY, principalOf, ttlSeconds: -1 });
    const state = await codec.mint({ step: 1 }, ctxFor("user:alice"));
    await expect(codec.verify(state, ctxFor("user:alice"))).rejects.toThrow("expired");
  });

  it("refuses a key shorter than 32 bytes with a configuration error", () => {
    let error: unknown;
    try {
      createUserBoundRequestStateCodec({ key: "short", principalOf });
    } catch (caught) {
      error = caught;
    }
    expect(isMcpServerError(error) && error.code).toBe("CONFIG_INVALID");
  });
});
