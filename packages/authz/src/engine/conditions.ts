import { BlockList, isIP } from "node:net";
import { Environment, evaluate as evaluateCel } from "@marcbachmann/cel-js";
import { AuthzError, OpenFgaErrorCode } from "../errors.ts";

/** A condition as OpenFGA's DSL→JSON transformer emits it. */
export interface ConditionDefinition {
  name: string;
  expression: string;
  parameters?: Record<string, ParameterType>;
}

interface ParameterType {
  type_name: string;
  generic_types?: ParameterType[];
}

export interface CompiledCondition {
  name: string;
  parameterNames: string[];
  /** Evaluates against a merged context; missing or ill-typed parameters are OpenFGA error 2000. */
  evaluate(context: Record<string, unknown>): boolean;
}

/** OpenFGA's `ipaddress` condition parameter type. */
export class IpAddress {
  readonly address: string;
  readonly family: "ipv4" | "ipv6";

  constructor(address: string) {
    const version = isIP(address);
    if (version === 0) throw new TypeError(`'${address}' is not an IP address`);
    this.address = address;
    this.family = version === 4 ? "ipv4" : "ipv6";
  }

  inCidr(cidr: string): boolean {
    const [network = "", prefix = ""] = cidr.split("/");
    const version = isIP(network);
    if (version === 0 || !/^\d+$/.test(prefix)) throw new TypeError(`'${cidr}' is not a CIDR block`);
    const family = version === 4 ? "ipv4" : "ipv6";
    if (family !== this.family) return false;
    const blocks = new BlockList();
    blocks.addSubnet(network, Number(prefix), family);
    return blocks.check(this.address, family);
  }
}

/**
 * The parameter types cel-go lets a condition compare with `null` (its checker's "legacy
 * nullable" kinds: timestamp, duration, and object types such as OpenFGA's IPAddress; `any`
 * is `dyn` here and needs nothing). cel-js has no such overloads, so `x != null` failed
 * with "no such overload". A present value of these types is never null (the converters
 * below reject a null context value, as OpenFGA's do), so `==` is false and `!=` true;
 * registering `T == null` also gives `null == T` and both `!=` forms.
 */
const NULLABLE_TYPES = ["google.protobuf.Timestamp", "google.protobuf.Duration", "ipaddress"];

const baseEnvironment = () =>
  NULLABLE_TYPES.reduce(
    (environment, type) => environment.registerOperator(`${type} == null`, () => false),
    new Environment({ homogeneousAggregateLiterals: false })
      .registerType("ipaddress", IpAddress)
      .registerFunction("ipaddress.in_cidr(string): bool", (ip: IpAddress, cidr: string) => ip.inCidr(cidr)),
  );

function celTypeName(type: ParameterType): string {
  const generic = type.generic_types?.[0];
  switch (type.type_name) {
    case "TYPE_NAME_INT":
      return "int";
    case "TYPE_NAME_UINT":
      return "uint";
    case "TYPE_NAME_DOUBLE":
      return "double";
    case "TYPE_NAME_BOOL":
      return "bool";
    case "TYPE_NAME_STRING":
      return "string";
    case "TYPE_NAME_DURATION":
      return "google.protobuf.Duration";
    case "TYPE_NAME_TIMESTAMP":
      return "google.protobuf.Timestamp";
    case "TYPE_NAME_IPADDRESS":
      return "ipaddress";
    case "TYPE_NAME_LIST":
      return `list<${generic ? celTypeName(generic) : "dyn"}>`;
    case "TYPE_NAME_MAP":
      return `map<string, ${generic ? celTypeName(generic) : "dyn"}>`;
    default:
      return "dyn";
  }
}

const isWholeNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value);

