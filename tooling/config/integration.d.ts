export declare function requireService(service: {
  name: string;
  url: string;
  timeoutMs?: number;
}): Promise<boolean>;
export declare function missingInCi(message: string, suites: string): false;
