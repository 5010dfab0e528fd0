import { type StructuredToolInterface, tool } from "@langchain/core/tools";
import { z } from "zod";
import { evaluateArithmetic, MAX_EXPRESSION_LENGTH } from "./arithmetic.js";

export const CALCULATOR_TOOL_NAME = "calculator";

const calculatorSchema = z.object({
  expression: z
    .string()
    .max(MAX_EXPRESSION_LENGTH)
    .describe("An arithmetic expression, e.g. (2 + 3) * 4 ^ 2 / 7 % 3"),
});

/**
 * Drops binary floating-point noise (0.1 + 0.2 → 0.3) from what the model
 * reads; 15 significant digits is the precision a double always round-trips.
 */
export function formatCalculatorResult(value: number): string {
  return String(Number.parseFloat(value.toPrecision(15)));
}

export const calculatorTool: StructuredToolInterface = tool(
  async ({ expression }) => formatCalculatorResult(evaluateArithmetic(expression)),
  {
    name: CALCULATOR_TOOL_NAME,
    description:
      "Evaluates an arithmetic expression exactly: + - * / % ^ (or **), unary minus, parentheses, decimals. " +
      "Use it for any arithmetic instead of computing in your head.",
    schema: calculatorSchema,
  },
);
