import { randomBytes } from "node:crypto";
import { HumanMessage } from "@langchain/core/messages";
import {
  type Checkpoint,
  type CheckpointTuple,
  ERROR,
  emptyCheckpoint,
  INTERRUPT,
  uuid6,
} from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OneStatementPostgresSaver } from "../src/one-statement-postgres-saver.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const postgresUp = await requireService({ name: "Postgres", url: DATABASE_URL });

/** What a tuple says, without the objects' identities. */
const comparable = (tuple: CheckpointTuple | undefined) =>
  tuple && {
    config: tuple.config,
    parentConfig: tuple.parentConfig,
    checkpoint: tuple.checkpoint,
    metadata: tuple.metadata,
    pendingWrites: tuple.pendingWrites,
  };

describe.skipIf(!postgresUp)("OneStatementPostgresSaver writes what the library's saver writes", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const suffix = randomBytes(6).toString("hex");
  const schemas = { library: `lib_${suffix}`, ours: `one_${suffix}` };
  let library: PostgresSaver;
  let ours: OneStatementPostgresSaver;

  beforeAll(async () => {
    library = new PostgresSaver(pool, undefined, { schema: schemas.library });
    ours = new OneStatementPostgresSaver(pool, schemas.ours);
    await library.setup();
    await ours.setup();
  });
  afterAll(async () => {
    for (const schema of Object.values(schemas))
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  /** The same steps on either saver: checkpoints with blobs, empty channels, writes, conflicts. */
  const ids = [uuid6(-1), uuid6(-1)] as const;
  const stamped = emptyCheckpoint();
  async function script(saver: PostgresSaver) {
    const thread = { configurable: { thread_id: "t1", checkpoint_ns: "" } };
    const first: Checkpoint = {
      ...stamped,
      id: ids[0],
      channel_values: { messages: [new HumanMessage({ content: "hello", id: "m1" })], summary: "s" },
      channel_versions: { messages: 1, summary: 1, gone: 1 },
    };
    // `gone` has a version but no value: stored as an empty blob.
    const firstConfig = await saver.put(
      thread,
      first,
      { source: "input", step: -1, parents: {} },
      {
        messages: 1,
        summary: 1,
        gone: 1,
      },
    );
    await saver.putWrites(
      firstConfig,
      [["messages", [new HumanMessage({ content: "next", id: "m2" })]]],
      "task-a",
    );
    // Special channels have fixed indexes: the library upserts them, and the last write of one wins.
    await saver.putWrites(
      firstConfig,
      [
        [ERROR, { message: "first" }],
        [ERROR, { message: "second" }],
        [INTERRUPT, { value: "ask" }],
      ],
      "task-b",
    );
    // Ordinary writes insert: a write to the same task and index again changes nothing.
    await saver.putWrites(
      firstConfig,
      [
        ["messages", "kept"],
        ["other", 1],
      ],
      "task-c",
    );
    await saver.putWrites(firstConfig, [["messages", "ignored"]], "task-c");
    await saver.putWrites(firstConfig, [], "task-d");
    const second: Checkpoint = {
      ...first,
      id: ids[1],
      channel_values: { messages: [new HumanMessage({ content: "hello", id: "m1" })], summary: "t" },
      channel_versions: { messages: 2, summary: 2, gone: 1 },
    };
    const secondConfig = await saver.put(
      firstConfig,
      second,
      { source: "loop", step: 0, parents: {} },
      {
        messages: 2,
        summary: 2,
      },
    );
    // The same checkpoint again updates its metadata (the blobs it names exist already).
    await saver.put(firstConfig, second, { source: "loop", step: 0, parents: {}, again: true } as never, {
      messages: 2,
    });
    return { firstConfig, secondConfig };
  }

  it("leaves the same checkpoints, blobs and pending writes behind", async () => {
    const fromLibrary = await script(library);
    const fromOurs = await script(ours);
    expect(fromOurs.secondConfig).toEqual(fromLibrary.secondConfig);
    for (const config of [fromLibrary.firstConfig, fromLibrary.secondConfig]) {
      const expected = comparable(await library.getTuple(config));
      expect(expected).toBeDefined();
      expect(comparable(await ours.getTuple(config))).toEqual(expected);
    }
    const first = await ours.getTuple(fromOurs.firstConfig);
    expect(
      first?.pendingWrites?.find(([task, channel]) => task === "task-b" && channel === ERROR)?.[2],
    ).toEqual({
      message: "second",
    });
    expect(first?.pendingWrites?.filter(([task]) => task === "task-c").map(([, , value]) => value)).toEqual([
      "kept",
      1,
    ]);
    const latest = await ours.getTuple({ configurable: { thread_id: "t1", checkpoint_ns: "" } });
    expect(latest?.checkpoint.channel_values).toMatchObject({ summary: "t" });
    expect(latest?.metadata).toMatchObject({ again: true });
    const rows = async (schema: string, table: string) =>
      (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".${table}`)).rows[0]?.n;
    for (const table of ["checkpoints", "checkpoint_blobs", "checkpoint_writes"]) {
      expect(await rows(schemas.ours, table), table).toBe(await rows(schemas.library, table));
    }
  });
});
