import { afterAll, beforeAll } from "vitest";
import { type FgaDevServer, startFgaDevServer } from "../src/dev-server/server.ts";
import { EmbeddedAuthorizer } from "../src/embedded.ts";
import { OpenFgaAuthorizer } from "../src/openfga.ts";
import { describeAuthorizerContract } from "./contract/authorizer-contract.ts";

describeAuthorizerContract("embedded engine", async (model) => new EmbeddedAuthorizer(model));

let server: FgaDevServer;
beforeAll(async () => {
  server = await startFgaDevServer({ token: "contract-token" });
});
afterAll(async () => {
  await server.close();
});

describeAuthorizerContract("OpenFGA API via @openfga/sdk (loopback dev server)", (model) =>
  OpenFgaAuthorizer.connect({ apiUrl: server.url, model, token: "contract-token" }),
);
