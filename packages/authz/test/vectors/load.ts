import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { Tuple } from "../../src/index.ts";

/** OpenFGA's test vectors live in the workspace's shared folder, beside the repository (never copied in). */
export const VECTORS_DIR = fileURLToPath(new URL("../../../../../shared/openfga-tests/", import.meta.url));

export interface CheckAssertion {
  tuple: Tuple;
  context?: Record<string, unknown>;
  contextualTuples?: Tuple[];
  expectation?: boolean;
  errorCode?: number;
}

export interface ListObjectsAssertion {
  request: { user: string; type: string; relation: string };
  context?: Record<string, unknown>;
  contextualTuples?: Tuple[];
  expectation?: string[] | null;
  errorCode?: number;
}

export interface Stage {
  name?: string;
  model: string;
  tuples?: Tuple[] | null;
  checkAssertions?: CheckAssertion[] | null;
  listObjectsAssertions?: ListObjectsAssertion[] | null;
}

export interface VectorTest {
  name: string;
  stages: Stage[];
}

export const vectorsAvailable = (file: string) => existsSync(new URL(file, `file://${VECTORS_DIR}`));

export function loadVectors(file: string): VectorTest[] {
  const text = readFileSync(new URL(file, `file://${VECTORS_DIR}`), "utf8");
  return (parse(text) as { tests: VectorTest[] }).tests;
}
