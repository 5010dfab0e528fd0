import { AgentError } from "./errors.js";

export const MAX_EXPRESSION_LENGTH = 1_000;
export const MAX_EXPRESSION_DEPTH = 64;

// Sticky: matches only at lastIndex, so reading a number never copies the rest of the input.
const NUMBER = /\d+(?:\.\d*)?|\.\d+/y;

/**
 * Evaluates an arithmetic expression with a recursive-descent parser (never
 * `eval` or `Function`): `+ - * / %`, `^` or `**` (right-associative, binding
 * tighter than unary minus, so `-2^2` is -4), unary `+`/`-`, parentheses and
 * decimals. Length and nesting are bounded so hostile input cannot exhaust the
 * stack or hold the event loop; every failure is a typed `AgentError`.
 *
 * Grammar:
 *   expression := term (("+" | "-") term)*
 *   term       := unary (("*" | "/" | "%") unary)*
 *   unary      := ("+" | "-") unary | power
 *   power      := primary (("^" | "**") unary)?
 *   primary    := number | "(" expression ")"
 */
export function evaluateArithmetic(expression: string): number {
  if (typeof expression !== "string") {
    throw new AgentError("CALCULATOR_INVALID_EXPRESSION", "expression must be a string");
  }
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new AgentError(
      "CALCULATOR_INPUT_TOO_LONG",
      `expression is ${expression.length} characters; the limit is ${MAX_EXPRESSION_LENGTH}`,
      { details: { length: expression.length, limit: MAX_EXPRESSION_LENGTH } },
    );
  }
  const parser = new Parser(expression);
  const value = parser.parse();
  if (!Number.isFinite(value)) {
    throw new AgentError(
      "CALCULATOR_NOT_FINITE",
      "the result is not a finite number (overflow or an undefined power)",
    );
  }
  return value;
}

class Parser {
  readonly #source: string;
  #position = 0;
  #depth = 0;

  constructor(source: string) {
    this.#source = source;
  }

  parse(): number {
    this.#skipSpace();
    if (this.#position >= this.#source.length) this.#fail("expression is empty");
    const value = this.#expression();
    this.#skipSpace();
    if (this.#position < this.#source.length) {
      this.#fail(`unexpected "${this.#source[this.#position]}"`);
    }
    return value;
  }

  #expression(): number {
    let value = this.#term();
    for (;;) {
      if (this.#accept("+")) value += this.#term();
      else if (this.#accept("-")) value -= this.#term();
      else return value;
    }
  }

  #term(): number {
    let value = this.#unary();
    for (;;) {
      if (this.#accept("*")) value *= this.#unary();
      else if (this.#accept("/")) value = divide(value, this.#unary(), (a, b) => a / b);
      else if (this.#accept("%")) value = divide(value, this.#unary(), (a, b) => a % b);
      else return value;
    }
  }

  #unary(): number {
    if (this.#accept("-")) return this.#nested(() => -this.#unary());
    if (this.#accept("+")) return this.#nested(() => this.#unary());
    return this.#power();
  }

  #power(): number {
    const base = this.#primary();
    if (this.#accept("**") || this.#accept("^")) return base ** this.#nested(() => this.#unary());
    return base;
  }

  #primary(): number {
    this.#skipSpace();
    if (this.#accept("(")) {
      const value = this.#nested(() => this.#expression());
      if (!this.#accept(")")) this.#fail('missing ")"');
      return value;
    }
    return this.#number();
  }

  #number(): number {
    NUMBER.lastIndex = this.#position;
    const match = NUMBER.exec(this.#source);
    if (!match) {
      const found = this.#source[this.#position];
      this.#fail(found === undefined ? "expression ends too early" : `unexpected "${found}"`);
    }
    this.#position += match[0].length;
    return Number(match[0]);
  }

  #nested(parse: () => number): number {
    this.#depth++;
    if (this.#depth > MAX_EXPRESSION_DEPTH) {
      throw new AgentError(
        "CALCULATOR_TOO_DEEP",
        `expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`,
        { details: { limit: MAX_EXPRESSION_DEPTH } },
      );
    }
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  #accept(token: string): boolean {
    this.#skipSpace();
    if (!this.#source.startsWith(token, this.#position)) return false;
    this.#position += token.length;
    return true;
  }

  #skipSpace() {
    while (this.#position < this.#source.length && /\s/.test(this.#source[this.#position]!)) this.#position++;
  }

  #fail(reason: string): never {
    throw new AgentError("CALCULATOR_INVALID_EXPRESSION", `${reason} at position ${this.#position}`, {
      details: { position: this.#position },
    });
  }
}

function divide(dividend: number, divisor: number, operation: (a: number, b: number) => number): number {
  if (divisor === 0) throw new AgentError("CALCULATOR_DIVISION_BY_ZERO", "division by zero");
  return operation(dividend, divisor);
}
