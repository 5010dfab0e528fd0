import { randomBytes, randomUUID } from "node:crypto";
import { conversationKey } from "@mcp-langgraph/mcp-server";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FgaDevProcess, startFgaDevProcess } from "./fga-dev-process.ts";
import { INITIALIZE, login, postMcp, sharedRedisEnv, USERS } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";
import { messagesOf, readEvents, SseCollector } from "./sse-events.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const ready =
  (await requireService({ name: "Redis", url: REDIS_URL })) &&
  (await requireService({ name: "PostgreSQL", url: DATABASE_URL }));

type Headers = Record<string, string>;
const uriOf = (thread: string) => `conversation://${thread}`;
const UPDATED = "notifications/resources/updated";

async function openSession(url: string, token: string): Promise<Headers> {
  const response = await postMcp(url, INITIALIZE, { authorization: `Bearer ${token}` });
  expect(response.status).toBe(200);
  await response.text();
  return {
    authorization: `Bearer ${token}`,
    "mcp-session-id": response.headers.get("mcp-session-id") as string,
    "mcp-protocol-version": "2025-11-25",
  };
}

let nextId = 100;
/** One JSON-RPC request on `url`; resolves to its answer (result or error). */
async function rpc(url: string, headers: Headers, method: string, params: Record<string, unknown>) {
  const id = nextId++;
  const response = await postMcp(url, { jsonrpc: "2.0", id, method, params }, headers);
  expect(response.status).toBe(200);
  if (response.headers.get("content-type")?.includes("application/json")) return response.json();
  const { events } = await readEvents(response, (seen) => messagesOf(seen).some((m) => m.id === id));
  return messagesOf(events).find((m) => m.id === id);
}

/** A finished agent_chat turn on `thread`, on instance `url`. */
async function chat(url: string, headers: Headers, thread: string): Promise<void> {
  const answer = await rpc(url, headers, "tools/call", {
    name: "agent_chat",
    arguments: { message: "hi", thread_id: thread },
  });
  expect(answer?.result?.isError, JSON.stringify(answer)).toBeFalsy();
}

const subscribe = (url: string, headers: Headers, thread: string) =>
  rpc(url, headers, "resources/subscribe", { uri: uriOf(thread) });
const unsubscribe = (url: string, headers: Headers, thread: string) =>
  rpc(url, headers, "resources/unsubscribe", { uri: uriOf(thread) });

/** The client's GET stream for the session, held by instance `url`. */
async function standalone(url: string, headers: Headers): Promise<SseCollector> {
  const response = await fetch(`${url}/mcp`, { headers: { ...headers, accept: "text/event-stream" } });
  expect(response.status).toBe(200);
  return new SseCollector(response);
}

const updatesOf = (messages: SseCollector["messages"], thread: string) =>
  messages.filter((m) => m.method === UPDATED && m.params?.uri === uriOf(thread)).length;

/**
 * Three built app processes sharing Redis, and conversations (Postgres) and their grants (an
 * OpenFGA API server), so a turn and a subscription on one conversation may be on any instance.
 * Each request is sent to a chosen instance, as a balancer with no affinity might.
 */
