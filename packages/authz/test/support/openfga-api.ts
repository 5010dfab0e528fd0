import { z } from "zod";

/**
 * The request and response shapes of the OpenFGA HTTP API endpoints this package uses, written
 * from OpenFGA's published OpenAPI description (openfga/api `docs/openapiv2/apidocs.swagger.json`,
 * info.version "1.x", commit f153694bfc20f7be303e33cabe72b668596c5a06 of 2026-03-19 — the API
 * version openfga/openfga's go.mod pins as github.com/openfga/api/proto v0.0.0-20260319214821-f153694bfc20).
 *
 * Objects are strict: a field the API does not publish is a contract break either way (a request
 * field a real server ignores, or a response field only our dev server sends). Fields the API
 * marks `required` are required; the rest are optional, as protojson may leave them out.
 */
export const OPENFGA_API_SOURCE = {
  repository: "openfga/api",
  file: "docs/openapiv2/apidocs.swagger.json",
  commit: "f153694bfc20f7be303e33cabe72b668596c5a06",
  version: "1.x",
} as const;

const dateTime = z.iso.datetime({ offset: true });
/** Struct-valued fields (`context`): any JSON object. */
const struct = z.record(z.string(), z.unknown());
const consistency = z.enum(["UNSPECIFIED", "MINIMIZE_LATENCY", "HIGHER_CONSISTENCY"]);

// ── error codes (ErrorCode, AuthErrorCode, NotFoundErrorCode, InternalErrorCode, UnprocessableContentErrorCode)
export const errorCode = z.enum([
  "no_error",
  "validation_error",
  "authorization_model_not_found",
  "authorization_model_resolution_too_complex",
  "invalid_write_input",
  "cannot_allow_duplicate_tuples_in_one_request",
  "cannot_allow_duplicate_types_in_one_request",
  "cannot_allow_multiple_references_to_one_relation",
  "invalid_continuation_token",
  "invalid_tuple_set",
  "invalid_check_input",
  "invalid_expand_input",
  "unsupported_user_set",
  "invalid_object_format",
  "write_failed_due_to_invalid_input",
  "authorization_model_assertions_not_found",
  "latest_authorization_model_not_found",
  "type_not_found",
  "relation_not_found",
  "empty_relation_definition",
  "invalid_user",
  "invalid_tuple",
  "unknown_relation",
  "store_id_invalid_length",
  "assertions_too_many_items",
  "id_too_long",
  "authorization_model_id_too_long",
  "tuple_key_value_not_specified",
  "tuple_keys_too_many_or_too_few_items",
  "page_size_invalid",
  "param_missing_value",
  "difference_base_missing_value",
  "subtract_base_missing_value",
  "object_too_long",
  "relation_too_long",
  "type_definitions_too_few_items",
  "type_invalid_length",
  "type_invalid_pattern",
  "relations_too_few_items",
  "relations_too_long",
  "relations_invalid_pattern",
  "object_invalid_pattern",
  "query_string_type_continuation_token_mismatch",
  "exceeded_entity_limit",
  "invalid_contextual_tuple",
  "duplicate_contextual_tuple",
  "invalid_authorization_model",
  "unsupported_schema_version",
  "cancelled",
  "invalid_start_time",
]);
const authErrorCode = z.enum([
  "no_auth_error",
  "auth_failed_invalid_subject",
  "auth_failed_invalid_audience",
  "auth_failed_invalid_issuer",
  "invalid_claims",
  "auth_failed_invalid_bearer_token",
  "bearer_token_missing",
  "unauthenticated",
  "forbidden",
]);
const notFoundErrorCode = z.enum([
  "no_not_found_error",
  "undefined_endpoint",
  "store_id_not_found",
  "unimplemented",
]);
const internalErrorCode = z.enum([
  "no_internal_error",
  "internal_error",
  "deadline_exceeded",
  "already_exists",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unavailable",
  "data_loss",
]);
const unprocessableErrorCode = z.enum(["no_throttled_error_code", "throttled_timeout_error"]);

const errorBody = <C extends z.ZodType>(code: C) => z.strictObject({ code, message: z.string() });

/** The error body the API publishes for each status every endpoint here can answer with. */
export const errorResponses: Record<number, z.ZodType> = {
  400: errorBody(errorCode), // ValidationErrorMessageResponse
  // UnauthenticatedResponse: the schema names ErrorCode, its example ("unauthenticated") is an AuthErrorCode.
  401: errorBody(z.union([errorCode, authErrorCode])),
  403: errorBody(authErrorCode), // ForbiddenResponse
  404: errorBody(notFoundErrorCode), // PathUnknownErrorMessageResponse
  409: errorBody(z.string()), // AbortedMessageResponse
  422: errorBody(unprocessableErrorCode), // UnprocessableContentMessageResponse
  500: errorBody(internalErrorCode), // InternalErrorMessageResponse
};

