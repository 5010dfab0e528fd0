import { describe, expect, it } from "vitest";
import { observe, outcomeOf } from "../src/observer.ts";

describe("observe", () => {
  it("ends once, with the first outcome", () => {
    const outcomes: string[] = [];
    const end = observe((tool: string) => (outcome) => outcomes.push(`${tool}:${outcome}`), "agent_chat");
    end("ok");
    end("INTERNAL");
    expect(outcomes).toEqual(["agent_chat:ok"]);
  });

  it("never lets a throwing hook fail the call", () => {
    const throwingStart = observe(() => {
      throw new Error("metrics broke");
    });
    expect(() => throwingStart("ok")).not.toThrow();
    const throwingEnd = observe(() => () => {
      throw new Error("metrics broke");
    });
    expect(() => throwingEnd("ok")).not.toThrow();
    expect(() => observe(undefined)("ok")).not.toThrow();
  });
});

describe("outcomeOf", () => {
  it("is ok, the error code, or 'error' for an error result without one", () => {
    expect(outcomeOf({ content: [] } as { isError?: boolean })).toBe("ok");
    expect(outcomeOf({ isError: true, structuredContent: { error: { code: "FORBIDDEN" } } })).toBe(
      "FORBIDDEN",
    );
    expect(outcomeOf({ isError: true })).toBe("error");
  });
});
