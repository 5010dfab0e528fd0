import { APP_CLIENT, type OidcTestServer, startOidcServer } from "@mcp-langgraph/testkit/oidc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOidcProvider, type OidcProviderOptions } from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

let idp: OidcTestServer;
let plain: OidcTestServer;
beforeAll(async () => {
  [idp, plain] = await Promise.all([startOidcServer(undefined, { revocation: true }), startOidcServer()]);
});
afterAll(() => Promise.all([idp?.close(), plain?.close()]));

const opaqueClient = (server: OidcTestServer, extra: Partial<OidcProviderOptions> = {}) =>
  createOidcProvider({
    issuer: server.issuer,
    audience: server.opaqueResource,
    resource: server.opaqueResource,
    clientId: APP_CLIENT.clientId,
    clientSecret: APP_CLIENT.clientSecret,
    introspection: true,
    cache: false,
    ...extra,
  });

describe("RFC 7009 token revocation at the issuer", () => {
  it("revokes an opaque token: the issuer then reports it inactive", async () => {
    const oidc = await opaqueClient(idp);
    expect(oidc.metadata.revocation_endpoint).toBe(`${idp.issuer}/token/revocation`);
    const { accessToken } = await oidc.clientCredentials({ scopes: ["mcp:tools"] });
    await oidc.verifyToken(accessToken);

    expect(await oidc.revoke(accessToken, { signal: AbortSignal.timeout(5000) })).toBe(true);

    expect(idp.revocations).toContainEqual({ token: accessToken, status: 200 });
    await expectAuthError(oidc.verifyToken(accessToken), "TOKEN_INVALID", "inactive");
  });

  it("sends nothing when the issuer offers no revocation endpoint, or no client is configured", async () => {
    const oidc = await opaqueClient(plain);
    expect(oidc.metadata.revocation_endpoint).toBeUndefined();
    const { accessToken } = await oidc.clientCredentials({ scopes: ["mcp:tools"] });
    expect(await oidc.revoke(accessToken)).toBe(false);
    expect(plain.revocations).toEqual([]);

    const anonymous = await createOidcProvider({ issuer: idp.issuer, audience: idp.resource });
    const before = idp.revocations.length;
    expect(await anonymous.revoke(accessToken)).toBe(false);
    expect(idp.revocations).toHaveLength(before);
  });

  it("refuses a malformed token without calling the issuer, and reports a refused client", async () => {
    const oidc = await opaqueClient(idp);
    const before = idp.revocations.length;
    await expectAuthError(oidc.revoke(""), "TOKEN_INVALID", "malformed");
    expect(idp.revocations).toHaveLength(before);

    const wrongSecret = await createOidcProvider({
      issuer: idp.issuer,
      audience: idp.resource,
      clientId: APP_CLIENT.clientId,
      clientSecret: "not-the-secret",
    });
    await expectAuthError(wrongSecret.revoke("some-token"), "AUTH_UNAVAILABLE", "revocation_refused");
  });
});
