import { afterAll, beforeAll } from "vitest";
import { type FgaDevServer, startFgaDevServer } from "../src/dev-server/server.ts";
import { createAuthorizer } from "../src/index.ts";
import { describeAuthorizerContract } from "./contract/authorizer-contract.ts";

// Both backends through the public factory, so the resilience layer and the
// decision cache are part of what the contract checks.
describeAuthorizerContract("embedded engine", (model) => createAuthorizer({ backend: "embedded", model }));

let server: FgaDevServer;
beforeAll(async () => {
  server = await startFgaDevServer({ token: "contract-token" });
});
afterAll(async () => {
  await server.close();
});

describeAuthorizerContract(
  "OpenFGA API via @openfga/sdk, served by the project's own dev server (not a real OpenFGA; shapes pinned by openfga-api-contract.test.ts)",
  (model) => createAuthorizer({ backend: "openfga", apiUrl: server.url, model, token: "contract-token" }),
);
