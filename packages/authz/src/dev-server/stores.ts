import { Engine } from "../engine/engine.ts";
import { type AuthorizationModelJson, compileModelJson } from "../engine/model.ts";
import { TupleStore } from "../engine/store.ts";
import { AuthzError, OpenFgaErrorCode, validationError } from "../errors.ts";
import type { Tuple } from "../types.ts";
import { ulid } from "./ulid.ts";

interface ModelVersion {
  id: string;
  json: AuthorizationModelJson;
  engine: Engine;
}

export interface StoreInfo {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

/** One OpenFGA store: its model versions (newest last) over one shared set of tuples. */
export class DevStore {
  readonly info: StoreInfo;
  readonly tuples = new TupleStore();
  readonly #models: ModelVersion[] = [];
  readonly #written = new Map<string, string>();

  constructor(name: string) {
    const now = new Date().toISOString();
    this.info = { id: ulid(), name, created_at: now, updated_at: now };
  }

  writeModel(json: AuthorizationModelJson): string {
    const compiled = compileModelJson(json);
    const id = ulid();
    this.#models.push({ id, json: { ...compiled.json }, engine: new Engine(compiled, this.tuples) });
    return id;
  }

  /** Newest first, as OpenFGA lists them. */
  models(): Array<AuthorizationModelJson & { id: string }> {
    return this.#models.map(({ id, json }) => ({ id, ...json })).reverse();
  }

  model(id: string | undefined): ModelVersion {
    if (id === undefined || id === "") {
      const latest = this.#models.at(-1);
      if (!latest)
        throw validationError(
          OpenFgaErrorCode.latestAuthorizationModelNotFound,
          "no authorization model has been written to this store",
        );
      return latest;
    }
    const found = this.#models.find((model) => model.id === id);
    if (!found)
      throw validationError(
        OpenFgaErrorCode.authorizationModelNotFound,
        `authorization model '${id}' not found`,
      );
    return found;
  }

  /** OpenFGA's Write: atomic; duplicates and missing deletes fail unless told to ignore them. */
  write(
    modelId: string | undefined,
    writes: Tuple[],
    deletes: Tuple[],
    onDuplicate: "error" | "ignore",
    onMissing: "error" | "ignore",
  ): void {
    const { engine } = this.model(modelId);
    const seen = new Set<string>();
    for (const tuple of [...writes, ...deletes]) {
      const key = `${tuple?.object}#${tuple?.relation}@${tuple?.user}`;
      if (seen.has(key))
        throw validationError(
          OpenFgaErrorCode.duplicateTupleInWrite,
          `duplicate tuple in one request: ${key}`,
        );
      seen.add(key);
    }
    if (onDuplicate === "error") {
      const existing = writes.find((tuple) => engine.has(tuple));
      if (existing)
        throw validationError(
          OpenFgaErrorCode.writeFailedDueToInvalidInput,
          "cannot write a tuple which already exists",
        );
    }
    if (onMissing === "error") {
      const missing = deletes.find((tuple) => !engine.has(tuple));
      if (missing)
        throw validationError(
          OpenFgaErrorCode.writeFailedDueToInvalidInput,
          "cannot delete a tuple which does not exist",
        );
    }
    // Validate both halves before changing anything, so a failed request writes nothing.
    engine.assertWritable(writes);
    engine.assertDeletable(deletes);
    engine.delete(deletes);
    engine.write(writes);
    const now = new Date().toISOString();
    for (const tuple of writes) this.#written.set(`${tuple.object}#${tuple.relation}@${tuple.user}`, now);
  }

  writtenAt(tuple: Tuple): string {
    return this.#written.get(`${tuple.object}#${tuple.relation}@${tuple.user}`) ?? this.info.created_at;
  }
}

export class DevStores {
  readonly #stores = new Map<string, DevStore>();

  create(name: string): DevStore {
    if (typeof name !== "string" || name.trim() === "") {
      throw validationError(OpenFgaErrorCode.validation, "a store needs a name");
    }
    const store = new DevStore(name);
    this.#stores.set(store.info.id, store);
    return store;
  }

  get(id: string): DevStore {
    const store = this.#stores.get(id);
    if (!store)
      throw new AuthzError("AUTHZ_VALIDATION", `store '${id}' not found`, {
        openfgaCode: OpenFgaErrorCode.storeNotFound,
      });
    return store;
  }

  delete(id: string): void {
    this.get(id);
    this.#stores.delete(id);
  }

  list(): StoreInfo[] {
    return [...this.#stores.values()].map((store) => store.info);
  }
}
