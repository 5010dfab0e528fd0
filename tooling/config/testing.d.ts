export declare function freePort(): Promise<number>;
export declare function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; stderr: string }>;
export declare function resultText(result: { content?: unknown }): string;
