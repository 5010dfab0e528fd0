export { type NginxConfigOptions, nginxConfig } from "./nginx-config.ts";
export { OwnNginx, type ProxiedRequest, requireNginx } from "./nginx-server.ts";
