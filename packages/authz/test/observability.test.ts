import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { beforeEach, describe, expect, it } from "vitest";
import { EmbeddedAuthorizer } from "../src/embedded.ts";
import { type AuthzDecision, loadProjectModel } from "../src/index.ts";
import { ResilientAuthorizer } from "../src/resilient.ts";

const owner = { user: "user:alice", relation: "owner", object: "conversation:alice-secret-thread" };
const stranger = { user: "user:mallory", relation: "owner", object: "conversation:alice-secret-thread" };

describe("authorizer observability (onDecision, tracer)", () => {
  let decisions: AuthzDecision[];
  let exporter: InMemorySpanExporter;
  let authz: ResilientAuthorizer;

  beforeEach(async () => {
    const backend = new EmbeddedAuthorizer(await loadProjectModel());
    await backend.writeTuples([owner]);
    decisions = [];
    exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    authz = new ResilientAuthorizer(backend, {
      remote: false,
      onDecision: (decision) => decisions.push(decision),
      tracer: provider.getTracer("authz-test"),
    });
  });

  it("reports each decision and whether the cache gave it", async () => {
    expect(await authz.check(owner)).toBe(true);
    expect(await authz.check(owner)).toBe(true);
    expect(await authz.check(stranger)).toBe(false);
    expect(await authz.batchCheck([owner, stranger])).toEqual([true, false]);
    expect(decisions).toEqual([
      { allowed: true, cached: false },
      { allowed: true, cached: true },
      { allowed: false, cached: false },
      { allowed: true, cached: true },
      { allowed: false, cached: true },
    ]);
  });

  it("traces a check with its relation, object type, answer and cache use, never the user or object id", async () => {
    await authz.check(owner);
    await authz.check(owner);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(["authz.check", "authz.check"]);
    expect(spans[0]?.attributes).toEqual({
      "authz.relation": "owner",
      "authz.object.type": "conversation",
      "authz.contextual_tuples": 0,
      "authz.allowed": true,
      "authz.cached": false,
    });
    expect(spans[1]?.attributes["authz.cached"]).toBe(true);
    const text = JSON.stringify(spans.map((span) => span.attributes));
    expect(text).not.toContain("alice");
  });

  it("a throwing hook changes no decision", async () => {
    const backend = new EmbeddedAuthorizer(await loadProjectModel());
    await backend.writeTuples([owner]);
    const throwing = new ResilientAuthorizer(backend, {
      remote: false,
      onDecision: () => {
        throw new Error("metrics broke");
      },
    });
    expect(await throwing.check(owner)).toBe(true);
    expect(await throwing.check(owner)).toBe(true);
    expect(await throwing.check(stranger)).toBe(false);
  });

  it("a failed check is no decision, and its span carries the error code", async () => {
    await expect(authz.check({ user: "user:alice", relation: "owner", object: "nope" })).rejects.toThrow();
    expect(decisions).toEqual([]);
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes["error.type"]).toMatch(/^AUTHZ_/);
  });
});
