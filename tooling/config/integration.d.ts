export declare function requireService(service: {
  name: string;
  url: string;
  timeoutMs?: number;
}): Promise<boolean>;
