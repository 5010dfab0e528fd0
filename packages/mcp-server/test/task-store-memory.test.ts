import { expect, it } from "vitest";
import { createMemoryTaskStore } from "../src/index.ts";
import { runTaskStoreContract } from "./task-store-contract.ts";

runTaskStoreContract("memory", async (limits) => createMemoryTaskStore(limits));

it("refuses limits that make no sense, naming the one at fault", () => {
  expect(() => createMemoryTaskStore({ maxTasksPerUser: 0 })).toThrow(/maxTasksPerUser/);
  expect(() => createMemoryTaskStore({ defaultTtlMs: 10_000, maxTtlMs: 5_000 })).toThrow(/defaultTtlMs/);
  expect(() => createMemoryTaskStore({ maxTtlMs: 30 * 86_400_000 })).toThrow(/maxTtlMs/);
});
