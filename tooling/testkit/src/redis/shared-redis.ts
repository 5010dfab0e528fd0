import { randomUUID } from "node:crypto";
import { createClient } from "@redis/client";

/** The Redis every engineer and CI job shares; tests keep to keys of their own under it. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A connected client for looking at (or cleaning) what a test wrote; errors are the test's to see. */
export async function rawRedisClient(url = REDIS_URL) {
  const client = createClient({ url });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/**
 * Key prefixes for one test run: every call to `uniquePrefix` is a fresh prefix under one random
 * root, so concurrent runs (other engineers, other packages) never collide, and `cleanup`
 * deletes exactly this run's keys.
 */
export function redisKeyspace(label: string) {
  const runRoot = `test:${label}:${randomUUID().slice(0, 8)}:`;
  let counter = 0;
  return {
    runRoot,
    uniquePrefix(): string {
      counter++;
      return `${runRoot}${counter}:`;
    },
    async cleanup(url = REDIS_URL): Promise<void> {
      const client = await rawRedisClient(url);
      try {
        for await (const keys of client.scanIterator({ MATCH: `${runRoot}*`, COUNT: 1000 })) {
          if (keys.length > 0) await client.del(keys);
        }
      } finally {
        client.destroy();
      }
    },
  };
}
