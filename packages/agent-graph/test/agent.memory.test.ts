import { createCheckpointer } from "../src/index.ts";
import { describeAgentContract } from "./agent-contract.ts";

describeAgentContract("the in-memory checkpointer", async () => {
  // One process, one saver: reopening the in-memory store means handing out the same instance.
  const saver = await createCheckpointer({ backend: "memory" });
  return { open: async () => saver, closeAll: () => saver.close() };
});
