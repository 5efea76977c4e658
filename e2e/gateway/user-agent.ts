// A small browser stand-in for tests: follows redirects across origins, keeps cookies per origin,
// reads HTML forms and submits them. Enough to walk an OAuth login without a browser; the real
// browser (Chromium) walks it once in its own test.
import { request as httpRequest } from "node:http";
import { Agent, request as httpsRequest } from "node:https";

export interface Page {
  readonly url: URL;
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface HtmlForm {
  readonly action: URL;
  readonly method: string;
  /** Every named input with a value (hidden fields, prefilled fields). */
  readonly fields: Record<string, string>;
  /** Named submit buttons and their values. */
  readonly buttons: readonly { name: string; value: string }[];
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(Number.parseInt(code, 16)))
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, "i").exec(tag);
  const value = match?.[2] ?? match?.[3] ?? match?.[4];
  return value === undefined ? undefined : decodeEntities(value);
}

/** The forms of an HTML page, with their inputs and buttons. */
export function formsOf(page: Page): HtmlForm[] {
  return [...page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((match) => {
    const [, openTag = "", inner = ""] = match;
    const fields: Record<string, string> = {};
    const buttons: { name: string; value: string }[] = [];
    for (const input of inner.matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const [, element = "", tag = ""] = input;
      const name = attribute(tag, "name");
      if (!name) continue;
      const type = (attribute(tag, "type") ?? (element.toLowerCase() === "button" ? "submit" : "text")).toLowerCase();
      const value = attribute(tag, "value") ?? "";
      if (type === "submit") buttons.push({ name, value });
      else fields[name] = value;
    }
    return {
      action: new URL(attribute(openTag, "action") ?? page.url.href, page.url),
      method: (attribute(openTag, "method") ?? "get").toUpperCase(),
      fields,
      buttons,
    };
  });
}

export class UserAgent {
  readonly #cookies = new Map<string, Map<string, string>>();
  readonly #httpsAgent: Agent;

  constructor(options: { certificateAuthorities?: readonly string[] } = {}) {
    this.#httpsAgent = new Agent({
      ca: options.certificateAuthorities ? [...options.certificateAuthorities] : undefined,
    });
  }

  #jar(url: URL): Map<string, string> {
    let jar = this.#cookies.get(url.origin);
    if (!jar) {
      jar = new Map();
      this.#cookies.set(url.origin, jar);
    }
    return jar;
  }

  /** One request, no redirect following. */
  send(
    url: URL,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Page> {
    const jar = this.#jar(url);
    const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    const headers: Record<string, string> = { ...init.headers };
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
    if (body !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = send(
        url,
        {
          method: init.method ?? (body ? "POST" : "GET"),
          headers,
          ...(url.protocol === "https:" ? { agent: this.#httpsAgent } : {}),
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.on("end", () => {
            const setCookie = incoming.headers["set-cookie"] ?? [];
            for (const line of setCookie) {
              const [pair = ""] = line.split(";");
              const index = pair.indexOf("=");
              if (index > 0) jar.set(pair.slice(0, index).trim(), pair.slice(index + 1).trim());
            }
            resolve({
              url,
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            });
          });
          incoming.on("error", reject);
        },
      );
      outgoing.setTimeout(15_000, () => outgoing.destroy(new Error(`${url.pathname} timed out`)));
      outgoing.on("error", reject);
      if (body !== undefined) outgoing.write(body);
      outgoing.end();
    });
  }

  /**
   * Follows redirects from `start` until `isDestination(url)` (returned without being fetched),
   * or a page that is not a redirect, which `onPage` may answer with a form submission.
   */
  async walk(
    start: URL,
    options: {
      isDestination: (url: URL) => boolean;
      onPage?: (page: Page) => { form: HtmlForm; extra?: Record<string, string> } | undefined;
      maxSteps?: number;
    },
  ): Promise<{ destination?: URL; page?: Page; visited: URL[] }> {
    const visited: URL[] = [];
    let next: { url: URL; form?: Record<string, string> } = { url: start };
    for (let step = 0; step < (options.maxSteps ?? 20); step += 1) {
      if (options.isDestination(next.url)) return { destination: next.url, visited };
      visited.push(next.url);
      const page = await this.send(next.url, next.form ? { form: next.form } : {});
      if (page.status >= 300 && page.status < 400 && page.headers.location) {
        next = { url: new URL(String(page.headers.location), next.url) };
        continue;
      }
      const answer = options.onPage?.(page);
      if (!answer) return { page, visited };
      next = { url: answer.form.action, form: { ...answer.form.fields, ...answer.extra } };
    }
    throw new Error(`too many steps from ${start.href}`);
  }

  close(): void {
    this.#httpsAgent.destroy();
  }
}
