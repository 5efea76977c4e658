// POST /oauth/register: dynamic client registration (RFC 7591), with the initial access token
// unless registration is public.
import type { Hono } from "hono";
import { constantTimeEqual } from "./crypto.js";
import type { EndpointContext } from "./endpoint-context.js";
import { jsonResponse, oauthErrorResponse } from "./responses.js";
import type { AuthorizationServerOptions } from "./types.js";

const retryAfterSeconds = 60;

export function registerRegistrationEndpoint(
  routes: Hono,
  endpoints: EndpointContext,
  registration: AuthorizationServerOptions["registration"],
): void {
  const { clients, emit, time, serviceName } = endpoints;

  routes.post("/oauth/register", async (context) => {
    if (!registration.allowPublic) {
      const expected = registration.accessToken;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(context.req.header("authorization") ?? "");
      const presented = match?.[1];
      if (expected === undefined || presented === undefined || !constantTimeEqual(presented, expected)) {
        const reason =
          expected === undefined
            ? "Dynamic client registration is disabled; use a Client ID Metadata Document URL as client_id."
            : presented === undefined
              ? "Client registration requires an initial access token (Authorization: Bearer …)."
              : "The registration access token is not valid.";
        emit({ type: "registration_refused", time: time(), reason, code: "unauthorized" });
        const challenge =
          presented === undefined
            ? `Bearer realm="${serviceName}"`
            : `Bearer realm="${serviceName}", error="invalid_token"`;
        return oauthErrorResponse(401, "invalid_token", reason, { "www-authenticate": challenge });
      }
    }
    if (!/^application\/json\s*(;|$)/i.test(context.req.header("content-type") ?? "")) {
      return oauthErrorResponse(
        400,
        "invalid_client_metadata",
        "The registration request must be JSON (application/json).",
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(await context.req.text());
    } catch {
      return oauthErrorResponse(400, "invalid_client_metadata", "The registration request is not valid JSON.");
    }
    const result = await clients.register(body);
    if (!result.ok) {
      const capacity = result.error === "temporarily_unavailable";
      emit({
        type: "registration_refused",
        time: time(),
        reason: result.description,
        code: capacity ? "capacity" : "invalid_metadata",
      });
      if (capacity) {
        // Not the client's fault and not permanent: places come free as unused registrations
        // expire. Sign-ins of clients registered earlier are not affected.
        return oauthErrorResponse(503, result.error, result.description, { "retry-after": String(retryAfterSeconds) });
      }
      return oauthErrorResponse(400, result.error, result.description);
    }
    emit({
      type: "client_registered",
      time: time(),
      clientId: result.client.clientId,
      clientName: result.client.clientName,
      tokenEndpointAuthMethod: result.client.tokenEndpointAuthMethod,
      redirectUris: result.client.redirectUris,
    });
    return jsonResponse(result.body, 201);
  });
}
