import { createCheckpointer } from "../src/index.ts";
import { describeAgentContract } from "./agent-contract.ts";

// One process, one saver: reopening the in-memory store means handing out the same instance.
const memoryHarness = async () => {
  const saver = await createCheckpointer({ backend: "memory" });
  return { open: async () => saver, closeAll: () => saver.close() };
};

describeAgentContract("the in-memory checkpointer", memoryHarness);

// Every agent of the suite has its own cache over the one saver. That is exact here because no test
// reads a thread through one agent after another agent wrote it: each write is followed by reads
// from the writing agent or from a new one, as in a process with a single agent (ADR 0055).
describeAgentContract("the in-memory checkpointer with a conversation cache", memoryHarness, {
  agentOptions: { conversationCache: { maxThreads: 4, maxChars: 10_000 } },
});
