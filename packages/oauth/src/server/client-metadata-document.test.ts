import { describe, expect, it, vi } from "vitest";
import {
  type ClientMetadataDocumentOptions,
  createClientMetadataDocuments,
  parseClientIdUrl,
  pinnedLookup,
  type ResolvedAddress,
} from "./client-metadata-document.js";
import {
  authorizationParameters,
  authorizePath,
  clientRedirect,
  createHarness,
  locationOf,
  pkcePair,
  postForm,
  readConsentForm,
  redeem,
  returnFromUpstream,
  submitConsent,
} from "./testing/harness.js";

const clientId = "https://app.example.com/oauth/client.json";
const publicAddress: ResolvedAddress = { address: "93.184.215.14", family: 4 };

function documentBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    client_id: clientId,
    client_name: "Example MCP Client",
    redirect_uris: [clientRedirect],
    grant_types: ["authorization_code", "refresh_token"],
    token_endpoint_auth_method: "none",
    ...overrides,
  });
}

function serving(body: string, init: ResponseInit = {}) {
  return vi.fn(
    async (_url: string | URL | Request, _init?: RequestInit) =>
      new Response(body, { status: 200, headers: { "content-type": "application/json" }, ...init }),
  );
}

function documents(options: Partial<ClientMetadataDocumentOptions>, now: () => number = Date.now) {
  return createClientMetadataDocuments(
    { allowPrivateAddresses: false, resolveHost: async () => [publicAddress], ...options },
    now,
  );
}

describe("Client ID Metadata Documents: SSRF guards", () => {
  it.each([
    ["https://10.0.0.5/client.json", "private"],
    ["https://127.0.0.1/client.json", "loopback"],
    ["https://169.254.169.254/latest/meta-data.json", "link-local"],
    ["https://100.64.1.1/client.json", "carrier-grade NAT"],
    ["https://[::1]/client.json", "loopback"],
    ["https://[::ffff:7f00:1]/client.json", "IPv4-mapped loopback"],
    ["https://[fd00::1]/client.json", "unique local"],
  ])("refuses %s (%s) without fetching it", async (url, reason) => {
    const fetch = serving(documentBody({ client_id: url }));
    const result = await documents({ fetch }).resolve(url);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining(reason) });
    expect(fetch).not.toHaveBeenCalled();
  });

  it("refuses a host whose DNS answer contains any private address, even next to a public one", async () => {
    const fetch = serving(documentBody());
    const result = await documents({
      fetch,
      resolveHost: async () => [publicAddress, { address: "192.168.1.10", family: 4 }],
    }).resolve(clientId);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining("192.168.1.10") });
    expect(fetch).not.toHaveBeenCalled();
  });

  it("refuses localhost through real DNS resolution", async () => {
    const fetch = serving("{}");
    const result = await createClientMetadataDocuments({ allowPrivateAddresses: false, fetch }, Date.now).resolve(
      "https://localhost/client.json",
    );
    expect(result.ok).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("fetches a private address only when explicitly allowed (tests)", async () => {
    const url = "https://127.0.0.1/client.json";
    const fetch = serving(documentBody({ client_id: url }));
    const result = await documents({ fetch, allowPrivateAddresses: true }).resolve(url);
    expect(result.ok).toBe(true);
  });

  it("connects to the vetted address: the fetch gets a dispatcher whose lookup answers that address only", async () => {
    const fetch = serving(documentBody());
    await documents({ fetch }).resolve(clientId);
    const init = fetch.mock.calls[0]?.[1] as RequestInit & { dispatcher?: unknown; redirect?: string };
    expect(init.dispatcher).toBeDefined();
    expect(init.redirect).toBe("manual");

    const lookup = pinnedLookup(publicAddress);
    const single = await new Promise((resolve) =>
      lookup("rebound.example", {}, (_error, address, family) => resolve([address, family])),
    );
    expect(single).toEqual(["93.184.215.14", 4]);
    const all = await new Promise((resolve) =>
      lookup("rebound.example", { all: true }, (_error, addresses) => resolve(addresses)),
    );
    expect(all).toEqual([{ address: "93.184.215.14", family: 4 }]);
  });

  it("does not follow redirects", async () => {
    const fetch = vi.fn(async () => new Response(null, { status: 302, headers: { location: "http://10.0.0.1/" } }));
    const result = await documents({ fetch }).resolve(clientId);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining("redirect") });
  });

  it("refuses a document larger than the limit, even without a Content-Length", async () => {
    const big = documentBody({ client_name: "x".repeat(6000) });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const fetch = vi.fn(
      async () => new Response(stream, { status: 200, headers: { "content-type": "application/json" } }),
    );
    const result = await documents({ fetch }).resolve(clientId);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining("larger than 5120 bytes") });
  });

  it("gives up after the time limit", async () => {
    const fetch = vi.fn(
      (_url: string | URL | Request, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(new Error("aborted")));
        }),
    );
    const result = await documents({ fetch, timeoutMilliseconds: 50 }).resolve(clientId);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining("too long") });
  });
});

