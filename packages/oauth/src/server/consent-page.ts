// The consent page: the one place where a human decides whether an application may act as them.
// It names the application (as it calls itself, unverified), where the approval is sent, and
// what the application gets, and warns when the approval lands on this computer's loopback,
// where any local program could be listening (MCP 2025-11-25, CIMD security considerations).

import { isLoopbackRedirect, isPrivateUseSchemeRedirect } from "./redirect-uri.js";
import { escapeHtml, htmlPage } from "./responses.js";

export interface ConsentPageInput {
  readonly serviceName: string;
  readonly consentId: string;
  readonly csrfToken: string;
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly clientSource: "registration" | "metadata_document";
  readonly redirectUri: string;
  readonly username: string;
  readonly email: string | undefined;
  readonly scopes: readonly string[];
  readonly cookie: string;
}

export function consentPage(input: ConsentPageInput): Response {
  const redirect = new URL(input.redirectUri);
  const name = input.clientName ?? "An unnamed application";
  const who =
    input.email !== undefined && input.email !== input.username ? `${input.username} (${input.email})` : input.username;
  const publisher =
    input.clientSource === "metadata_document"
      ? `<br>Described by a document at <strong>${escapeHtml(new URL(input.clientId).host)}</strong>.`
      : "<br>Registered with this gateway by the application itself.";
  const privateUse = isPrivateUseSchemeRedirect(input.redirectUri);
  // A private-use scheme has no host to name: the approval goes to whichever app on the device
  // handles the scheme.
  const destination = privateUse ? `the application for ${redirect.protocol}` : redirect.host;
  const privateUseWarning = privateUse
    ? `<p class="warning">The approval is sent to an application on <strong>this device</strong> that handles <code>${escapeHtml(redirect.protocol)}</code> links.
Allow only if you started this sign-in from that application just now: another application could have claimed the same scheme.</p>`
    : "";
  const loopbackWarning = isLoopbackRedirect(input.redirectUri)
    ? `<p class="warning">The approval is sent to a program on <strong>this computer</strong> (${escapeHtml(redirect.host)}).
Allow only if you started this sign-in from an application on this computer just now: any local program could have asked in its name.</p>`
    : "";
  const bodyHtml = `<h1>Allow ${escapeHtml(name)} to use ${escapeHtml(input.serviceName)} as you?</h1>
<p>You are signed in as <strong>${escapeHtml(who)}</strong>.</p>
<dl>
<dt>Application</dt>
<dd>${escapeHtml(name)} <small>(the name the application gives itself; it is not verified)</small><br>Client id: <code>${escapeHtml(input.clientId)}</code>${publisher}</dd>
<dt>Sends your approval to</dt>
<dd><strong>${escapeHtml(destination)}</strong> — <code>${escapeHtml(input.redirectUri)}</code></dd>
<dt>What it gets</dt>
<dd>It can act as you on the Kubernetes clusters you can reach through ${escapeHtml(input.serviceName)}, with your permissions there, until you sign out or revoke it.
Scopes: ${input.scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(" ")}</dd>
</dl>
${loopbackWarning}${privateUseWarning}
<form method="post" action="/oauth/consent">
<input type="hidden" name="consent_id" value="${escapeHtml(input.consentId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrfToken)}">
<div class="actions"><button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></div>
</form>`;
  return htmlPage({
    status: 200,
    title: `Allow ${name}?`,
    bodyHtml,
    // The consent answer is a redirect after a form post, so CSP form-action must allow its
    // target: the origin, or for a private-use scheme (whose origin is "null") the scheme itself.
    formTargets: [privateUse ? redirect.protocol : redirect.origin],
    headers: { "set-cookie": input.cookie },
  });
}
