const CANDIDATE = /[\d.+\-*/^%()\s]+/g;
const BINARY_OPERATION = /\d\s*\)*\s*[-+*/^%]\s*\(*\s*[-+]?\d/;

/**
 * Finds the first arithmetic expression in free text ("what is (2+3)*4?" →
 * "(2+3)*4"): a run of numbers, operators and parentheses holding at least one
 * binary operation. Unbalanced parentheses at the edges (prose like "(about 2+2)")
 * are trimmed so the result is something a calculator can parse.
 */
export function findArithmeticExpression(text: string): string | undefined {
  for (const match of text.matchAll(CANDIDATE)) {
    const expression = balanceParentheses(match[0].replace(/^[.\s]+|[.\s]+$/g, ""));
    if (BINARY_OPERATION.test(expression)) return expression;
  }
  return undefined;
}

function balanceParentheses(expression: string): string {
  let result = expression;
  for (;;) {
    const opens = [...result].filter((c) => c === "(").length;
    const closes = [...result].filter((c) => c === ")").length;
    if (opens > closes && result.startsWith("(")) result = result.slice(1).trim();
    else if (closes > opens && result.endsWith(")")) result = result.slice(0, -1).trim();
    else return result;
  }
}
