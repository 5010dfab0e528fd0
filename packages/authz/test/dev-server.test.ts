import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FgaDevServer, startFgaDevServer } from "../src/dev-server/index.ts";

describe("the project's OpenFGA dev server: bad requests get OpenFGA-shaped errors and change nothing", () => {
  let server: FgaDevServer;
  let storeId: string;

  beforeAll(async () => {
    server = await startFgaDevServer({ maxBodyBytes: 4096 });
    const response = await fetch(`${server.url}/stores`, {
      method: "POST",
      body: JSON.stringify({ name: "t" }),
    });
    storeId = ((await response.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await server.close();
  });

  const post = (path: string, body: string) => fetch(`${server.url}${path}`, { method: "POST", body });

  it("answers malformed JSON with 400 validation_error", async () => {
    const response = await post(`/stores/${storeId}/check`, "{not json");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "validation_error" });
  });

  it("answers a write whose tuple_keys is not an array with 400", async () => {
    const response = await post(`/stores/${storeId}/write`, JSON.stringify({ writes: { tuple_keys: "x" } }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "validation_error" });
  });

  it("answers an oversized body with 413", async () => {
    const response = await post(`/stores/${storeId}/write`, JSON.stringify({ pad: "x".repeat(5000) }));
    expect(response.status).toBe(413);
  });

  it("answers an unknown route with 404 and an unknown store with 404 store_id_not_found", async () => {
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
    const missing = await post("/stores/01ARZ3NDEKTSV4RRFFQ69G5FAV/check", "{}");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "store_id_not_found" });
  });

  it("reports a check before any model as latest_authorization_model_not_found", async () => {
    const response = await post(`/stores/${storeId}/check`, JSON.stringify({ tuple_key: {} }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "latest_authorization_model_not_found" });
  });

  it("rejects an invalid model and keeps the store without one", async () => {
    const response = await post(
      `/stores/${storeId}/authorization-models`,
      JSON.stringify({
        schema_version: "1.1",
        type_definitions: [{ type: "doc", relations: { x: { computedUserset: { relation: "nope" } } } }],
      }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_authorization_model" });
    const models = await fetch(`${server.url}/stores/${storeId}/authorization-models`);
    expect(await models.json()).toMatchObject({ authorization_models: [] });
  });

  it("requires the bearer token when one is configured", async () => {
    const guarded = await startFgaDevServer({ token: "s3cret" });
    try {
      expect((await fetch(`${guarded.url}/stores`)).status).toBe(401);
      const ok = await fetch(`${guarded.url}/stores`, { headers: { authorization: "Bearer s3cret" } });
      expect(ok.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
