import { randomBytes } from "node:crypto";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  BYTEA_ARRAY_OID,
  checkpointTypeParsers,
  parseByteaArray,
  scanByteaArray,
} from "../src/pg-bytea-array.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const libraryParser = pg.types.getTypeParser(BYTEA_ARRAY_OID as never, "text") as (text: string) => unknown;

/** The text Postgres sends for a bytea[] of these elements (bytea_output=hex). */
function arrayText(value: unknown): string {
  if (value === null) return "NULL";
  if (Buffer.isBuffer(value)) return `"\\\\x${value.toString("hex")}"`;
  return `{${(value as unknown[]).map(arrayText).join(",")}}`;
}

describe("parseByteaArray", () => {
  it("gives what the library parser gives: one and two dimensions, NULLs, empty arrays and empty blobs", () => {
    const samples: unknown[] = [
      [],
      [Buffer.from("hi")],
      [Buffer.alloc(0), null, randomBytes(300)],
      [
        [Buffer.from("messages"), Buffer.from("json"), randomBytes(2_000)],
        [Buffer.from("summary"), Buffer.from("empty"), Buffer.alloc(0)],
      ],
      [[null, Buffer.from([0, 255])]],
    ];
    for (const sample of samples) {
      const text = arrayText(sample);
      // The one-pass parse takes it (the library parser is not what answers) and agrees with it.
      expect(scanByteaArray(text)).toEqual(sample);
      expect(parseByteaArray(text)).toEqual(libraryParser(text));
      expect(parseByteaArray(text)).toEqual(sample);
    }
  });

  it("hands any other form to the library parser unchanged (escape output, bounds, malformed hex)", () => {
    for (const text of [
      '{"abc","\\\\001"}',
      '[0:1]={"\\\\x01","\\\\x02"}',
      '{"\\\\x012"}',
      '{"\\\\x01"',
      '{"\\\\x01"}trailing',
    ]) {
      expect(scanByteaArray(text)).toBeUndefined();
      let expected: unknown;
      try {
        expected = libraryParser(text);
      } catch (error) {
        expect(() => parseByteaArray(text)).toThrow((error as Error).message);
        continue;
      }
      expect(parseByteaArray(text)).toEqual(expected);
    }
  });
});

const postgresUp = await requireService({ name: "Postgres", url: DATABASE_URL });

describe.skipIf(!postgresUp)("the checkpointer pool's bytea[] parser against Postgres", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, types: checkpointTypeParsers });
  afterAll(() => pool.end());

  it("reads bytea[][] as the checkpointer's query builds it (array_agg of arrays), NULLs included", async () => {
    const blobs = [randomBytes(5_000), Buffer.alloc(0), randomBytes(17)];
    const { rows } = await pool.query<{ values: unknown; one: unknown }>(
      `SELECT (SELECT array_agg(array[b, 'type'::bytea, NULL::bytea]) FROM unnest($1::bytea[]) AS b) AS values,
              ARRAY['\\x00ff'::bytea] AS one`,
      [blobs],
    );
    expect(rows[0]?.values).toEqual(blobs.map((blob) => [blob, Buffer.from("type"), null]));
    expect(rows[0]?.one).toEqual([Buffer.from([0, 255])]);
  });
});
