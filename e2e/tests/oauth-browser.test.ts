// The OAuth login once through a real browser: Debian's Chromium driven by playwright-core, from
// the MCP SDK's authorization URL through the provider's login page and the gateway's consent page.
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { resultText } from "../gateway/harness.ts";
import { loginThroughGateway, type OAuthGateway, startOAuthGateway } from "../gateway/oauth-flow.ts";

let info: FleetInfo;
let scratch: string;
let gateway: OAuthGateway;
let browser: Browser;

beforeAll(async () => {
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-browser-"));
  gateway = await startOAuthGateway(info, scratch, { kubeAuth: "impersonation" });
  // Trust exactly the provider's certificate (by its public key), nothing else.
  const serving = new X509Certificate(await readFile(path.join(info.stateDirectory, "pki", "oidc-serving.crt")));
  const spki = createHash("sha256")
    .update(serving.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64");
  browser = await chromium.launch({
    executablePath: process.env.CAPI_MCP_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe("the OAuth login in a real browser", () => {
  it("takes bob from the authorization URL through login and consent, and his client then calls tools", async () => {
    const bob = info.users.find((user) => user.name === "bob");
    const session = await loginThroughGateway(info, gateway, "bob", {
      walk: async (authorization, redirectUri) => {
        const page = await (await browser.newContext()).newPage();
        let captured: string | undefined;
        // The client's redirect URI: answer it in the browser, as a native client's listener would.
        await page.route(`${redirectUri}**`, async (route) => {
          captured = route.request().url();
          await route.fulfill({ status: 200, contentType: "text/plain", body: "You can close this window." });
        });
        await page.goto(authorization.href);
        await page.fill("input[name=login]", String(bob?.email));
        await page.fill("input[name=password]", String(bob?.password));
        await page.click("button[type=submit]");
        await page.waitForSelector("button[value=approve]");
        expect(await page.textContent("body")).toContain("capi-mcp e2e client");
        await page.screenshot({ path: path.join(os.tmpdir(), "capi-mcp-consent-page.png") });
        await page.click("button[value=approve]");
        await page.waitForURL(`${redirectUri}**`);
        await page.context().close();
        if (!captured) throw new Error("the browser never reached the client's redirect URI");
        return new URL(captured);
      },
    });
    try {
      const answer = await session.client.callTool({
        name: "k8s_list_resources",
        arguments: { resource: "pods", namespace: "web" },
      });
      expect(answer.isError, resultText(answer)).toBe(false);
      expect(resultText(answer)).toContain("frontend-5d8f7c9b6");
    } finally {
      await session.close();
    }
  });
});
