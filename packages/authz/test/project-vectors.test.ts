import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadVectorFile } from "./vectors/load.ts";
import { runVectorTest } from "./vectors/run.ts";

// The project's own vectors, in OpenFGA's format, for behaviour OpenFGA's corpus does not pin
// (each file says which OpenFGA / cel-go behaviour it follows). Every assertion must pass.
const PROJECT_DIR = new URL("./vectors/project/", import.meta.url);
const files = readdirSync(PROJECT_DIR).filter((file) => file.endsWith(".yaml"));

describe("project vectors", () => {
  it("finds the vector files", () => {
    expect(files).toContain("null-comparisons.yaml");
  });

  for (const file of files) {
    describe(file, () => {
      for (const test of loadVectorFile(new URL(file, PROJECT_DIR))) {
        it(test.name, () => {
          const results = runVectorTest(file, test);
          expect(results.length).toBeGreaterThan(0);
          expect(
            results
              .filter((result) => !result.passed)
              .map((r) => `${r.id}: expected ${JSON.stringify(r.expected)}, got ${JSON.stringify(r.actual)}`),
          ).toEqual([]);
        });
      }
    });
  }
});
