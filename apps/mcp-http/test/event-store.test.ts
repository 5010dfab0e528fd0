import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { BoundedEventStore } from "../src/event-store.ts";

const note = (n: number): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/message",
  params: { n },
});

describe("BoundedEventStore", () => {
  it("replays the events of the same stream after a given one, in order", () => {
    const store = new BoundedEventStore();
    const a1 = store.append("a", note(1));
    store.append("b", note(2));
    const a3 = store.append("a", note(3));
    const a4 = store.append("a", note(4));
    expect(store.streamOf(a1)).toBe("a");
    expect(store.eventsAfter(a1)).toEqual([
      { id: a3, message: note(3) },
      { id: a4, message: note(4) },
    ]);
    expect(store.eventsAfter(a4)).toEqual([]);
  });

  it("keeps only the newest maxEvents and forgets the rest", () => {
    const store = new BoundedEventStore(2);
    const first = store.append("a", note(1));
    const second = store.append("a", note(2));
    const third = store.append("a", note(3));
    expect(store.size).toBe(2);
    expect(store.streamOf(first)).toBeUndefined();
    expect(store.eventsAfter(first)).toEqual([]);
    expect(store.eventsAfter(second)).toEqual([{ id: third, message: note(3) }]);
  });

  it("knows nothing of ids it never issued", () => {
    const store = new BoundedEventStore();
    const issued = store.append("a", note(1));
    expect(issued).toBe("a:1");
    for (const unknown of ["a:99", "b:1", "a:01", "a:0", "a:-1", "a:", "not-an-id"]) {
      expect(store.streamOf(unknown)).toBeUndefined();
      expect(store.eventsAfter(unknown)).toEqual([]);
    }
  });
});
