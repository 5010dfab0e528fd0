import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { AuthorizationModelJson } from "../../src/engine/model.ts";
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
  /** DSL text (OpenFGA's vectors); the project's own may give the JSON form for what the DSL cannot say (`any`). */
  model: string | AuthorizationModelJson;
  tuples?: Tuple[] | null;
  checkAssertions?: CheckAssertion[] | null;
  listObjectsAssertions?: ListObjectsAssertion[] | null;
}

export interface VectorTest {
  name: string;
  stages: Stage[];
}

export const vectorsAvailable = (file: string) => existsSync(new URL(file, `file://${VECTORS_DIR}`));

/** Reads a vector file in OpenFGA's format: OpenFGA's own, or one of the project's (vectors/project/). */
export function loadVectorFile(url: URL): VectorTest[] {
  return (parse(readFileSync(url, "utf8")) as { tests: VectorTest[] }).tests;
}

export function loadVectors(file: string): VectorTest[] {
  return loadVectorFile(new URL(file, `file://${VECTORS_DIR}`));
}
