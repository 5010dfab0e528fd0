import { describe, expect, it } from "vitest";
import { CALCULATOR_TOOL_NAME, calculatorTool } from "../src/index.ts";

describe("calculatorTool", () => {
  it("is named calculator and evaluates { expression }", async () => {
    expect(calculatorTool.name).toBe(CALCULATOR_TOOL_NAME);
    expect(await calculatorTool.invoke({ expression: "6*7" })).toBe("42");
  });

  it("hides binary floating-point noise from the model", async () => {
    expect(await calculatorTool.invoke({ expression: "0.1 + 0.2" })).toBe("0.3");
    expect(await calculatorTool.invoke({ expression: "1 / 3" })).toBe("0.333333333333333");
  });

  it("surfaces a bad expression as a typed error", async () => {
    await expect(calculatorTool.invoke({ expression: "1 / 0" })).rejects.toMatchObject({
      code: "CALCULATOR_DIVISION_BY_ZERO",
    });
  });

  it("refuses arguments that fail its schema", async () => {
    await expect(calculatorTool.invoke({ expression: 42 } as never)).rejects.toThrow();
    await expect(calculatorTool.invoke({ expression: "1+".repeat(600) })).rejects.toThrow();
  });
});
