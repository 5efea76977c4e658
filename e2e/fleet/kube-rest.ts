// A minimal Kubernetes REST client for bootstrapping the fleet (creating CRDs, RBAC, sample
// objects). The product uses @kubernetes/client-node; the fleet keeps its own tiny client so
// the test bed never depends on the code under test.
import { Agent, request } from "node:https";

export interface KubeCredentials {
  readonly server: string;
  readonly caPem: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly token?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

export interface KubeResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
}

export class KubeRestClient {
  readonly #credentials: KubeCredentials;
  readonly #agent: Agent;

  constructor(credentials: KubeCredentials) {
    this.#credentials = credentials;
    this.#agent = new Agent({
      keepAlive: true,
      ca: credentials.caPem,
      ...(credentials.certPem ? { cert: credentials.certPem } : {}),
      ...(credentials.keyPem ? { key: credentials.keyPem } : {}),
    });
  }

  get server(): string {
    return this.#credentials.server;
  }

  async request<T = unknown>(
    method: string,
    apiPath: string,
    body?: unknown,
    options: { contentType?: string; timeoutMilliseconds?: number } = {},
  ): Promise<KubeResponse<T>> {
    const url = new URL(apiPath, this.#credentials.server);
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const headers: Record<string, string | string[]> = { accept: "application/json" };
    for (const [name, value] of Object.entries(this.#credentials.headers ?? {})) {
      headers[name] = typeof value === "string" ? value : [...value];
    }
    if (this.#credentials.token) headers.authorization = `Bearer ${this.#credentials.token}`;
    if (payload !== undefined) {
      headers["content-type"] = options.contentType ?? "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const outgoing = request(
        url,
        { method, headers, agent: this.#agent, timeout: options.timeoutMilliseconds ?? 15_000 },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            if ((incoming.headers["content-type"] ?? "").includes("json") && text.length > 0) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            resolve({ status: incoming.statusCode ?? 0, body: parsed as T, text });
          });
          incoming.on("error", reject);
        },
      );
      outgoing.on("timeout", () => outgoing.destroy(new Error(`${method} ${apiPath} timed out`)));
      outgoing.on("error", reject);
      if (payload !== undefined) outgoing.write(payload);
      outgoing.end();
    });
  }

  /** Like `request`, but a status outside 2xx is an error that names the call. */
  async expectOk<T = unknown>(method: string, apiPath: string, body?: unknown, contentType?: string): Promise<T> {
    const response = await this.request<T>(method, apiPath, body, contentType ? { contentType } : {});
    if (response.status < 200 || response.status > 299) {
      throw new Error(`${method} ${apiPath} answered ${response.status}: ${response.text.slice(0, 500)}`);
    }
    return response.body;
  }

  /** Server-side apply, the same way `kubectl apply --server-side` does it: idempotent. */
  async apply(apiPath: string, object: unknown): Promise<unknown> {
    return this.expectOk(
      "PATCH",
      `${apiPath}?fieldManager=capi-mcp-fleet&force=true`,
      object,
      "application/apply-patch+yaml",
    );
  }

  close(): void {
    this.#agent.destroy();
  }
}
