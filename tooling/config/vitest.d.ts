import type { UserConfig } from "vitest/config";
export declare function defineProjectConfig(overrides?: UserConfig): UserConfig;
