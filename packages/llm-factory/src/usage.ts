/** A provider-neutral token estimate (≈4 characters per token) for models that do not count. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}
