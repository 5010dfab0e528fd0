import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { isSessionError, type SessionStore, type SessionStoreOptions } from "../src/index.ts";

/** Builds a fresh, isolated store (its own key prefix for Redis) with the given options. */
export type StoreFactory = (options?: SessionStoreOptions) => Promise<SessionStore>;

const URL_SAFE_ID = /^[A-Za-z0-9_.-]+$/;

async function expectSessionError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSessionError(error), `expected a SessionError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

/**
 * The behaviour every SessionStore implementation must show. Timings use short
 * TTLs and generous margins so the suite stays stable on a loaded machine.
 */
export function runSessionStoreContract(name: string, makeStore: StoreFactory): void {
  describe(`SessionStore contract: ${name}`, () => {
    const opened: SessionStore[] = [];
    const open = async (options?: SessionStoreOptions) => {
      const store = await makeStore(options);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });
    const alice = { userId: "user-alice", username: "alice", roles: ["user", "admin"] };
    const bob = { userId: "user-bob", username: "bob", roles: ["user"] };

    describe("ids", () => {
      it("are URL-safe, carry at least 256 random bits and are never reused", async () => {
        const store = await open({ maxConcurrentSessions: 1000 });
        const ids = await Promise.all(Array.from({ length: 200 }, () => store.create(alice)));
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ids) {
          expect(id).toMatch(URL_SAFE_ID);
          // base64url: 43 characters carry 258 bits; the random part alone must be that long.
          expect(id.split(".").some((part) => part.length >= 43)).toBe(true);
        }
      });

      it("unknown, malformed or forged ids find nothing and change nothing", async () => {
        const store = await open();
        const id = await store.create(alice);
        const last = id.at(-1) === "A" ? "B" : "A";
        const forged = [
          `${id.slice(0, -1)}${last}`,
          "",
          "*",
          "../../etc",
          `${id}x`,
          id.slice(1),
          "{user-alice}",
          "a".repeat(10_000),
        ];
        for (const candidate of forged) {
          expect(await store.get(candidate)).toBeNull();
          expect(await store.update(candidate, { x: 1 })).toBe(false);
          expect(await store.refresh(candidate)).toBe(false);
          expect(await store.delete(candidate)).toBe(false);
        }
        const session = await store.get(id);
        expect(session?.userId).toBe(alice.userId);
        expect(session?.metadata).toEqual({});
      });
    });

    describe("create and get", () => {
      it("round-trips the session with dates and metadata", async () => {
        const store = await open({ ttlSeconds: 600 });
        const before = Date.now();
        const metadata = { ip: "10.0.0.1", nested: { a: [1, 2, { b: null }] }, flag: true, n: 1.5 };
        const id = await store.create({ ...alice, metadata });
        const session = await store.get(id);
        expect(session).not.toBeNull();
        expect(session).toMatchObject({ sessionId: id, ...alice, metadata });
        expect(session?.createdAt).toBeInstanceOf(Date);
        const createdAt = session!.createdAt.getTime();
        expect(createdAt).toBeGreaterThanOrEqual(before);
        expect(createdAt).toBeLessThanOrEqual(Date.now());
        const lastAccessedAt = session!.lastAccessedAt.getTime();
        expect(lastAccessedAt).toBeGreaterThanOrEqual(createdAt);
        expect(session!.expiresAt.getTime()).toBe(lastAccessedAt + 600_000);
      });

      it("hands out copies: mutating input or results never changes the stored session", async () => {
        const store = await open();
        const input = { ...alice, roles: ["user"], metadata: { list: [1] } as Record<string, unknown> };
        const id = await store.create(input);
        input.roles.push("admin");
        (input.metadata.list as number[]).push(2);
        const first = await store.get(id);
        first!.roles.push("root");
        (first!.metadata.list as number[]).push(3);
        first!.metadata.injected = true;
        const second = await store.get(id);
        expect(second?.roles).toEqual(["user"]);
        expect(second?.metadata).toEqual({ list: [1] });
      });

      it("keeps a __proto__ metadata key as plain data", async () => {
        const store = await open();
        const metadata = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
        const id = await store.create({ ...alice, metadata });
        const session = await store.get(id);
        expect(Object.getPrototypeOf(session!.metadata)).toBe(Object.prototype);
        expect(Object.hasOwn(session!.metadata, "__proto__")).toBe(true);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });
    });

    describe("expiry", () => {
      it("an expired session is gone for every operation", async () => {
        const store = await open();
        const id = await store.create({ ...alice, ttlSeconds: 0.3 });
        const keeper = await store.create({ ...alice, ttlSeconds: 60 });
        expect(await store.get(id)).not.toBeNull();
        await delay(700);
        expect(await store.get(id)).toBeNull();
        expect(await store.update(id, { a: 1 })).toBe(false);
        expect(await store.refresh(id)).toBe(false);
        expect(await store.delete(id)).toBe(false);
        const listed = await store.listUserSessions(alice.userId);
        expect(listed.map((s) => s.sessionId)).toEqual([keeper]);
      });
    });

    describe("sliding window", () => {
      it("each get moves expiresAt to now + TTL and keeps the session alive past its first expiry", async () => {
        const store = await open({ ttlSeconds: 1.5 });
        const id = await store.create(alice);
        const created = await store.get(id);
        await delay(900);
        const before = Date.now();
        const slid = await store.get(id);
        const after = Date.now();
        const lastAccessedAt = slid!.lastAccessedAt.getTime();
        expect(lastAccessedAt).toBeGreaterThanOrEqual(before);
        expect(lastAccessedAt).toBeLessThanOrEqual(after);
        expect(slid!.expiresAt.getTime()).toBe(lastAccessedAt + 1500);
        expect(slid!.expiresAt.getTime()).toBeGreaterThanOrEqual(created!.expiresAt.getTime() + 900);
        await delay(900);
        // 1.8 s after creation with a 1.5 s TTL: alive only because the window slid.
        expect(await store.get(id)).not.toBeNull();
      });

      it("with sliding off, get extends nothing and the session expires on time", async () => {
        const store = await open({ ttlSeconds: 0.8, slidingWindow: false });
        const id = await store.create(alice);
        const first = await store.get(id);
        await delay(300);
        const second = await store.get(id);
        expect(second!.expiresAt.getTime()).toBe(first!.expiresAt.getTime());
        expect(second!.lastAccessedAt.getTime()).toBe(first!.lastAccessedAt.getTime());
        await delay(800);
        expect(await store.get(id)).toBeNull();
      });

      it("refresh sets a new TTL from now, defaulting to the store's TTL", async () => {
        const store = await open({ ttlSeconds: 100, slidingWindow: false });
        const id = await store.create(alice);
        const beforeLonger = Date.now();
        expect(await store.refresh(id, 1000)).toBe(true);
        const longer = await store.get(id);
        expect(longer!.expiresAt.getTime()).toBe(longer!.lastAccessedAt.getTime() + 1_000_000);
        expect(longer!.lastAccessedAt.getTime()).toBeGreaterThanOrEqual(beforeLonger);
        expect(await store.refresh(id)).toBe(true);
        const reset = await store.get(id);
        expect(reset!.expiresAt.getTime()).toBe(reset!.lastAccessedAt.getTime() + 100_000);
        expect(reset!.lastAccessedAt.getTime()).toBeGreaterThanOrEqual(longer!.lastAccessedAt.getTime());
        expect(await store.refresh(id, 0.3)).toBe(true);
        await delay(700);
        expect(await store.get(id)).toBeNull();
      });
    });

    describe("update", () => {
      it("merges metadata shallowly", async () => {
        const store = await open();
        const id = await store.create({ ...alice, metadata: { a: 1, keep: { deep: true } } });
        expect(await store.update(id, { b: 2 })).toBe(true);
        expect(await store.update(id, { a: { replaced: true } })).toBe(true);
        expect((await store.get(id))?.metadata).toEqual({
          a: { replaced: true },
          b: 2,
          keep: { deep: true },
        });
      });

      it("50 concurrent updates of different keys all survive", async () => {
        const store = await open();
        const id = await store.create(alice);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.update(id, { [`key${i}`]: i })),
        );
        expect(results.every(Boolean)).toBe(true);
        const metadata = (await store.get(id))!.metadata;
        expect(Object.keys(metadata)).toHaveLength(50);
        for (let i = 0; i < 50; i++) expect(metadata[`key${i}`]).toBe(i);
      });
    });

    describe("per-user limit", () => {
      it("50 concurrent creates for one user leave exactly the limit, oldest evicted", async () => {
        const store = await open({ maxConcurrentSessions: 5 });
        const bobId = await store.create(bob);
        const ids = await Promise.all(Array.from({ length: 50 }, () => store.create(alice)));
        const listed = await store.listUserSessions(alice.userId);
        expect(listed.map((s) => s.sessionId)).toEqual(ids.slice(-5));
        for (const evicted of ids.slice(0, -5)) expect(await store.get(evicted)).toBeNull();
        expect(await store.get(bobId)).not.toBeNull();
      });

      it("the limit is per user and creating after eviction keeps the newest", async () => {
        const store = await open({ maxConcurrentSessions: 2 });
        const a1 = await store.create(alice);
        const b1 = await store.create(bob);
        const a2 = await store.create(alice);
        const a3 = await store.create(alice);
        expect((await store.listUserSessions(alice.userId)).map((s) => s.sessionId)).toEqual([a2, a3]);
        expect((await store.listUserSessions(bob.userId)).map((s) => s.sessionId)).toEqual([b1]);
        expect(await store.get(a1)).toBeNull();
      });

      it("expired sessions do not count toward the limit", async () => {
        const store = await open({ maxConcurrentSessions: 2 });
        const oldest = await store.create({ ...alice, ttlSeconds: 60 });
        await store.create({ ...alice, ttlSeconds: 0.2 });
        await delay(500);
        const newest = await store.create(alice);
        expect((await store.listUserSessions(alice.userId)).map((s) => s.sessionId)).toEqual([
          oldest,
          newest,
        ]);
      });
    });

    describe("listing and deleting", () => {
      it("lists a user's live sessions oldest first, never deleted ones", async () => {
        const store = await open();
        const first = await store.create(alice);
        const second = await store.create({ ...alice, metadata: { device: "phone" } });
        const third = await store.create(alice);
        await store.create(bob);
        expect(await store.delete(second)).toBe(true);
        expect(await store.delete(second)).toBe(false);
        const listed = await store.listUserSessions(alice.userId);
        expect(listed.map((s) => s.sessionId)).toEqual([first, third]);
        expect(listed.every((s) => s.userId === alice.userId)).toBe(true);
        expect(await store.listUserSessions("nobody")).toEqual([]);
      });

      it("deleteUserSessions removes all of one user's sessions and returns the count", async () => {
        const store = await open();
        const ids = [await store.create(alice), await store.create(alice), await store.create(alice)];
        const bobId = await store.create(bob);
        expect(await store.deleteUserSessions(alice.userId)).toBe(3);
        for (const id of ids) expect(await store.get(id)).toBeNull();
        expect(await store.listUserSessions(alice.userId)).toEqual([]);
        expect(await store.deleteUserSessions(alice.userId)).toBe(0);
        expect(await store.get(bobId)).not.toBeNull();
      });

      it("deleteInactiveSessions removes sessions idle since the cutoff", async () => {
        const store = await open();
        const idle = await store.create(alice);
        const active = await store.create(bob);
        await delay(50);
        const cutoff = new Date();
        await delay(10);
        await store.get(active);
        expect(await store.deleteInactiveSessions(cutoff)).toBe(1);
        expect(await store.get(idle)).toBeNull();
        expect(await store.get(active)).not.toBeNull();
        expect(await store.listUserSessions(alice.userId)).toEqual([]);
      });
    });

    describe("bad input gets SESSION_INVALID_INPUT and changes nothing", () => {
      it("rejects invalid create input", async () => {
        const store = await open();
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        const bad: unknown[] = [
          null,
          { ...alice, userId: "" },
          { ...alice, userId: 42 },
          { ...alice, username: undefined },
          { ...alice, roles: "admin" },
          { ...alice, roles: [""] },
          { ...alice, metadata: [1, 2] },
          { ...alice, metadata: new Map() },
          { ...alice, metadata: { n: 1n } },
          { ...alice, metadata: { f: () => 1 } },
          { ...alice, metadata: cyclic },
          { ...alice, metadata: { big: "x".repeat(70_000) } },
          { ...alice, ttlSeconds: 0 },
          { ...alice, ttlSeconds: -1 },
          { ...alice, ttlSeconds: Number.NaN },
          { ...alice, ttlSeconds: "60" },
        ];
        for (const input of bad) {
          await expectSessionError(store.create(input as never), "SESSION_INVALID_INPUT");
        }
        expect(await store.listUserSessions(alice.userId)).toEqual([]);
      });

      it("rejects invalid update, refresh, list and cleanup arguments", async () => {
        const store = await open();
        const id = await store.create({ ...alice, metadata: { a: 1 } });
        await expectSessionError(store.update(id, [] as never), "SESSION_INVALID_INPUT");
        await expectSessionError(store.update(id, { n: 1n } as never), "SESSION_INVALID_INPUT");
        await expectSessionError(store.update(id, null as never), "SESSION_INVALID_INPUT");
        await expectSessionError(store.refresh(id, -5), "SESSION_INVALID_INPUT");
        await expectSessionError(store.refresh(id, Number.POSITIVE_INFINITY), "SESSION_INVALID_INPUT");
        await expectSessionError(store.listUserSessions(""), "SESSION_INVALID_INPUT");
        await expectSessionError(store.deleteUserSessions(7 as never), "SESSION_INVALID_INPUT");
        await expectSessionError(store.deleteInactiveSessions(new Date("nope")), "SESSION_INVALID_INPUT");
        await expectSessionError(
          store.deleteInactiveSessions("2020-01-01" as never),
          "SESSION_INVALID_INPUT",
        );
        expect((await store.get(id))?.metadata).toEqual({ a: 1 });
      });

      it("rejects invalid store options", async () => {
        await expectSessionError(makeStore({ maxConcurrentSessions: 0 }), "SESSION_INVALID_INPUT");
        await expectSessionError(makeStore({ maxConcurrentSessions: 1.5 }), "SESSION_INVALID_INPUT");
        await expectSessionError(makeStore({ ttlSeconds: -1 }), "SESSION_INVALID_INPUT");
      });
    });

    describe("cancellation and lifecycle", () => {
      it("an already-aborted signal rejects with its reason and creates nothing", async () => {
        const store = await open();
        const reason = new Error("caller gave up");
        const signal = AbortSignal.abort(reason);
        await expect(store.create(alice, { signal })).rejects.toBe(reason);
        await expect(store.get("x", { signal })).rejects.toBe(reason);
        expect(await store.ping({ signal })).toBe(false);
        expect(await store.listUserSessions(alice.userId)).toEqual([]);
      });

      it("ping answers while open; after close every call fails with SESSION_CLOSED", async () => {
        const store = await makeStore();
        const id = await store.create(alice);
        expect(await store.ping()).toBe(true);
        await store.close();
        await store.close();
        expect(await store.ping()).toBe(false);
        await expectSessionError(store.get(id), "SESSION_CLOSED");
        await expectSessionError(store.create(alice), "SESSION_CLOSED");
      });
    });
  });
}
