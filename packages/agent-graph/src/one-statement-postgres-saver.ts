import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
  type PendingWrite,
  WRITES_IDX_MAP,
} from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type pg from "pg";

/** A Uint8Array as node-postgres sends bytea (it serialises Buffers in arrays as `\x…` hex). */
const asBuffer = (bytes: Uint8Array | undefined): Buffer | null =>
  bytes === undefined ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * `PostgresSaver` whose `put` and `putWrites` are one statement each instead of a transaction of
 * one statement per row (BEGIN, each blob or write, the checkpoint, COMMIT: five to seven round
 * trips per step, about thirty per agent turn). The rows are the library's own (`_dumpBlobs`,
 * `_dumpWrites`), sent as arrays and unnested; a single statement is atomic on its own, and each
 * ON CONFLICT rule is the library's. Reads are the library's unchanged.
 */
export class OneStatementPostgresSaver extends PostgresSaver {
  readonly #pool: pg.Pool;
  readonly #putSql: string;
  readonly #upsertWritesSql: string;
  readonly #insertWritesSql: string;

  constructor(pool: pg.Pool, schema: string) {
    super(pool, undefined, { schema });
    this.#pool = pool;
    // `schema` is checked to be a plain identifier by the caller; the tables are the library's.
    const table = (name: string) => `"${schema}".${name}`;
    this.#putSql = `WITH blobs AS (
        INSERT INTO ${table("checkpoint_blobs")} (thread_id, checkpoint_ns, channel, version, type, blob)
        SELECT $1, $2, b.channel, b.version, b.type, b.blob
        FROM unnest($7::text[], $8::text[], $9::text[], $10::bytea[]) AS b(channel, version, type, blob)
        ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
      )
      INSERT INTO ${table("checkpoints")} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
      VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id)
      DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata`;
    const insertWrites = `INSERT INTO ${table("checkpoint_writes")} (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob)
      SELECT $1, $2, $3, $4, w.idx, w.channel, w.type, w.blob
      FROM unnest($5::int[], $6::text[], $7::text[], $8::bytea[]) AS w(idx, channel, type, blob)
      ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)`;
    this.#upsertWritesSql = `${insertWrites}
      DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob`;
    this.#insertWritesSql = `${insertWrites} DO NOTHING`;
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    if (config.configurable === undefined) throw new Error(`Missing "configurable" field in "config" param`);
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable;
    const [blobs, serializedMetadata] = await Promise.all([
      this._dumpBlobs(thread_id, checkpoint_ns, checkpoint.channel_values, newVersions),
      this._dumpMetadata(metadata),
    ]);
    await this.#pool.query(this.#putSql, [
      thread_id,
      checkpoint_ns,
      checkpoint.id,
      checkpoint_id,
      this._dumpCheckpoint(checkpoint),
      serializedMetadata,
      blobs.map((blob) => blob[2]),
      blobs.map((blob) => blob[3]),
      blobs.map((blob) => blob[4]),
      blobs.map((blob) => asBuffer(blob[5])),
    ]);
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
    // The library upserts when every write is a special channel (its index is fixed), else inserts.
    const upsert = writes.every(([channel]) => channel in WRITES_IDX_MAP);
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable ?? {};
    const dumped = await this._dumpWrites(thread_id, checkpoint_ns, checkpoint_id, taskId, writes);
    // One statement may not touch a row twice: keep what the library's row-by-row statements would
    // leave (the last of a repeated index when upserting, the first when inserting).
    const byIndex = new Map<number, (typeof dumped)[number]>();
    for (const row of dumped) if (upsert || !byIndex.has(row[4])) byIndex.set(row[4], row);
    const rows = [...byIndex.values()];
    if (rows.length === 0) return;
    await this.#pool.query(upsert ? this.#upsertWritesSql : this.#insertWritesSql, [
      thread_id,
      checkpoint_ns,
      checkpoint_id,
      taskId,
      rows.map((row) => row[4]),
      rows.map((row) => row[5]),
      rows.map((row) => row[6]),
      rows.map((row) => asBuffer(row[7])),
    ]);
  }
}
