import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadVectors, VECTORS_DIR, vectorsAvailable } from "./vectors/load.ts";
import { type AssertionResult, runVectorTest } from "./vectors/run.ts";

// OpenFGA's own check / list-objects vectors, run against the embedded engine.
// Assertion counts per file, as the corpus's README states them (list-users assertions are out of scope).
const FILES: Record<string, { check: number; listObjects: number }> = {
  "consolidated_1_1_tests.yaml": { check: 360, listObjects: 270 },
  "abac_tests.yaml": { check: 125, listObjects: 75 },
};

const expectedFailures: Record<string, string> = JSON.parse(
  readFileSync(new URL("./vectors/expected-failures.json", import.meta.url), "utf8"),
).failures;

const inCi = process.env.CI === "true" || process.env.CI === "1";

for (const [file, expectedCounts] of Object.entries(FILES)) {
  const available = vectorsAvailable(file);
  if (!available) {
    if (inCi) throw new Error(`OpenFGA test vectors missing at ${VECTORS_DIR}${file}; CI requires them`);
    console.warn(`[skip] OpenFGA test vectors not found at ${VECTORS_DIR}${file}; skipping that suite`);
  }

  describe.skipIf(!available)(`OpenFGA vectors: ${file}`, () => {
    const tests = available ? loadVectors(file) : [];
    const all: AssertionResult[] = [];

    afterAll(() => {
      const line = (kind: AssertionResult["kind"]) => {
        const ofKind = all.filter((result) => result.kind === kind);
        return `${ofKind.filter((result) => result.passed).length}/${ofKind.length} ${kind}`;
      };
      process.stdout.write(`OpenFGA vectors ${file}: passed ${line("check")}, ${line("listObjects")}\n`);
    });

    it("reads every check and list-objects assertion of the file", () => {
      const stages = tests.flatMap((test) => test.stages);
      expect({
        check: stages.reduce((sum, stage) => sum + (stage.checkAssertions?.length ?? 0), 0),
        listObjects: stages.reduce((sum, stage) => sum + (stage.listObjectsAssertions?.length ?? 0), 0),
      }).toEqual(expectedCounts);
    });

    for (const test of tests) {
      it(test.name, () => {
        const results = runVectorTest(file, test);
        all.push(...results);
        const unexpected = results
          .filter((result) => result.passed === result.id in expectedFailures)
          .map((result) =>
            result.passed
              ? `${result.id}: passes now; remove it from expected-failures.json`
              : `${result.id}: expected ${JSON.stringify(result.expected)}, got ${JSON.stringify(result.actual)}`,
          );
        expect(unexpected).toEqual([]);
      });
    }
  });
}