describe("Client ID Metadata Documents: validation and caching", () => {
  it("refuses a document whose client_id differs from its URL", async () => {
    const result = await documents({
      fetch: serving(documentBody({ client_id: "https://evil.example/client.json" })),
    }).resolve(clientId);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining("does not equal its URL") });
  });

  it("refuses shared-secret authentication methods, which a public document cannot hold", async () => {
    const result = await documents({
      fetch: serving(documentBody({ token_endpoint_auth_method: "client_secret_basic" })),
    }).resolve(clientId);
    expect(result.ok).toBe(false);
  });

  it("refuses a document without redirect_uris or client_name, or served as text/html", async () => {
    expect((await documents({ fetch: serving(documentBody({ redirect_uris: undefined })) }).resolve(clientId)).ok).toBe(
      false,
    );
    expect((await documents({ fetch: serving(documentBody({ client_name: undefined })) }).resolve(clientId)).ok).toBe(
      false,
    );
    const html = serving(documentBody(), { headers: { "content-type": "text/html" } });
    expect(await documents({ fetch: html }).resolve(clientId)).toEqual({
      ok: false,
      reason: expect.stringContaining("application/json"),
    });
  });

  it.each([
    ["http://app.example.com/client.json", "https"],
    ["https://app.example.com/", "path"],
    ["https://app.example.com/a/../client.json", "normal form"],
    ["https://user@app.example.com/client.json", "user name"],
    ["https://app.example.com/client.json#x", "fragment"],
  ])("refuses the client id URL %s (%s)", (url, reason) => {
    expect(parseClientIdUrl(url)).toEqual({ ok: false, reason: expect.stringContaining(reason) });
  });

  it("caches a document for its max-age, then fetches it again", async () => {
    let time = 0;
    const fetch = serving(documentBody(), {
      headers: { "content-type": "application/json", "cache-control": "max-age=120" },
    });
    const cache = documents({ fetch }, () => time);
    await cache.resolve(clientId);
    await cache.resolve(clientId);
    expect(fetch).toHaveBeenCalledTimes(1);
    time += 121_000;
    await cache.resolve(clientId);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it("shares one fetch between concurrent lookups", async () => {
    const fetch = serving(documentBody());
    const cache = documents({ fetch });
    await Promise.all([cache.resolve(clientId), cache.resolve(clientId), cache.resolve(clientId)]);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

describe("Client ID Metadata Documents at the endpoints", () => {
  it("runs the whole flow for a client identified by its document URL", async () => {
    const fetch = serving(documentBody());
    const harness = createHarness({
      clientMetadataDocuments: { allowPrivateAddresses: false, fetch, resolveHost: async () => [publicAddress] },
    });
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId, challenge: pkce.challenge })),
    );
    expect(locationOf(authorize).origin).toBe("https://idp.example.test");
    const consent = await returnFromUpstream(harness, authorize);
    const html = await consent.clone().text();
    expect(html).toContain("Example MCP Client");
    expect(html).toContain("Described by a document at <strong>app.example.com</strong>");
    expect(html).toContain("this computer");
    const approved = await submitConsent(harness, await readConsentForm(consent), "approve");
    const code = locationOf(approved).searchParams.get("code") ?? "";
    const tokens = await redeem(harness, { clientId, clientSecret: undefined }, code, pkce.verifier);
    expect(tokens.status).toBe(200);
  });

  it("shows a 400 invalid_client page, not a redirect, for a document at a private address", async () => {
    const privateClientId = "https://internal.example.com/client.json";
    const fetch = serving(documentBody({ client_id: privateClientId }));
    const harness = createHarness({
      clientMetadataDocuments: {
        allowPrivateAddresses: false,
        fetch,
        resolveHost: async () => [{ address: "10.1.2.3", family: 4 }],
      },
    });
    const pkce = pkcePair();
    const response = await harness.request(
      authorizePath(authorizationParameters({ clientId: privateClientId, challenge: pkce.challenge })),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
    const html = await response.text();
    expect(html).toContain("invalid_client");
    expect(html).toContain("private address");
    expect(fetch).not.toHaveBeenCalled();
    expect(harness.events.at(-1)).toMatchObject({ type: "client_refused", clientId: privateClientId });
  });

  it("answers 401 invalid_client at the token endpoint for a document at a private address", async () => {
    const privateClientId = "https://internal.example.com/client.json";
    const harness = createHarness({
      clientMetadataDocuments: {
        allowPrivateAddresses: false,
        resolveHost: async () => [{ address: "127.0.0.1", family: 4 }],
      },
    });
    const response = await postForm(harness, "/oauth/token", {
      grant_type: "authorization_code",
      client_id: privateClientId,
      code: "c",
      redirect_uri: clientRedirect,
      code_verifier: "v".repeat(43),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_client");
    expect(body.error_description).toContain("loopback address");
  });
});
