import { randomBytes } from "node:crypto";
import pg from "pg";
import { type Authorizer, createAuthorizer } from "../../src/index.ts";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Tuple tables of their own (unique name per call), so concurrent runs on the
 * shared database cannot collide; each `open()` stands for another process.
 */
export function postgresTuples(options: { changeLogRetention?: number } = {}) {
  const table = `authz_test_${randomBytes(6).toString("hex")}`;
  const opened: Authorizer[] = [];
  return {
    table,
    async open(model: string): Promise<Authorizer> {
      const authorizer = await createAuthorizer({
        backend: "embedded",
        model,
        storage: { backend: "postgres", connectionString: DATABASE_URL, table, poolSize: 2, ...options },
      });
      opened.push(authorizer);
      return authorizer;
    },
    async query<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      try {
        return (await client.query<T>(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
    async drop() {
      await Promise.allSettled(opened.map((authorizer) => authorizer.close()));
      await this.query(`DROP TABLE IF EXISTS "${table}", "${table}_changes", "${table}_version"`);
    },
  };
}