describe.skipIf(!ready)("resource subscriptions across instances (SESSION_BACKEND=redis)", () => {
  let fga: FgaDevProcess;
  let env: Record<string, string>;
  let apps: SpawnedApp[];
  let urls: [string, string, string];
  let alice: string;
  let bob: string;
  const streams: SseCollector[] = [];

  beforeAll(async () => {
    fga = await startFgaDevProcess(randomBytes(16).toString("base64url"));
    env = {
      ...sharedRedisEnv(),
      LOCAL_USERS: USERS,
      MAX_SUBSCRIPTIONS_PER_SESSION: "2",
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL,
      AUTHZ_BACKEND: "openfga",
      OPENFGA_API_URL: fga.url,
      OPENFGA_STORE_ID: fga.storeId,
      OPENFGA_MODEL_ID: fga.modelId,
      OPENFGA_API_TOKEN: fga.token,
    };
    // The first alone, so only one creates the Postgres tables.
    const first = await spawnApp(env);
    apps = [first, ...(await Promise.all([spawnApp(env), spawnApp(env)]))];
    urls = apps.map((app) => app.url) as [string, string, string];
    [alice, bob] = await Promise.all([login(urls[0], "alice", "alice-pw"), login(urls[1], "bob", "bob-pw")]);
  }, 60_000);

  afterEach(async () => {
    await Promise.allSettled(streams.splice(0).map((stream) => stream.close()));
  });

  afterAll(async () => {
    await Promise.allSettled(
      (apps ?? []).map(async (app) => {
        app.child.kill("SIGTERM");
        await app.exited;
      }),
    );
    await fga?.stop();
  });

  it("sends one update per turn whichever instances hold the subscription, the stream and the turn; none after an unsubscribe elsewhere", async () => {
    const [a, b, c] = urls;
    const headers = await openSession(a, alice);
    const thread = `t-${randomUUID()}`;
    // A second subscription whose update marks the point by which any duplicate would have arrived.
    const sentinel = `s-${randomUUID()}`;
    await chat(b, headers, thread);
    await chat(b, headers, sentinel);
    expect(await subscribe(a, headers, thread)).toHaveProperty("result");
    expect(await subscribe(a, headers, sentinel)).toHaveProperty("result");
    const stream = await standalone(c, headers);
    streams.push(stream);

    await chat(b, headers, thread);
    await stream.until((messages) => updatesOf(messages, thread) >= 1);
    await chat(b, headers, sentinel);
    await stream.until((messages) => updatesOf(messages, sentinel) >= 1);
    expect(updatesOf(stream.messages, thread)).toBe(1);

    expect(await unsubscribe(b, headers, thread)).toHaveProperty("result");
    // Turns on the instance that subscribed, the one that unsubscribed and the stream's holder.
    await chat(a, headers, thread);
    await chat(b, headers, thread);
    await chat(c, headers, thread);
    await chat(b, headers, sentinel);
    await stream.until((messages) => updatesOf(messages, sentinel) >= 2);
    expect(updatesOf(stream.messages, thread)).toBe(1);
    expect((await fetch(`${c}/mcp`, { method: "DELETE", headers })).status).toBe(200);
  }, 90_000);

  it("still delivers through copies rebuilt after the instance that took the subscription was killed", async () => {
    const doomed = await spawnApp(env);
    const headers = await openSession(doomed.url, alice);
    const thread = `t-${randomUUID()}`;
    const sentinel = `s-${randomUUID()}`;
    await chat(doomed.url, headers, thread);
    await chat(doomed.url, headers, sentinel);
    expect(await subscribe(doomed.url, headers, thread)).toHaveProperty("result");
    expect(await subscribe(doomed.url, headers, sentinel)).toHaveProperty("result");
    doomed.child.kill("SIGKILL");
    await doomed.exited;

    // Neither instance held a copy: both rebuild one from Redis, subscriptions included.
    const stream = await standalone(urls[1], headers);
    streams.push(stream);
    await chat(urls[2], headers, thread);
    await stream.until((messages) => updatesOf(messages, thread) >= 1);
    await chat(urls[2], headers, sentinel);
    await stream.until((messages) => updatesOf(messages, sentinel) >= 1);
    expect(updatesOf(stream.messages, thread)).toBe(1);
  }, 90_000);

  it("holds MAX_SUBSCRIPTIONS_PER_SESSION across instances, also for subscribes that race", async () => {
    const [a, b, c] = urls;
    const headers = await openSession(a, alice);
    const threads = Array.from({ length: 4 }, () => `t-${randomUUID()}`);
    for (const thread of threads) await chat(a, headers, thread);
    const [t1, t2, t3, t4] = threads as [string, string, string, string];
    expect(await subscribe(a, headers, t1)).toHaveProperty("result");
    expect(await subscribe(b, headers, t2)).toHaveProperty("result");
    const refused = await subscribe(c, headers, t3);
    expect(refused.error?.message).toMatch(
      /2 resource subscriptions, the limit \(MAX_SUBSCRIPTIONS_PER_SESSION\)/,
    );
    // One already held is no new one.
    expect(await subscribe(c, headers, t1)).toHaveProperty("result");

    expect(await unsubscribe(c, headers, t1)).toHaveProperty("result");
    const raced = await Promise.all([subscribe(a, headers, t3), subscribe(b, headers, t4)]);
    expect(raced.filter((answer) => answer.result).length).toBe(1);
    expect(raced.filter((answer) => answer.error).length).toBe(1);
    expect((await subscribe(c, headers, t1)).error?.message).toMatch(/MAX_SUBSCRIPTIONS_PER_SESSION/);
  }, 90_000);

  it("never tells one user of another's turns, nor lets them subscribe to another's conversation", async () => {
    const [a, b, c] = urls;
    const aliceSession = await openSession(a, alice);
    const bobSession = await openSession(b, bob);
    // The same thread id for both: two different conversations.
    const thread = `t-${randomUUID()}`;
    const sentinel = `s-${randomUUID()}`;
    await chat(a, aliceSession, thread);
    await chat(b, bobSession, thread);
    await chat(b, bobSession, sentinel);
    expect(await subscribe(b, bobSession, thread)).toHaveProperty("result");
    expect(await subscribe(c, bobSession, sentinel)).toHaveProperty("result");
    const alicesKey = conversationKey("user:alice", thread);
    const refused = await rpc(c, bobSession, "resources/subscribe", { uri: `conversation://${alicesKey}` });
    expect(refused.error?.message).toMatch(/not found or is not yours/);
    const bobStream = await standalone(a, bobSession);
    streams.push(bobStream);

    // Alice's turns on her same-named thread, on every instance.
    for (const url of urls) await chat(url, aliceSession, thread);
    await chat(c, bobSession, sentinel);
    await bobStream.until((messages) => updatesOf(messages, sentinel) >= 1);
    expect(updatesOf(bobStream.messages, thread)).toBe(0);
    expect(JSON.stringify(bobStream.messages)).not.toContain(alicesKey);
  }, 90_000);
});
