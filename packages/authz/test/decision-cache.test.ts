import { beforeEach, describe, expect, it } from "vitest";
import { EmbeddedAuthorizer } from "../src/embedded.ts";
import { type CallOptions, type CheckQuery, isAuthzError, loadProjectModel } from "../src/index.ts";
import { ResilientAuthorizer } from "../src/resilient.ts";

/** The embedded backend, instrumented to count the checks that reach it and to hold answers back on demand. */
class CountingAuthorizer extends EmbeddedAuthorizer {
  checks = 0;
  /** While set, answers are computed but not returned until it resolves. */
  gate: Promise<void> | undefined;

  override async check(query: CheckQuery, options?: CallOptions): Promise<boolean> {
    this.checks++;
    const answer = await super.check(query, options);
    await this.gate;
    return answer;
  }

  override async batchCheck(queries: CheckQuery[], options?: CallOptions): Promise<boolean[]> {
    return Promise.all(queries.map((query) => this.check(query, options)));
  }
}

const owner = { user: "user:alice", relation: "owner", object: "conversation:c1" };
const viewer = { user: "user:bob", relation: "viewer", object: "conversation:c2" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("decision cache", () => {
  let backend: CountingAuthorizer;
  let authz: ResilientAuthorizer;

  beforeEach(async () => {
    backend = new CountingAuthorizer(await loadProjectModel());
    await backend.writeTuples([
      owner,
      { user: "organization:acme#member", relation: "viewer", object: "conversation:c2" },
    ]);
    authz = new ResilientAuthorizer(backend, { cache: { maxEntries: 100, ttlMs: 60_000 } });
  });

  it("answers a repeated check from the cache", async () => {
    expect(await authz.check(owner)).toBe(true);
    expect(await authz.check(owner)).toBe(true);
    expect(await authz.batchCheck([owner, owner])).toEqual([true, true]);
    expect(backend.checks).toBe(1);
  });

  it("caches denials as well, and forwards only the misses of a batch", async () => {
    expect(await authz.check(viewer)).toBe(false);
    expect(await authz.batchCheck([viewer, owner])).toEqual([false, true]);
    expect(backend.checks).toBe(2);
  });

  it("drops cached decisions when this process writes tuples, including on other objects", async () => {
    expect(await authz.check(viewer)).toBe(false);
    // Membership is written on the organization, yet it changes the answer on the conversation.
    await authz.writeTuples([{ user: "user:bob", relation: "member", object: "organization:acme" }]);
    expect(await authz.check(viewer)).toBe(true);
  });

  it("drops cached decisions when this process deletes tuples", async () => {
    expect(await authz.check(owner)).toBe(true);
    await authz.deleteTuples([owner]);
    expect(await authz.check(owner)).toBe(false);
  });

  it("caches a decision under its contextual tuples, and never one with a context", async () => {
    const withRole = {
      user: "user:carol",
      relation: "viewer",
      object: "conversation:c2",
      contextualTuples: [{ user: "user:carol", relation: "member", object: "organization:acme" }],
    };
    expect(await authz.check(withRole)).toBe(true);
    expect(await authz.check({ ...withRole, contextualTuples: [...withRole.contextualTuples] })).toBe(true);
    expect(backend.checks).toBe(1);
    expect(await authz.check({ ...owner, context: { hour: 1 } })).toBe(true);
    expect(await authz.check({ ...owner, context: { hour: 1 } })).toBe(true);
    expect(backend.checks).toBe(3);
    // ...a contextual grant never leaks into the plain query, nor into other contextual tuples...
    expect(await authz.check({ user: "user:carol", relation: "viewer", object: "conversation:c2" })).toBe(
      false,
    );
    const otherOrganization = { user: "user:carol", relation: "member", object: "organization:other" };
    expect(await authz.check({ ...withRole, contextualTuples: [otherOrganization] })).toBe(false);
    expect(await authz.batchCheck([withRole, { ...withRole, contextualTuples: [] }])).toEqual([true, false]);
    // ...and a contextual tuple with a condition is evaluated every time.
    const conditional = {
      ...withRole,
      contextualTuples: [{ ...withRole.contextualTuples[0]!, condition: { name: "during", context: {} } }],
    };
    const before = backend.checks;
    await authz.check(conditional).catch(() => false);
    await authz.check(conditional).catch(() => false);
    expect(backend.checks).toBe(before + 2);
  });

  it("drops decisions cached under contextual tuples when this process writes tuples", async () => {
    const withRole = {
      user: "user:carol",
      relation: "viewer",
      object: "conversation:c1",
      contextualTuples: [{ user: "user:carol", relation: "member", object: "organization:acme" }],
    };
    expect(await authz.check(withRole)).toBe(false);
    await authz.writeTuples([
      { user: "organization:acme#member", relation: "viewer", object: "conversation:c1" },
    ]);
    expect(await authz.check(withRole)).toBe(true);
  });

  it("does not fill the cache from a check that overlapped a write", async () => {
    let release = () => {};
    backend.gate = new Promise((resolve) => {
      release = resolve;
    });
    const stale = authz.check(owner);
    await authz.deleteTuples([owner]);
    release();
    expect(await stale).toBe(true);
    backend.gate = undefined;
    expect(await authz.check(owner)).toBe(false);
  });

  it("expires decisions after the TTL", async () => {
    const shortLived = new ResilientAuthorizer(backend, { cache: { ttlMs: 250 } });
    await shortLived.check(owner);
    await shortLived.check(owner);
    expect(backend.checks).toBe(1);
    await sleep(400);
    await shortLived.check(owner);
    expect(backend.checks).toBe(2);
  });

  it("keeps at most maxEntries decisions, evicting the least recently used", async () => {
    const small = new ResilientAuthorizer(backend, { cache: { maxEntries: 2, ttlMs: 60_000 } });
    const third = { user: "user:dan", relation: "viewer", object: "conversation:c1" };
    await small.check(owner);
    await small.check(viewer);
    await small.check(third);
    expect(backend.checks).toBe(3);
    await small.check(third);
    expect(backend.checks).toBe(3);
    await small.check(owner);
    expect(backend.checks).toBe(4);
  });

  it("never answers a malformed query from the cache", async () => {
    expect(await authz.check(owner)).toBe(true);
    const lookalike = { ...owner, object: { toString: () => owner.object } };
    const error = await authz.check(lookalike as never).catch((e: unknown) => e);
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_VALIDATION");
  });

  it("can be turned off", async () => {
    const uncached = new ResilientAuthorizer(backend, { cache: false });
    await uncached.check(owner);
    await uncached.check(owner);
    expect(backend.checks).toBe(2);
  });
});
