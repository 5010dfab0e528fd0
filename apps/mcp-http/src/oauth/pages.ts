/**
 * The login, consent and error pages: server-rendered, no JavaScript, no third-party assets.
 * Every value shown is escaped; the CSP allows only this server's stylesheet and forms posted
 * here (plus the client's redirect origin, which the browser follows after the form's redirect).
 */

export const LOGIN_CSS_PATH = "/oauth/assets/login.css";

export const LOGIN_CSS = `*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12);padding:2rem;width:100%;max-width:26rem}
h1{font-size:1.35rem;margin:0 0 1rem}
dl{margin:0 0 1.25rem;font-size:.9rem;display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem}
dt{color:#5a6275}dd{margin:0;word-break:break-all;font-weight:600}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.55rem .65rem;border:1px solid #b8bfcc;border-radius:6px;font:inherit}
input:focus{outline:2px solid #2f6fde;outline-offset:1px}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}
button{font:inherit;padding:.55rem 1.1rem;border-radius:6px;border:1px solid #2f6fde;background:#2f6fde;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#2f6fde}
.error{background:#fdecec;border:1px solid #e5a3a3;color:#8a1c1c;border-radius:6px;padding:.6rem .8rem;margin:0 0 1rem}
.note{font-size:.85rem;color:#5a6275;margin-top:1.25rem}`;

export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RequestSummary {
  uid: string;
  csrf: string;
  /** The client's self-declared name (client_name), or its id when it has none. */
  clientName: string;
  clientId: string;
  redirectUri: string;
  resource: string;
  scopes: string[];
}

const html = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char] as string,
  );

function securityHeaders(formTarget: string | undefined): Record<string, string> {
  const formAction = ["'self'", formTarget].filter(Boolean).join(" ");
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    // Not no-referrer: Chromium then sends `Origin: null` with the form, which the Origin guard refuses.
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
  };
}

/** The origin the browser is sent to after the form (the client's redirect URI), for `form-action`. */
function redirectOrigin(uri: string): string | undefined {
  const url = URL.parse(uri);
  if (!url) return undefined;
  // Custom schemes (cursor://…) are named by scheme alone.
  return url.protocol === "http:" || url.protocol === "https:" ? url.origin : url.protocol;
}

function layout(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<link rel="stylesheet" href="${LOGIN_CSS_PATH}">
</head>
<body>
<main>
${content}
</main>
</body>
</html>
`;
}

function summary(request: RequestSummary): string {
  const host = URL.parse(request.redirectUri)?.host || request.redirectUri;
  return `<dl>
<dt>Application</dt><dd id="client-name">${html(request.clientName)}</dd>
<dt>Returns to</dt><dd id="redirect-host">${html(host)}</dd>
<dt>Access to</dt><dd id="resource">${html(request.resource)}</dd>
<dt>Permissions</dt><dd>${html(request.scopes.join(" ") || "none")}</dd>
</dl>`;
}

function hidden(request: RequestSummary): string {
  return `<input type="hidden" name="csrf" value="${html(request.csrf)}">`;
}

export function renderLoginPage(
  request: RequestSummary,
  problem?: { status: number; message: string; username?: string },
): PageResponse {
  const error = problem ? `<p class="error" role="alert">${html(problem.message)}</p>` : "";
  const action = `/oauth/interaction/${encodeURIComponent(request.uid)}`;
  const body = layout(
    "Sign in",
    `<h1>Sign in to allow ${html(request.clientName)}</h1>
${error}${summary(request)}
<form method="post" action="${action}/login">
${hidden(request)}
<label for="username">User name</label>
<input type="text" id="username" name="username" autocomplete="username" required maxlength="128" value="${html(problem?.username ?? "")}" autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1024">
<div class="actions">
<button type="submit">Sign in and allow</button>
<button type="submit" class="secondary" formaction="${action}/deny" formnovalidate>Cancel</button>
</div>
</form>
<p class="note">Signing in lets this application act as you on this server until you sign out.</p>`,
  );
  return {
    status: problem?.status ?? 200,
    headers: securityHeaders(redirectOrigin(request.redirectUri)),
    body,
  };
}

export function renderConsentPage(request: RequestSummary, username: string): PageResponse {
  const action = `/oauth/interaction/${encodeURIComponent(request.uid)}`;
  const body = layout(
    "Allow access",
    `<h1>Allow ${html(request.clientName)}?</h1>
<p>Signed in as <strong>${html(username)}</strong>.</p>
${summary(request)}
<form method="post" action="${action}/allow">
${hidden(request)}
<div class="actions">
<button type="submit">Allow</button>
<button type="submit" class="secondary" formaction="${action}/deny">Deny</button>
</div>
</form>`,
  );
  return { status: 200, headers: securityHeaders(redirectOrigin(request.redirectUri)), body };
}

export function renderErrorPage(error: string, description: string, status = 400): PageResponse {
  const body = layout(
    "Sign-in problem",
    `<h1>This sign-in cannot continue</h1>
<p class="error" role="alert"><span id="error-code">${html(error)}</span>${description ? `: ${html(description)}` : ""}</p>
<p class="note">Start again from the application you were using.</p>`,
  );
  return { status, headers: securityHeaders(undefined), body };
}