/** Converts a JSON context value to the CEL value of an OpenFGA parameter type, as OpenFGA does. */
function toCelValue(value: unknown, type: ParameterType): unknown {
  const generic = type.generic_types?.[0];
  switch (type.type_name) {
    case "TYPE_NAME_INT":
    case "TYPE_NAME_UINT": {
      let integer: bigint;
      if (isWholeNumber(value)) integer = BigInt(value);
      else if (typeof value === "string" && /^-?\d+$/.test(value.trim())) integer = BigInt(value.trim());
      else throw new TypeError(`expected an integer, got ${JSON.stringify(value)}`);
      if (type.type_name === "TYPE_NAME_INT") return integer;
      if (integer < 0n) throw new TypeError(`expected an unsigned integer, got ${integer}`);
      return evaluateCel("uint(v)", { v: integer });
    }
    case "TYPE_NAME_DOUBLE": {
      const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof number === "number" && Number.isFinite(number)) return number;
      throw new TypeError(`expected a finite double, got ${JSON.stringify(value)}`);
    }
    case "TYPE_NAME_BOOL":
      if (typeof value === "boolean") return value;
      throw new TypeError(`expected a boolean, got ${JSON.stringify(value)}`);
    case "TYPE_NAME_STRING":
      if (typeof value === "string") return value;
      throw new TypeError(`expected a string, got ${JSON.stringify(value)}`);
    case "TYPE_NAME_DURATION":
      if (typeof value === "string") return evaluateCel("duration(v)", { v: value });
      throw new TypeError(`expected a duration string, got ${JSON.stringify(value)}`);
    case "TYPE_NAME_TIMESTAMP":
      if (typeof value === "string") return evaluateCel("timestamp(v)", { v: value });
      throw new TypeError(`expected an RFC 3339 timestamp, got ${JSON.stringify(value)}`);
    case "TYPE_NAME_IPADDRESS":
      if (typeof value === "string") return new IpAddress(value);
      throw new TypeError(`expected an IP address string, got ${JSON.stringify(value)}`);
    case "TYPE_NAME_LIST":
      if (!Array.isArray(value)) throw new TypeError(`expected a list, got ${JSON.stringify(value)}`);
      return generic ? value.map((item) => toCelValue(item, generic)) : value;
    case "TYPE_NAME_MAP": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new TypeError(`expected a map, got ${JSON.stringify(value)}`);
      }
      const entries = Object.entries(value as Record<string, unknown>);
      return new Map(generic ? entries.map(([key, item]) => [key, toCelValue(item, generic)]) : entries);
    }
    default:
      return value;
  }
}

export function compileCondition(definition: ConditionDefinition): CompiledCondition {
  const parameters = Object.entries(definition.parameters ?? {});
  let environment = baseEnvironment();
  for (const [name, type] of parameters) environment = environment.registerVariable(name, celTypeName(type));
  const invalid = (message: string, cause?: unknown) =>
    new AuthzError("AUTHZ_INVALID_MODEL", `condition '${definition.name}': ${message}`, { cause });
  let program: (context: Record<string, unknown>) => unknown;
  try {
    const parsed = environment.parse(definition.expression);
    // OpenFGA type-checks a condition when the model is written and requires a bool result, so a
    // type error (e.g. `name == null` for a string `name`, which cel-go rejects) makes the model
    // invalid instead of failing every check that reaches the condition.
    const checked = parsed.check();
    if (!checked.valid) throw checked.error;
    if (checked.type !== "bool") throw new TypeError(`expression has type ${checked.type}, expected bool`);
    program = parsed as unknown as typeof program;
  } catch (error) {
    throw invalid((error as Error).message, error);
  }
  const failure = (message: string, cause?: unknown) =>
    new AuthzError("AUTHZ_VALIDATION", `condition '${definition.name}': ${message}`, {
      openfgaCode: OpenFgaErrorCode.validation,
      cause,
    });
  return {
    name: definition.name,
    parameterNames: parameters.map(([name]) => name),
    evaluate(context) {
      // OpenFGA errors on any missing parameter, even one the expression would short-circuit past.
      const missing = parameters.filter(([name]) => !Object.hasOwn(context, name)).map(([name]) => name);
      if (missing.length > 0) throw failure(`missing parameters: ${missing.join(", ")}`);
      const activation: Record<string, unknown> = {};
      for (const [name, type] of parameters) {
        try {
          activation[name] = toCelValue(context[name], type);
        } catch (error) {
          throw failure(`parameter '${name}': ${(error as Error).message}`, error);
        }
      }
      let result: unknown;
      try {
        result = program(activation);
      } catch (error) {
        throw failure(`evaluation failed: ${(error as Error).message}`, error);
      }
      if (typeof result !== "boolean") throw failure("expression did not evaluate to a boolean");
      return result;
    },
  };
}
