import { randomUUID } from "node:crypto";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { createClient } from "@redis/client";
import { createSessionStore, type SessionStore, type SessionStoreOptions } from "../src/index.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const redisAvailable = await requireService({ name: "redis", url: REDIS_URL });

/** Every store gets its own prefix under one per-run root, which `cleanup` removes afterwards. */
const runRoot = `test:session:${randomUUID().slice(0, 8)}:`;
let counter = 0;

export function uniquePrefix(): string {
  counter++;
  return `${runRoot}${counter}:`;
}

export function openRedisStore(
  options?: SessionStoreOptions,
  keyPrefix = uniquePrefix(),
): Promise<SessionStore> {
  return createSessionStore({ backend: "redis", url: REDIS_URL, keyPrefix }, options);
}

export async function rawClient(url = REDIS_URL) {
  const client = createClient({ url });
  client.on("error", () => {});
  await client.connect();
  return client;
}

export async function cleanup(): Promise<void> {
  if (!redisAvailable) return;
  const client = await rawClient();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${runRoot}*`, COUNT: 1000 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    client.destroy();
  }
}
