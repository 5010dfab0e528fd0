import { requireService } from "@mcp-langgraph/tooling/integration";
import { describeAuthorizerContract } from "./contract/authorizer-contract.ts";
import { DATABASE_URL, postgresTuples } from "./support/postgres.ts";

const available = await requireService({ name: "Postgres", url: DATABASE_URL });

// The embedded engine over durable Postgres tuple storage, through the public factory;
// each test gets tables of its own, dropped when the suite ends.
const used: Array<ReturnType<typeof postgresTuples>> = [];
describeAuthorizerContract(
  "embedded engine, Postgres tuple storage",
  (model) => {
    const tables = postgresTuples();
    used.push(tables);
    return tables.open(model);
  },
  {
    skip: !available,
    cleanUp: async () => {
      await Promise.all(used.map((tables) => tables.drop()));
    },
  },
);
