#!/usr/bin/env node
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startFgaDevServer } from "../dev-server/server.ts";
import { compileModel } from "../engine/model.ts";
import { loadProjectModel } from "../project-model.ts";

const USAGE = `mcp-langgraph-fga-dev: an in-memory server speaking OpenFGA's HTTP API (for development and tests)

Options:
  --host <address>     listen address (default 127.0.0.1)
  --port <number>      listen port (default 8080; 0 picks a free one)
  --token <token>      require "Authorization: Bearer <token>" on every request
  --model <file.fga>   create a store with this model at start-up
  --project-model      create a store with the mcp-langgraph project model at start-up
  --help               show this text
`;

async function main() {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8080" },
      token: { type: "string" },
      model: { type: "string" },
      "project-model": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`invalid --port '${values.port}'`);
  // Read and validate the model before listening, so a bad one never leaves a half-started server.
  const dsl = values.model
    ? await readFile(values.model, "utf8")
    : values["project-model"]
      ? await loadProjectModel()
      : undefined;
  const model = dsl === undefined ? undefined : compileModel(dsl).json;
  const server = await startFgaDevServer({
    host: values.host,
    port,
    ...(values.token ? { token: values.token } : {}),
    logger: {
      debug: () => {},
      info: () => {},
      warn: (fields, message) => process.stderr.write(`${message} ${JSON.stringify(fields)}\n`),
      error: (fields, message) => process.stderr.write(`${message} ${JSON.stringify(fields)}\n`),
    },
  });
  process.stdout.write(`OpenFGA dev server listening on ${server.url}\n`);
  if (model !== undefined) {
    const store = server.stores.create("mcp-langgraph-dev");
    const modelId = store.writeModel(model);
    process.stdout.write(`store id: ${store.info.id}\nauthorization model id: ${modelId}\n`);
  }
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`mcp-langgraph-fga-dev: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
});
