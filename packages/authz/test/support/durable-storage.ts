import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { Authorizer } from "../../src/index.ts";
import { CONTRACT_MODEL } from "../contract/authorizer-contract.ts";

/**
 * Durable tuple storage (SQLite or Postgres) keeps a tuple across a restart: written by one
 * authorizer that is then closed, it is checked and holds its claim in the next one.
 */
export async function expectTuplesKeptAcrossRestart(storage: {
  open(model: string): Promise<Authorizer>;
}): Promise<void> {
  const first = await storage.open(CONTRACT_MODEL);
  const tuple = { user: "user:eve", relation: "owner", object: `document:${randomUUID()}` };
  await first.writeTuples([tuple]);
  await first.close();
  const second = await storage.open(CONTRACT_MODEL);
  expect(await second.check(tuple)).toBe(true);
  expect(await second.claimTuple({ ...tuple, user: "user:mallory" })).toEqual({
    claimed: false,
    tuples: [tuple],
  });
}

/** Fay gets three new documents, then loses the first: four changes, more than a log of one keeps. */
export async function writeThreeDeleteOne(writer: Authorizer): Promise<string[]> {
  const objects = Array.from({ length: 3 }, () => `document:${randomUUID()}`);
  for (const object of objects) await writer.writeTuples([{ user: "user:fay", relation: "owner", object }]);
  await writer.deleteTuples([{ user: "user:fay", relation: "owner", object: objects[0]! }]);
  return objects;
}

/** After `writeThreeDeleteOne`: `reader` lists the two kept documents and denies the first. */
export async function expectCaughtUp(reader: Authorizer, objects: string[]): Promise<void> {
  expect(
    (await reader.listObjects({ user: "user:fay", relation: "owner", type: "document" })).sort(),
  ).toEqual(objects.slice(1).sort());
  expect(await reader.check({ user: "user:fay", relation: "owner", object: objects[0]! })).toBe(false);
}
