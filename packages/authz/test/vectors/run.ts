import { compileModelJson } from "../../src/engine/model.ts";
import { isAuthzError } from "../../src/index.ts";
import { Engine } from "../../src/internal.ts";
import type { CheckAssertion, ListObjectsAssertion, VectorTest } from "./load.ts";

export type Outcome = { value: unknown } | { errorCode: number | string };

export interface AssertionResult {
  id: string;
  kind: "check" | "listObjects";
  expected: Outcome;
  actual: Outcome;
  passed: boolean;
}

const errorOutcome = (error: unknown): Outcome => ({
  errorCode: isAuthzError(error) ? (error.openfgaCode ?? error.code) : `unexpected: ${String(error)}`,
});

function attempt(operation: () => unknown): Outcome {
  try {
    return { value: operation() };
  } catch (error) {
    return errorOutcome(error);
  }
}

const sameOutcome = (expected: Outcome, actual: Outcome, normalize: (value: unknown) => unknown) =>
  "errorCode" in expected
    ? "errorCode" in actual && actual.errorCode === expected.errorCode
    : "value" in actual &&
      JSON.stringify(normalize(actual.value)) === JSON.stringify(normalize(expected.value));

const sortedList = (value: unknown) => [...((value as string[] | null | undefined) ?? [])].sort();

function expectedOf(assertion: CheckAssertion | ListObjectsAssertion, fallback: unknown): Outcome {
  return assertion.errorCode !== undefined
    ? { errorCode: assertion.errorCode }
    : { value: assertion.expectation ?? fallback };
}

/**
 * Runs one vector test as OpenFGA's own harness does: stages in order against
 * one store (tuples accumulate, the model changes per stage).
 */
export function runVectorTest(file: string, test: VectorTest): AssertionResult[] {
  const results: AssertionResult[] = [];
  let engine: Engine | undefined;
  test.stages.forEach((stage, stageIndex) => {
    const prefix = `${file} › ${test.name} › stage ${stageIndex}`;
    const model = typeof stage.model === "string" ? stage.model : compileModelJson(stage.model);
    if (engine) engine.setModel(model);
    else engine = new Engine(model);
    const current = engine;
    if (stage.tuples?.length) current.write(stage.tuples);
    (stage.checkAssertions ?? []).forEach((assertion, index) => {
      const expected = expectedOf(assertion, false);
      const actual = attempt(() =>
        current.check({
          ...assertion.tuple,
          ...(assertion.context ? { context: assertion.context } : {}),
          ...(assertion.contextualTuples ? { contextualTuples: assertion.contextualTuples } : {}),
        }),
      );
      results.push({
        id: `${prefix} › check ${index}`,
        kind: "check",
        expected,
        actual,
        passed: sameOutcome(expected, actual, (value) => value),
      });
    });
    (stage.listObjectsAssertions ?? []).forEach((assertion, index) => {
      const expected = expectedOf(assertion, []);
      const actual = attempt(() =>
        current.listObjects({
          ...assertion.request,
          ...(assertion.context ? { context: assertion.context } : {}),
          ...(assertion.contextualTuples ? { contextualTuples: assertion.contextualTuples } : {}),
        }),
      );
      results.push({
        id: `${prefix} › listObjects ${index}`,
        kind: "listObjects",
        expected,
        actual,
        passed: sameOutcome(expected, actual, sortedList),
      });
    });
  });
  return results;
}
