import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyLimit } from "../src/body-limit.ts";

let server: ReturnType<typeof serve>;
let url: string;

beforeAll(async () => {
  const app = new Hono();
  app.use(
    "*",
    bodyLimit(16, (c) => c.json({ error: "too_large" }, 413)),
  );
  app.post("/echo", async (c) => c.text(await c.req.text()));
  app.get("/echo", (c) => c.text("no body"));
  server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** A body sent with chunked transfer encoding: no Content-Length for the limit to read. */
const chunked = (text: string) =>
  fetch(url, {
    method: "POST",
    body: new ReadableStream({
      start(controller) {
        for (const part of text.match(/.{1,4}/g) ?? []) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    }),
    duplex: "half",
  } as RequestInit);

describe("bodyLimit", () => {
  it("passes bodies within the limit, declared or chunked, and requests without a body", async () => {
    expect(await (await fetch(url, { method: "POST", body: "x".repeat(16) })).text()).toBe("x".repeat(16));
    expect(await (await chunked("y".repeat(12))).text()).toBe("y".repeat(12));
    expect(await (await fetch(url)).text()).toBe("no body");
  });

  it("refuses a body whose declared length is over the limit", async () => {
    expect((await fetch(url, { method: "POST", body: "x".repeat(17) })).status).toBe(413);
  });

  it("refuses a chunked body once it grows over the limit", async () => {
    expect((await chunked("z".repeat(40))).status).toBe(413);
  });
});
