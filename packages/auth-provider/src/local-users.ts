import { AuthError } from "./errors.js";

export interface LocalUserInput {
  username: string;
  password: string;
  roles: string[];
}

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const ROLE = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Parses "name:password:role1|role2,name2:pw:role". The username ends at the
 * first ':' and the roles start after the last one, so a password may contain
 * ':' but not ','. Errors name the entry and user, never the password.
 */
export function parseLocalUsers(spec: string): LocalUserInput[] {
  if (typeof spec !== "string" || spec.trim() === "") {
    throw new AuthError("AUTH_CONFIG", "local user list is empty; expected name:password:role1|role2,...");
  }
  const users = spec.split(",").map((entry, index) => parseEntry(entry.trim(), index + 1));
  validateLocalUsers(users);
  return users;
}

function parseEntry(entry: string, position: number): LocalUserInput {
  const first = entry.indexOf(":");
  const last = entry.lastIndexOf(":");
  if (first === -1 || first === last) {
    throw new AuthError(
      "AUTH_CONFIG",
      `local user entry #${position} must look like name:password:role1|role2 (roles may be empty)`,
    );
  }
  const rolesPart = entry.slice(last + 1);
  return {
    username: entry.slice(0, first),
    password: entry.slice(first + 1, last),
    roles: rolesPart === "" ? [] : rolesPart.split("|"),
  };
}

/** A client-credentials identity of the local issuer (a service principal). */
export interface LocalServiceClientInput {
  clientId: string;
  clientSecret: string;
  roles: string[];
}

export const MIN_CLIENT_SECRET_LENGTH = 16;

/** Parses "client:secret:role1|role2,..." (the LOCAL_USERS format); secrets need 16+ characters. */
export function parseServiceClients(spec: string): LocalServiceClientInput[] {
  if (typeof spec !== "string" || spec.trim() === "") {
    throw new AuthError("AUTH_CONFIG", "service client list is empty; expected id:secret:role1|role2,...");
  }
  const clients = spec.split(",").map((entry, index) => {
    const { username, password, roles } = parseEntry(entry.trim(), index + 1);
    return { clientId: username, clientSecret: password, roles };
  });
  validateServiceClients(clients);
  return clients;
}

export function validateServiceClients(clients: readonly LocalServiceClientInput[]): void {
  validateLocalUsers(
    clients.map((client) => ({
      username: client?.clientId,
      password: client?.clientSecret,
      roles: client?.roles,
    })),
  );
  clients.forEach((client, index) => {
    if (client.clientSecret.length < MIN_CLIENT_SECRET_LENGTH) {
      throw new AuthError(
        "AUTH_CONFIG",
        `service client #${index + 1} ("${client.clientId}"): secret must have at least ${MIN_CLIENT_SECRET_LENGTH} characters`,
      );
    }
  });
}

/** Checks users given as objects as strictly as parsed ones. */
export function validateLocalUsers(users: readonly LocalUserInput[]): void {
  const seen = new Set<string>();
  users.forEach((user, index) => {
    const where = `local user #${index + 1}`;
    if (typeof user?.username !== "string" || !USERNAME.test(user.username)) {
      throw new AuthError(
        "AUTH_CONFIG",
        `${where}: username must match ${USERNAME} (letters, digits, . _ @ -)`,
      );
    }
    if (seen.has(user.username)) {
      throw new AuthError("AUTH_CONFIG", `${where}: username "${user.username}" is listed twice`);
    }
    seen.add(user.username);
    if (typeof user.password !== "string" || user.password.length === 0) {
      throw new AuthError("AUTH_CONFIG", `${where} ("${user.username}"): password is empty`);
    }
    if (user.password.length > MAX_PASSWORD_LENGTH) {
      throw new AuthError(
        "AUTH_CONFIG",
        `${where} ("${user.username}"): password is longer than ${MAX_PASSWORD_LENGTH} characters`,
      );
    }
    if (!Array.isArray(user.roles)) {
      throw new AuthError("AUTH_CONFIG", `${where} ("${user.username}"): roles must be an array`);
    }
    for (const role of user.roles) {
      if (typeof role !== "string" || !ROLE.test(role)) {
        throw new AuthError(
          "AUTH_CONFIG",
          `${where} ("${user.username}"): role ${JSON.stringify(role)} must match ${ROLE}`,
        );
      }
    }
  });
}
