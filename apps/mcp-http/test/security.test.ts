import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { hostAndOriginGuard } from "../src/security.ts";

/** Status the guard gives a request with these headers (200 when it passes it on). */
function guarded(options: { allowedHosts: string[]; allowedOrigins: string[] }) {
  const app = new Hono();
  app.use("*", hostAndOriginGuard(options));
  app.get("/", (c) => c.text("ok"));
  return async (headers: Record<string, string>) => {
    const response = await app.request("http://placeholder/", { headers });
    return { status: response.status, body: response.status === 403 ? await response.json() : undefined };
  };
}

describe("Host and Origin guard", () => {
  const loopback = guarded({ allowedHosts: ["localhost", "127.0.0.1", "[::1]"], allowedOrigins: [] });

  it.each([
    [{ host: "localhost:3000" }, 200],
    [{ host: "LOCALHOST" }, 200],
    [{ host: "127.0.0.1" }, 200],
    [{ host: "[::1]:3000" }, 200],
    [{ host: "evil.example:3000" }, 403],
    [{ host: "localhost.evil.example" }, 403],
    [{ host: "127.0.0.1", origin: "http://localhost:5173" }, 200],
    [{ host: "127.0.0.1", origin: "http://[::1]:5173" }, 200],
    [{ host: "127.0.0.1", origin: "https://evil.example" }, 403],
    [{ host: "127.0.0.1", origin: "null" }, 403],
    [{ host: "127.0.0.1", origin: "" }, 403],
    [{ host: "127.0.0.1", origin: "not a url" }, 403],
  ])("on a loopback bind answers %j with %i", async (headers, status) => {
    expect((await loopback(headers)).status).toBe(status);
  });

  it("names what it refused without echoing the header", async () => {
    expect((await loopback({ host: "evil.example" })).body).toEqual({
      error: "forbidden",
      message: "Host not allowed",
    });
    expect((await loopback({ host: "localhost", origin: "https://evil.example" })).body).toEqual({
      error: "forbidden",
      message: "Origin not allowed",
    });
  });

  // Regression: ALLOWED_HOSTS=::1 (no brackets) refused every request, as Host headers bracket IPv6.
  it("accepts an IPv6 host listed without brackets", async () => {
    const check = guarded({ allowedHosts: ["::1"], allowedOrigins: [] });
    expect((await check({ host: "[::1]:8080" })).status).toBe(200);
    expect((await check({ host: "[::2]:8080" })).status).toBe(403);
  });

  it("with an origin list, takes listed origins (scheme, host and port) and nothing else", async () => {
    const check = guarded({ allowedHosts: [], allowedOrigins: ["https://App.example.com/"] });
    expect((await check({ host: "anything", origin: "https://app.example.com" })).status).toBe(200);
    expect((await check({ host: "anything", origin: "http://app.example.com" })).status).toBe(403);
    expect((await check({ host: "anything", origin: "https://app.example.com:8443" })).status).toBe(403);
    expect((await check({ host: "anything" })).status).toBe(200);
  });

  it("with neither list, passes any Host and refuses any Origin", async () => {
    const check = guarded({ allowedHosts: [], allowedOrigins: [] });
    expect((await check({ host: "anything.example" })).status).toBe(200);
    expect((await check({ host: "anything.example", origin: "https://anything.example" })).status).toBe(403);
  });
});
