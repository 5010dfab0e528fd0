import {
  ClientWriteRequestOnDuplicateWrites,
  ClientWriteRequestOnMissingDeletes,
  CredentialsMethod,
  FgaApiError,
  FgaApiValidationError,
  type Tuple as FgaTuple,
  FgaValidationError,
  OpenFgaClient,
  type TupleKey,
} from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import { AuthzError, isAuthzError, OpenFgaErrorCode } from "./errors.ts";
import { openFgaErrorNumber } from "./openfga-codes.ts";
import type { Authorizer, CallOptions, CheckQuery, ClaimResult, ListObjectsQuery, Tuple } from "./types.ts";

export interface OpenFgaConnection {
  apiUrl: string;
  /** Created (named `storeName`) when absent. */
  storeId?: string;
  storeName?: string;
  /** Used as given; otherwise `model` is written (unless the store's latest model is the same), else the latest model. */
  modelId?: string;
  model?: string;
  /** Pre-shared API token, sent as a bearer token and never logged. */
  token?: string;
}

const NO_SDK_RETRIES = { maxRetry: 0 };

/** Maps an SDK failure to an AuthzError: input errors keep OpenFGA's code, everything else is "unavailable". */
export function toAuthzError(error: unknown): AuthzError {
  if (isAuthzError(error)) return error;
  if (error instanceof FgaApiValidationError) {
    const openfgaCode = openFgaErrorNumber(error.apiErrorCode);
    const message = `openfga: ${error.apiErrorMessage ?? error.apiErrorCode}`;
    return openfgaCode === OpenFgaErrorCode.resolutionTooComplex
      ? new AuthzError("AUTHZ_RESOLUTION_TOO_COMPLEX", message, { openfgaCode })
      : new AuthzError("AUTHZ_VALIDATION", message, { openfgaCode });
  }
  if (error instanceof FgaValidationError) {
    return new AuthzError("AUTHZ_VALIDATION", `openfga client: ${error.message}`, { openfgaCode: 2000 });
  }
  const status = error instanceof FgaApiError ? ` (HTTP ${error.statusCode ?? "?"})` : "";
  return new AuthzError("AUTHZ_UNAVAILABLE", `openfga request failed${status}`, { cause: error });
}

/** Compares models ignoring empty fields, so a re-deploy of the same model reuses its id. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value)
    .filter(([key, item]) => key !== "id" && item !== null && item !== undefined)
    .map(([key, item]) => [key, canonical(item)] as const)
    .filter(([, item]) => !(Array.isArray(item) && item.length === 0))
    .sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(entries);
}

const toTupleKey = (tuple: Tuple): TupleKey => ({
  user: tuple.user,
  relation: tuple.relation,
  object: tuple.object,
  ...(tuple.condition ? { condition: { name: tuple.condition.name, context: tuple.condition.context } } : {}),
});

const fromTupleKey = (key: TupleKey): Tuple => ({
  user: key.user,
  relation: key.relation,
  object: key.object,
  ...(key.condition
    ? { condition: { name: key.condition.name, context: key.condition.context as Record<string, unknown> } }
    : {}),
});

/**
 * The OpenFGA server backend over `@openfga/sdk`. Deadlines, retries policy,
 * concurrency limits and the circuit breaker live in the resilience layer that
 * `createAuthorizer` puts around it; the SDK's own retries are off so that a
 * call's 2 s deadline is not spent on hidden retries.
 */
export class OpenFgaAuthorizer implements Authorizer {
  readonly #client: OpenFgaClient;
  readonly storeId: string;
  readonly modelId: string;
  #closed = false;

  private constructor(client: OpenFgaClient, storeId: string, modelId: string) {
    this.#client = client;
    this.storeId = storeId;
    this.modelId = modelId;
  }

