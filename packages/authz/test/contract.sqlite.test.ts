import { describeAuthorizerContract } from "./contract/authorizer-contract.ts";
import { sqliteTuples } from "./support/sqlite.ts";

// The embedded engine over durable SQLite tuple storage, through the public factory; each test
// gets a file of its own in a temporary directory, removed when the suite ends.
const used: Array<ReturnType<typeof sqliteTuples>> = [];
describeAuthorizerContract(
  "embedded engine, SQLite tuple storage",
  (model) => {
    const file = sqliteTuples();
    used.push(file);
    return file.open(model);
  },
  {
    cleanUp: async () => {
      await Promise.all(used.map((file) => file.drop()));
    },
  },
);
