import { AgentError } from "./errors.js";

const MAX_THREAD_ID_LENGTH = 256;
// Control characters in an id would end up in logs and SQL parameters; nothing legitimate needs them.
const CONTROL_CHARACTERS = /\p{Cc}/u;

export function assertThreadId(threadId: unknown): asserts threadId is string {
  if (typeof threadId !== "string" || threadId.length === 0) {
    throw new AgentError("AGENT_INPUT_INVALID", "threadId must be a non-empty string");
  }
  if (threadId.length > MAX_THREAD_ID_LENGTH) {
    throw new AgentError("AGENT_INPUT_INVALID", `threadId is longer than ${MAX_THREAD_ID_LENGTH} characters`);
  }
  if (CONTROL_CHARACTERS.test(threadId)) {
    throw new AgentError("AGENT_INPUT_INVALID", "threadId must not contain control characters");
  }
}

export function assertText(value: unknown, name: string, maxChars: number): asserts value is string {
  if (typeof value !== "string" || value.trim().length === 0) {
    throw new AgentError("AGENT_INPUT_INVALID", `${name} must be a non-empty string`);
  }
  if (value.length > maxChars) {
    throw new AgentError(
      "AGENT_INPUT_INVALID",
      `${name} is ${value.length} characters; the limit is ${maxChars}`,
      {
        details: { length: value.length, limit: maxChars },
      },
    );
  }
}

export function assertIntegerInRange(
  value: unknown,
  name: string,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new AgentError("AGENT_INPUT_INVALID", `${name} must be an integer from ${min} to ${max}`);
  }
}