  /** Resolves (creating when needed) the store and model, then returns a ready authorizer. */
  static async connect(connection: OpenFgaConnection): Promise<OpenFgaAuthorizer> {
    const credentials = connection.token
      ? { method: CredentialsMethod.ApiToken as const, config: { token: connection.token } }
      : undefined;
    let client: OpenFgaClient;
    try {
      client = new OpenFgaClient({ apiUrl: connection.apiUrl, credentials, retryParams: NO_SDK_RETRIES });
    } catch (error) {
      throw new AuthzError("AUTHZ_VALIDATION", `invalid openfga configuration: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      const storeId =
        connection.storeId ??
        (await client.createStore({ name: connection.storeName ?? "mcp-langgraph" })).id;
      client.storeId = storeId;
      const modelId = connection.modelId ?? (await OpenFgaAuthorizer.#resolveModel(client, connection.model));
      client.authorizationModelId = modelId;
      return new OpenFgaAuthorizer(client, storeId, modelId);
    } catch (error) {
      throw toAuthzError(error);
    }
  }

  static async #resolveModel(client: OpenFgaClient, dsl: string | undefined): Promise<string> {
    const latest = (await client.readAuthorizationModels({ pageSize: 1 })).authorization_models?.[0];
    if (dsl === undefined) {
      if (!latest)
        throw new AuthzError("AUTHZ_VALIDATION", "the openfga store has no model and none was given");
      return latest.id;
    }
    let json: ReturnType<typeof transformer.transformDSLToJSONObject>;
    try {
      json = transformer.transformDSLToJSONObject(dsl);
    } catch (error) {
      throw new AuthzError(
        "AUTHZ_INVALID_MODEL",
        `invalid authorization model: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (latest && JSON.stringify(canonical(latest)) === JSON.stringify(canonical(json))) return latest.id;
    return (await client.writeAuthorizationModel(json)).authorization_model_id;
  }

  async #call<T>(options: CallOptions | undefined, operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new AuthzError("AUTHZ_CLOSED", "authorizer is closed");
    options?.signal?.throwIfAborted();
    try {
      return await operation();
    } catch (error) {
      throw toAuthzError(error);
    }
  }

  check(query: CheckQuery, options?: CallOptions): Promise<boolean> {
    return this.#call(options, async () => {
      const response = await this.#client.check(
        {
          user: query.user,
          relation: query.relation,
          object: query.object,
          contextualTuples: (query.contextualTuples ?? []).map(toTupleKey),
          ...(query.context ? { context: query.context } : {}),
        },
        { retryParams: NO_SDK_RETRIES },
      );
      return response.allowed === true;
    });
  }

  batchCheck(queries: CheckQuery[], options?: CallOptions): Promise<boolean[]> {
    return this.#call(options, async () => {
      if (queries.length === 0) return [];
      const response = await this.#client.batchCheck(
        {
          checks: queries.map((query, index) => ({
            user: query.user,
            relation: query.relation,
            object: query.object,
            correlationId: `q${index}`,
            contextualTuples: { tuple_keys: (query.contextualTuples ?? []).map(toTupleKey) },
            ...(query.context ? { context: query.context } : {}),
          })),
        },
        { retryParams: NO_SDK_RETRIES },
      );
      const answers = new Map(response.result.map((item) => [item.correlationId, item]));
      return queries.map((_, index) => {
        const item = answers.get(`q${index}`);
        if (!item) throw new AuthzError("AUTHZ_UNAVAILABLE", "openfga batch check left a query unanswered");
        if (item.error) {
          const openfgaCode = openFgaErrorNumber(item.error.input_error);
          if (item.error.input_error === undefined || item.error.internal_error !== undefined) {
            throw new AuthzError(
              "AUTHZ_UNAVAILABLE",
              `openfga batch check failed: ${item.error.message ?? ""}`,
            );
          }
          throw new AuthzError(
            openfgaCode === OpenFgaErrorCode.resolutionTooComplex
              ? "AUTHZ_RESOLUTION_TOO_COMPLEX"
              : "AUTHZ_VALIDATION",
            `openfga: ${item.error.message ?? item.error.input_error}`,
            { openfgaCode },
          );
        }
        return item.allowed === true;
      });
    });
  }

  listObjects(query: ListObjectsQuery, options?: CallOptions): Promise<string[]> {
    return this.#call(options, async () => {
      const response = await this.#client.listObjects(
        {
          user: query.user,
          relation: query.relation,
          type: query.type,
          contextualTuples: (query.contextualTuples ?? []).map(toTupleKey),
          ...(query.context ? { context: query.context } : {}),
        },
        { retryParams: NO_SDK_RETRIES },
      );
      return response.objects;
    });
  }

  writeTuples(tuples: Tuple[], options?: CallOptions): Promise<void> {
    return this.#call(options, async () => {
      if (tuples.length === 0) return;
      await this.#client.write(
        { writes: tuples.map(toTupleKey) },
        {
          conflict: { onDuplicateWrites: ClientWriteRequestOnDuplicateWrites.Ignore },
          retryParams: NO_SDK_RETRIES,
        },
      );
    });
  }

  deleteTuples(tuples: Tuple[], options?: CallOptions): Promise<void> {
    return this.#call(options, async () => {
      if (tuples.length === 0) return;
      await this.#client.write(
        { deletes: tuples.map(({ user, relation, object }) => ({ user, relation, object })) },
        {
          conflict: { onMissingDeletes: ClientWriteRequestOnMissingDeletes.Ignore },
          retryParams: NO_SDK_RETRIES,
        },
      );
    });
  }

  readTuples(filter: Partial<Tuple>, options?: CallOptions): Promise<Tuple[]> {
    return this.#call(options, async () =>
      (await this.#read(filter, options)).map((tuple) => fromTupleKey(tuple.key)),
    );
  }

  /**
   * OpenFGA has no conditional write, so a claim is: read; if free, write
   * (failing on a duplicate, so two claims of one tuple cannot both win);
   * read back; and when racers of other users wrote too, the strictly
   * earliest write (OpenFGA's timestamp) wins and the others delete theirs.
   * Residual races (ADR 0070): a loser's tuple exists until it withdraws (and
   * stays if its process dies in between); racers written within one
   * timestamp tick all withdraw, leaving none.
   */
  claimTuple(tuple: Tuple, options?: CallOptions): Promise<ClaimResult> {
    return this.#call(options, async () => {
      const filter = { relation: tuple.relation, object: tuple.object };
      const before = await this.#read(filter, options);
      if (before.length > 0) return { claimed: false, tuples: before.map((held) => fromTupleKey(held.key)) };
      try {
        await this.#client.write(
          { writes: [toTupleKey(tuple)] },
          {
            conflict: { onDuplicateWrites: ClientWriteRequestOnDuplicateWrites.Error },
            retryParams: NO_SDK_RETRIES,
          },
        );
      } catch (error) {
        const failure = toAuthzError(error);
        if (failure.openfgaCode !== OpenFgaErrorCode.writeFailedDueToInvalidInput) throw failure;
        // The same tuple was written by a concurrent claim: that one won.
        const held = await this.#read(filter, options);
        return { claimed: false, tuples: held.map((item) => fromTupleKey(item.key)) };
      }
      const after = await this.#read(filter, options);
      const mine = after.find((held) => held.key.user === tuple.user);
      const others = after.filter((held) => held !== mine);
      // Only a strictly earlier write wins: racers written in the same instant all withdraw (fail closed).
      const writtenAt = (held: FgaTuple) => Date.parse(held.timestamp);
      if (mine && others.every((held) => writtenAt(held) > writtenAt(mine))) {
        return { claimed: true, tuples: [tuple] };
      }
      await this.#client.write(
        { deletes: [{ user: tuple.user, relation: tuple.relation, object: tuple.object }] },
        {
          conflict: { onMissingDeletes: ClientWriteRequestOnMissingDeletes.Ignore },
          retryParams: NO_SDK_RETRIES,
        },
      );
      return { claimed: false, tuples: others.map((held) => fromTupleKey(held.key)) };
    });
  }

  async #read(filter: Partial<Tuple>, options: CallOptions | undefined): Promise<FgaTuple[]> {
    const { user, relation, object } = filter;
    const body =
      user === undefined && relation === undefined && object === undefined ? {} : { user, relation, object };
    const tuples: FgaTuple[] = [];
    let continuationToken: string | undefined;
    do {
      options?.signal?.throwIfAborted();
      const response = await this.#client.read(body, {
        pageSize: 100,
        retryParams: NO_SDK_RETRIES,
        ...(continuationToken ? { continuationToken } : {}),
      });
      tuples.push(...response.tuples);
      continuationToken = response.continuation_token || undefined;
    } while (continuationToken);
    return tuples;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
