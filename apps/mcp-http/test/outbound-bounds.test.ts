import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { boundErrorMessage, PendingServerRequests } from "../src/outbound-bounds.ts";

describe("boundErrorMessage", () => {
  it("cuts a long error message and says how much was cut", () => {
    const message = {
      jsonrpc: "2.0",
      id: 7,
      error: { code: -32602, message: `Tool ${"A".repeat(5_000)} not found` },
    };
    const bounded = boundErrorMessage(message as JSONRPCMessage, 100) as typeof message;
    expect(bounded.id).toBe(7);
    expect(bounded.error.code).toBe(-32602);
    expect(bounded.error.message).toBe(
      `${message.error.message.slice(0, 100)}… [4915 more characters truncated]`,
    );
    // The original is not modified (the SDK may still hold it).
    expect(message.error.message).toHaveLength(5_015);
  });

  it("passes short errors, results and requests through as the same object", () => {
    const short = { jsonrpc: "2.0", id: 1, error: { code: -32601, message: "Method not found" } };
    const result = {
      jsonrpc: "2.0",
      id: 2,
      result: { content: [{ type: "text", text: "x".repeat(5_000) }] },
    };
    for (const message of [short, result] as JSONRPCMessage[]) {
      expect(boundErrorMessage(message, 100)).toBe(message);
    }
  });
});

describe("PendingServerRequests", () => {
  it("refuses a request beyond the bound until an earlier one is answered or cancelled", () => {
    const pending = new PendingServerRequests(2);
    pending.add(1);
    pending.add(2);
    expect(() => pending.add(3)).toThrow(/2 requests to the client/);
    pending.settle(1);
    pending.add(3);
    expect(pending.size).toBe(2);
    pending.clear();
    expect(pending.size).toBe(0);
  });

  it("rejects a bound that is not a positive integer", () => {
    expect(() => new PendingServerRequests(0)).toThrow(RangeError);
  });
});
