/**
 * The logging surface packages accept. It is the structured subset shared by
 * pino and most JSON loggers: a fields object first, then a message. Packages
 * never log tokens, passwords or other secrets through it.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const ignore = () => {};

export const noopLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
