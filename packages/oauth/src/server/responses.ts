// Response shapes: RFC 6749 JSON errors for clients, HTML only for the human in the browser
// (the consent page and error pages), and authorization redirects. Nothing here ever receives a
// token, code or secret to print.

/** Responses carrying tokens or user data must not be cached by anyone (RFC 6749 §5.1). */
const noStore = { "cache-control": "no-store", pragma: "no-cache" };

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...noStore, ...headers },
  });
}

export function oauthErrorResponse(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): Response {
  return jsonResponse({ error, error_description: description }, status, headers);
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const style = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
h1{font-size:1.4rem}code{background:#f2f2f2;padding:0 .25rem;border-radius:3px;word-break:break-all}
.warning{border-left:4px solid #d97706;background:#fff7ed;padding:.5rem 1rem}
.actions{display:flex;gap:1rem;margin-top:2rem}button{font-size:1rem;padding:.5rem 1.25rem;cursor:pointer}
dt{font-weight:600}dd{margin:0 0 .75rem 0}`;

export interface HtmlPageOptions {
  readonly status: number;
  readonly title: string;
  /** Trusted markup: every interpolated value must already be escaped. */
  readonly bodyHtml: string;
  /** Origins a form on the page may lead to (the consent form redirects to the client). */
  readonly formTargets?: readonly string[];
  readonly headers?: Record<string, string>;
}

export function htmlPage(options: HtmlPageOptions): Response {
  const formAction = ["'self'", ...(options.formTargets ?? [])].join(" ");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${escapeHtml(options.title)}</title><style>${style}</style></head>
<body>${options.bodyHtml}</body></html>`;
  return new Response(html, {
    status: options.status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      ...noStore,
      // Clickjacking: the consent page must not be framed by another site (MCP security best practices).
      "x-frame-options": "DENY",
      "content-security-policy": `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action ${formAction}`,
      // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the
      // consent form's POST, and the Origin check there would refuse every real user.
      "referrer-policy": "same-origin",
      "x-content-type-options": "nosniff",
      ...options.headers,
    },
  });
}

export interface ErrorPageOptions {
  readonly status: number;
  readonly error: string;
  readonly title: string;
  readonly message: string;
  /** A validated redirect back to the client carrying the error, when one is known. */
  readonly returnUrl?: string;
}

export function errorPage(options: ErrorPageOptions): Response {
  const back =
    options.returnUrl === undefined
      ? "<p>You can close this window and start again from your application.</p>"
      : `<p><a href="${escapeHtml(options.returnUrl)}">Return to the application</a> (it will be told that sign-in did not complete).</p>`;
  return htmlPage({
    status: options.status,
    title: options.title,
    bodyHtml: `<h1>${escapeHtml(options.title)}</h1><p>${escapeHtml(options.message)}</p>${back}
<p>Error code: <code>${escapeHtml(options.error)}</code></p>`,
  });
}

/** An authorization response (code or error) sent to a redirect URI that has already been validated. */
export function redirectWithParameters(
  redirectUri: string,
  parameters: Record<string, string | undefined>,
  status: 302 | 303 = 302,
): Response {
  return new Response(null, {
    status,
    headers: { location: redirectLocation(redirectUri, parameters), ...noStore, "referrer-policy": "no-referrer" },
  });
}

export function redirectLocation(redirectUri: string, parameters: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined) {
      url.searchParams.set(name, value);
    }
  }
  return url.href;
}
