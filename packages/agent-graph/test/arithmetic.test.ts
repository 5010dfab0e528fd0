import { describe, expect, it } from "vitest";
import {
  type AgentErrorCode,
  evaluateArithmetic,
  isAgentError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
} from "../src/index.ts";

function errorCodeOf(expression: string): AgentErrorCode | undefined {
  try {
    evaluateArithmetic(expression);
    return undefined;
  } catch (error) {
    if (isAgentError(error)) return error.code;
    throw error;
  }
}

describe("evaluateArithmetic", () => {
  it.each([
    ["6*7", 42],
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["10 - 4 - 3", 3],
    ["2 ^ 3 ^ 2", 512],
    ["2 ** 10", 1024],
    ["-2 ^ 2", -4],
    ["(-2) ^ 2", 4],
    ["2 ^ -1", 0.5],
    ["--3", 3],
    ["+4", 4],
    ["7 % 3", 1],
    ["-7 % 3", -1],
    ["8 / 4 / 2", 1],
    ["3.5 * 2", 7],
    [".5 + 1.", 1.5],
    ["  ( ( 4 ) )  ", 4],
    ["2*-3", -6],
  ])("%s = %d", (expression, expected) => {
    expect(evaluateArithmetic(expression)).toBe(expected);
  });

  it.each([
    ["", "CALCULATOR_INVALID_EXPRESSION"],
    ["   ", "CALCULATOR_INVALID_EXPRESSION"],
    ["1 +", "CALCULATOR_INVALID_EXPRESSION"],
    ["(1 + 2", "CALCULATOR_INVALID_EXPRESSION"],
    ["1 + 2)", "CALCULATOR_INVALID_EXPRESSION"],
    ["2 * * 3", "CALCULATOR_INVALID_EXPRESSION"],
    ["2 *** 3", "CALCULATOR_INVALID_EXPRESSION"],
    ["1.2.3", "CALCULATOR_INVALID_EXPRESSION"],
    ["abc", "CALCULATOR_INVALID_EXPRESSION"],
    ["process.exit(1)", "CALCULATOR_INVALID_EXPRESSION"],
    ["constructor.constructor('return 1')()", "CALCULATOR_INVALID_EXPRESSION"],
    ["1e3", "CALCULATOR_INVALID_EXPRESSION"],
    ["1 / 0", "CALCULATOR_DIVISION_BY_ZERO"],
    ["5 % (2 - 2)", "CALCULATOR_DIVISION_BY_ZERO"],
    ["10 ^ 400", "CALCULATOR_NOT_FINITE"],
    ["(-8) ^ 0.5", "CALCULATOR_NOT_FINITE"],
  ])("%j fails with %s", (expression, code) => {
    expect(errorCodeOf(expression)).toBe(code);
  });

  it("reports where parsing stopped", () => {
    try {
      evaluateArithmetic("1 + x");
      expect.unreachable();
    } catch (error) {
      expect(isAgentError(error) && error.details).toEqual({ position: 4 });
    }
  });

  it("rejects input over the length limit before parsing it", () => {
    const tooLong = `1${"+1".repeat(MAX_EXPRESSION_LENGTH / 2)}`;
    expect(tooLong.length).toBeGreaterThan(MAX_EXPRESSION_LENGTH);
    expect(errorCodeOf(tooLong)).toBe("CALCULATOR_INPUT_TOO_LONG");
    expect(evaluateArithmetic(`1${"+1".repeat(MAX_EXPRESSION_LENGTH / 2 - 1)}`)).toBe(
      MAX_EXPRESSION_LENGTH / 2,
    );
  });

  it("accepts nesting up to the depth limit and refuses one level more", () => {
    const nested = (depth: number) => `${"(".repeat(depth)}1${")".repeat(depth)}`;
    expect(evaluateArithmetic(nested(MAX_EXPRESSION_DEPTH))).toBe(1);
    expect(errorCodeOf(nested(MAX_EXPRESSION_DEPTH + 1))).toBe("CALCULATOR_TOO_DEEP");
    expect(errorCodeOf(`${"-".repeat(MAX_EXPRESSION_DEPTH + 1)}1`)).toBe("CALCULATOR_TOO_DEEP");
    expect(errorCodeOf(`2${"^2".repeat(MAX_EXPRESSION_DEPTH + 1)}`)).toBe("CALCULATOR_TOO_DEEP");
  });

  it("rejects a non-string with a typed error", () => {
    expect(errorCodeOf(42 as unknown as string)).toBe("CALCULATOR_INVALID_EXPRESSION");
  });
});
