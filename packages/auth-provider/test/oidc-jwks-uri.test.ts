import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalProvider, createOidcProvider, type LocalProvider } from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

// The stdio app's case: verify a token from the HTTP app's local issuer using only its JWKS URL.
describe("OIDC verifier with a JWKS URL instead of discovery", () => {
  let server: Server;
  let base: string;
  let local: LocalProvider;
  let requests: string[];

  beforeAll(async () => {
    requests = [];
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === "/.well-known/jwks.json") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(local.jwks()));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    local = await createLocalProvider({
      issuer: base,
      audience: `${base}/mcp`,
      users: [{ username: "dev", password: "dev-password", roles: ["user"] }],
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("verifies the local issuer's EdDSA tokens without any discovery request", async () => {
    const verifier = await createOidcProvider({
      issuer: base,
      audience: `${base}/mcp`,
      jwksUri: `${base}/.well-known/jwks.json`,
    });
    const { accessToken } = await local.authenticate("dev", "dev-password");
    expect(await verifier.verifyToken(accessToken)).toMatchObject({ userId: "user:dev", roles: ["user"] });
    expect(requests).toEqual(["/.well-known/jwks.json"]);
    await expectAuthError(verifier.refresh("x"), "NOT_SUPPORTED");
  });

  it("rejects a JWKS URL on plain http to a non-loopback host", async () => {
    await expectAuthError(
      createOidcProvider({ issuer: base, audience: "a", jwksUri: "http://jwks.example/keys" }),
      "AUTH_CONFIG",
    );
  });
});
