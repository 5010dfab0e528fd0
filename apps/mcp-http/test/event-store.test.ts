import { describe, expect, it } from "vitest";
import { BoundedEventStore } from "../src/event-store.ts";

const note = (n: number): string =>
  JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { n } });

describe("BoundedEventStore", () => {
  it("replays the events of the same stream after a given one, in order", () => {
    const store = new BoundedEventStore();
    const a1 = store.append("a", note(1));
    store.append("b", note(2));
    const a3 = store.append("a", note(3));
    const a4 = store.append("a", note(4));
    expect(store.streamOf(a1)).toBe("a");
    expect(store.eventsAfter(a1)).toEqual([
      { id: a3, data: note(3) },
      { id: a4, data: note(4) },
    ]);
    expect(store.eventsAfter(a4)).toEqual([]);
  });

  it("keeps only the newest maxEvents and forgets the rest", () => {
    const store = new BoundedEventStore({ maxEvents: 2 });
    const first = store.append("a", note(1));
    const second = store.append("a", note(2));
    const third = store.append("a", note(3));
    expect(store.size).toBe(2);
    expect(store.streamOf(first)).toBeUndefined();
    expect(store.eventsAfter(first)).toEqual([]);
    expect(store.eventsAfter(second)).toEqual([{ id: third, data: note(3) }]);
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

  it("keeps at most maxBytes of event data, forgetting the oldest events first", () => {
    const big = (n: number) =>
      JSON.stringify({ jsonrpc: "2.0", id: n, error: { code: -32602, message: "x".repeat(900) } });
    const size = Buffer.byteLength(big(1));
    const store = new BoundedEventStore({ maxEvents: 512, maxBytes: size * 3 });
    const ids = [1, 2, 3, 4, 5].map((n) => store.append("a", big(n)));
    expect(store.retainedBytes).toBe(size * 3);
    expect(store.size).toBe(3);
    expect(store.streamOf(ids[1]!)).toBeUndefined();
    expect(store.eventsAfter(ids[2]!)).toEqual([
      { id: ids[3], data: big(4) },
      { id: ids[4], data: big(5) },
    ]);
  });

  it("counts bytes, not characters, and never keeps an event larger than the whole bound", () => {
    const store = new BoundedEventStore({ maxBytes: 100 });
    const kept = store.append("a", "é".repeat(40)); // 80 bytes, 40 characters
    expect(store.retainedBytes).toBe(80);
    const huge = store.append("a", "y".repeat(101));
    expect(store.retainedBytes).toBe(0);
    expect(store.size).toBe(0);
    expect(store.streamOf(kept)).toBeUndefined();
    expect(store.streamOf(huge)).toBeUndefined();
    const next = store.append("a", "z");
    expect(store.streamOf(next)).toBe("a");
    expect(store.retainedBytes).toBe(1);
  });

  it("rejects bounds that are not positive integers", () => {
    for (const limits of [{ maxEvents: 0 }, { maxBytes: 0 }, { maxBytes: 1.5 }, { maxEvents: -1 }]) {
      expect(() => new BoundedEventStore(limits)).toThrow(RangeError);
    }
  });
});