// ── tuples
const checkRequestTupleKey = z.strictObject({
  user: z.string().max(512),
  relation: z.string().max(50),
  object: z.string().max(256),
});
const relationshipCondition = z.strictObject({ name: z.string().max(256), context: struct.optional() });
const tupleKey = checkRequestTupleKey.extend({ condition: relationshipCondition.optional() });
const contextualTupleKeys = z.strictObject({ tuple_keys: z.array(tupleKey).max(100) });

// ── authorization models
interface UsersetShape {
  this?: Record<string, never>;
  computedUserset?: { object?: string; relation?: string };
  tupleToUserset?: { tupleset: { object?: string; relation?: string }; computedUserset: unknown };
  union?: { child: UsersetShape[] };
  intersection?: { child: UsersetShape[] };
  difference?: { base: UsersetShape; subtract: UsersetShape };
}
const objectRelation = z.strictObject({ object: z.string().optional(), relation: z.string().optional() });
const userset: z.ZodType<UsersetShape> = z.lazy(() =>
  z.strictObject({
    this: z.strictObject({}).optional(),
    computedUserset: objectRelation.optional(),
    tupleToUserset: z.strictObject({ tupleset: objectRelation, computedUserset: objectRelation }).optional(),
    union: z.strictObject({ child: z.array(userset) }).optional(),
    intersection: z.strictObject({ child: z.array(userset) }).optional(),
    difference: z.strictObject({ base: userset, subtract: userset }).optional(),
  }),
);
const sourceInfo = z.strictObject({ file: z.string().optional() });
const relationReference = z.strictObject({
  type: z.string(),
  relation: z.string().optional(),
  wildcard: z.strictObject({}).optional(),
  condition: z.string().optional(),
});
const relationMetadata = z.strictObject({
  directly_related_user_types: z.array(relationReference).optional(),
  module: z.string().optional(),
  source_info: sourceInfo.optional(),
});
const typeDefinition = z.strictObject({
  type: z.string(),
  relations: z.record(z.string(), userset).optional(),
  // protojson writes an unset message as null when asked to emit defaults; the SDK's transformer does too.
  metadata: z
    .strictObject({
      relations: z.record(z.string(), relationMetadata).optional(),
      module: z.string().optional(),
      source_info: sourceInfo.optional(),
    })
    .nullable()
    .optional(),
});
interface ParamTypeShape {
  type_name: string;
  generic_types?: ParamTypeShape[];
}
const conditionParamTypeRef: z.ZodType<ParamTypeShape> = z.lazy(() =>
  z.strictObject({
    type_name: z.enum([
      "TYPE_NAME_UNSPECIFIED",
      "TYPE_NAME_ANY",
      "TYPE_NAME_BOOL",
      "TYPE_NAME_STRING",
      "TYPE_NAME_INT",
      "TYPE_NAME_UINT",
      "TYPE_NAME_DOUBLE",
      "TYPE_NAME_DURATION",
      "TYPE_NAME_TIMESTAMP",
      "TYPE_NAME_MAP",
      "TYPE_NAME_LIST",
      "TYPE_NAME_IPADDRESS",
    ]),
    generic_types: z.array(conditionParamTypeRef).optional(),
  }),
);
const condition = z.strictObject({
  name: z.string(),
  expression: z.string(),
  parameters: z.record(z.string(), conditionParamTypeRef).optional(),
  metadata: z.strictObject({ module: z.string().optional(), source_info: sourceInfo.optional() }).optional(),
});
const modelBody = {
  schema_version: z.string(),
  type_definitions: z.array(typeDefinition),
  conditions: z.record(z.string(), condition).optional(),
};

// ── the endpoints
const noBody = z.undefined();
const pageQuery = z.strictObject({
  page_size: z.coerce.number().int().min(1).max(100).optional(),
  continuation_token: z.string().optional(),
});
const noQuery = z.strictObject({});
const store = z.strictObject({
  id: z.string(),
  name: z.string(),
  created_at: dateTime,
  updated_at: dateTime,
  deleted_at: dateTime.optional(),
});

export interface EndpointShape {
  query: z.ZodType;
  request: z.ZodType;
  /** The success status and its body. */
  status: number;
  response: z.ZodType;
}

