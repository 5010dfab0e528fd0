import { OwnRedisServer } from "@mcp-langgraph/testkit/redis";
import { createClient } from "redis";
import { afterAll, beforeAll } from "vitest";

/**
 * For a describe block on a Redis outage: a redis-server of the suite's own (the testkit's spawner),
 * so stopping it never touches the shared one, and clients that keep retrying while it is down.
 */
export function redisToStop() {
  let server: OwnRedisServer | undefined;
  beforeAll(async () => {
    server = await OwnRedisServer.start();
  });
  afterAll(async () => {
    await server?.dispose();
  });
  const started = () => {
    if (!server) throw new Error("redisToStop(): the server starts in beforeAll");
    return server;
  };
  return {
    /** A connected client; its reconnection errors are expected once the server stops, so ignored. */
    async connect() {
      const client = createClient({ url: started().url, socket: { reconnectStrategy: 100 } });
      client.on("error", () => {});
      await client.connect();
      return client;
    },
    stop: () => started().stop(),
  };
}
