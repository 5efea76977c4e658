// POST /oauth/consent: the user's answer to the consent page. It counts only from this gateway's
// own page (Origin), with the page's CSRF token, in the browser the page was shown to (cookie),
// and once.
import type { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import { constantTimeEqual, sha256 } from "./crypto.js";
import type { EndpointContext } from "./endpoint-context.js";
import { actorOf } from "./grants.js";
import { pendingConsentSchema, principalFromRecord, readRecord, storeKeys, writeRecord } from "./records.js";
import { readForm, singleParameters } from "./request-parameters.js";
import { errorPage, redirectWithParameters } from "./responses.js";

const consentFormSchema = z.object({
  consent_id: z.string().min(1).max(128),
  csrf_token: z.string().min(1).max(128),
  decision: z.enum(["approve", "deny"]),
});

export function registerConsentEndpoint(routes: Hono, endpoints: EndpointContext): void {
  const { baseUrl, store, lifetimes, grants, cookies, emit, time, now } = endpoints;

  routes.post("/oauth/consent", async (context) => {
    const refused = (status: number, error: string, message: string) =>
      errorPage({ status, error, title: "This consent form cannot be used", message });
    const origin = context.req.header("origin");
    if (origin !== undefined && origin !== baseUrl) {
      return refused(403, "access_denied", "The consent form was not sent from this gateway's own page.");
    }
    const form = await readForm(context);
    const parsed = consentFormSchema.safeParse(form === undefined ? {} : singleParameters(form).values);
    if (!parsed.success) {
      return refused(400, "invalid_request", "The consent form is incomplete.");
    }
    const key = storeKeys.pendingConsent(parsed.data.consent_id);
    const pending = await readRecord(store, key, pendingConsentSchema);
    if (pending === undefined) {
      return refused(
        400,
        "invalid_request",
        "This consent request has expired or was already answered. Start again from your application.",
      );
    }
    const binding = getCookie(context, cookies.consentCookieName) ?? "";
    const genuine =
      constantTimeEqual(sha256(parsed.data.csrf_token), pending.csrfTokenHash) &&
      constantTimeEqual(sha256(binding), pending.browserBindingHash);
    if (!genuine) {
      return refused(
        403,
        "access_denied",
        "This consent form was not issued to this browser. Start again from your application.",
      );
    }
    // Taking the request makes the decision single-use, even with two submissions at once.
    if ((await store.take(key)) === undefined) {
      return refused(400, "invalid_request", "This consent request was already answered.");
    }
    const request = pending.request;
    const principal = principalFromRecord(pending.principal);
    const clearCookie = cookies.consentCookie("", 0);
    const decide = (parameters: Record<string, string | undefined>) => {
      const response = redirectWithParameters(
        request.redirectUri,
        { ...parameters, state: request.state, iss: baseUrl },
        303,
      );
      response.headers.append("set-cookie", clearCookie);
      return response;
    };
    const consentEvent = (decision: "approved" | "denied") =>
      emit({
        type: "consent",
        time: time(),
        clientId: request.clientId,
        actor: actorOf(principal),
        decision,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
      });
    if (parsed.data.decision === "deny") {
      consentEvent("denied");
      return decide({ error: "access_denied", error_description: "The user denied access." });
    }
    await writeRecord(
      store,
      storeKeys.consent(principal, request.clientId, request.redirectUri),
      { givenAt: now(), scopes: request.scopes },
      lifetimes.consentSeconds,
    );
    consentEvent("approved");
    const code = await grants.createGrant(request, principal, pending.upstream);
    return decide({ code });
  });
}