/** Keyed "METHOD /path" with `{store_id}` / `{id}` placeholders, as the OpenAPI paths are. */
export const endpoints: Record<string, EndpointShape> = {
  "POST /stores": {
    query: noQuery,
    request: z.strictObject({ name: z.string() }),
    status: 201,
    response: store.omit({ deleted_at: true }),
  },
  "GET /stores/{store_id}": { query: noQuery, request: noBody, status: 200, response: store },
  "GET /stores/{store_id}/authorization-models": {
    query: pageQuery,
    request: noBody,
    status: 200,
    response: z.strictObject({
      authorization_models: z.array(z.strictObject({ id: z.string(), ...modelBody })),
      continuation_token: z.string().optional(),
    }),
  },
  "GET /stores/{store_id}/authorization-models/{id}": {
    query: noQuery,
    request: noBody,
    status: 200,
    response: z.strictObject({
      authorization_model: z.strictObject({ id: z.string(), ...modelBody }).optional(),
    }),
  },
  "POST /stores/{store_id}/authorization-models": {
    query: noQuery,
    request: z.strictObject({ ...modelBody, type_definitions: modelBody.type_definitions.min(1) }),
    status: 201,
    response: z.strictObject({ authorization_model_id: z.string() }),
  },
  "POST /stores/{store_id}/check": {
    query: noQuery,
    request: z.strictObject({
      tuple_key: checkRequestTupleKey,
      contextual_tuples: contextualTupleKeys.optional(),
      authorization_model_id: z.string().optional(),
      trace: z.boolean().optional(),
      context: struct.optional(),
      consistency: consistency.optional(),
    }),
    status: 200,
    response: z.strictObject({ allowed: z.boolean().optional(), resolution: z.string().optional() }),
  },
  "POST /stores/{store_id}/batch-check": {
    query: noQuery,
    request: z.strictObject({
      checks: z
        .array(
          z.strictObject({
            tuple_key: checkRequestTupleKey,
            contextual_tuples: contextualTupleKeys.optional(),
            context: struct.optional(),
            // "only letters, numbers, or hyphens, with length ≤ 36 characters"
            correlation_id: z.string().regex(/^[A-Za-z0-9-]{1,36}$/),
          }),
        )
        .min(1),
      authorization_model_id: z.string().optional(),
      consistency: consistency.optional(),
    }),
    status: 200,
    response: z.strictObject({
      result: z
        .record(
          z.string(),
          z.strictObject({
            allowed: z.boolean().optional(),
            error: z
              .strictObject({
                input_error: errorCode.optional(),
                internal_error: internalErrorCode.optional(),
                message: z.string().optional(),
              })
              .optional(),
          }),
        )
        .optional(),
    }),
  },
  "POST /stores/{store_id}/list-objects": {
    query: noQuery,
    request: z.strictObject({
      authorization_model_id: z.string().optional(),
      type: z.string(),
      relation: z.string(),
      user: z.string().min(1).max(512),
      contextual_tuples: contextualTupleKeys.optional(),
      context: struct.optional(),
      consistency: consistency.optional(),
    }),
    status: 200,
    response: z.strictObject({ objects: z.array(z.string()) }),
  },
  "POST /stores/{store_id}/write": {
    query: noQuery,
    request: z.strictObject({
      writes: z
        .strictObject({
          tuple_keys: z.array(tupleKey).min(1),
          on_duplicate: z.enum(["error", "ignore"]).optional(),
        })
        .optional(),
      deletes: z
        .strictObject({
          tuple_keys: z.array(checkRequestTupleKey).min(1),
          on_missing: z.enum(["error", "ignore"]).optional(),
        })
        .optional(),
      authorization_model_id: z.string().optional(),
    }),
    status: 200,
    response: z.strictObject({}),
  },
  "POST /stores/{store_id}/read": {
    query: noQuery,
    request: z.strictObject({
      tuple_key: z
        .strictObject({
          user: z.string().max(512).optional(),
          relation: z.string().max(50).optional(),
          object: z.string().max(256).optional(),
        })
        .optional(),
      page_size: z.number().int().min(1).max(100).optional(),
      continuation_token: z.string().optional(),
      consistency: consistency.optional(),
    }),
    status: 200,
    response: z.strictObject({
      tuples: z.array(z.strictObject({ key: tupleKey, timestamp: dateTime })),
      continuation_token: z.string(),
    }),
  },
};

/** The OpenAPI path template a concrete path matches ("/stores/01H…/check" → "/stores/{store_id}/check"). */
export function endpointKey(method: string, path: string): string | undefined {
  const template = path
    .replace(/^\/stores\/[^/]+/, "/stores/{store_id}")
    .replace(/^(\/stores\/\{store_id\}\/authorization-models)\/[^/]+$/, "$1/{id}");
  const key = `${method} ${template}`;
  return key in endpoints ? key : undefined;
}
