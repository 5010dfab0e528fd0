import { randomBytes } from "node:crypto";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { type ClosableCheckpointer, createCheckpointer } from "../src/index.ts";
import { describeAgentContract } from "./agent-contract.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const available = await requireService({ name: "Postgres", url: DATABASE_URL });

describeAgentContract(
  "the Postgres checkpointer",
  async () => {
    const schema = `agent_contract_${randomBytes(6).toString("hex")}`;
    const opened: ClosableCheckpointer[] = [];
    return {
      async open() {
        const saver = await createCheckpointer({
          backend: "postgres",
          connectionString: DATABASE_URL,
          schema,
          poolSize: 4,
        });
        opened.push(saver);
        return saver;
      },
      async closeAll() {
        await Promise.all(opened.map((saver) => saver.close()));
        const client = new pg.Client({ connectionString: DATABASE_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  },
  { skip: !available },
);
