// Reading OAuth request parameters: the rules every endpoint shares (RFC 6749 §3.1, §3.2), so
// that a repeated or oversized parameter is refused the same way wherever it arrives.
import type { Context } from "hono";
import { z } from "zod";

export const optionalText = (maximum: number) => z.string().max(maximum).optional();

/**
 * Reads parameters that must appear at most once (RFC 6749 §3.1, §3.2). An empty value counts as
 * absent, as the RFC says.
 */
export function singleParameters(parameters: URLSearchParams): { values: Record<string, string>; repeated: string[] } {
  const values: Record<string, string> = {};
  const repeated = new Set<string>();
  for (const [name, value] of parameters) {
    if (value === "") {
      continue;
    }
    if (name in values) {
      repeated.add(name);
    }
    values[name] = value;
  }
  return { values, repeated: [...repeated] };
}

export function describeIssues(error: z.ZodError): string {
  const fields = [...new Set(error.issues.map((issue) => issue.path.join(".") || "(request)"))];
  return `Missing or invalid parameters: ${fields.join(", ")}.`;
}

export function parseScopes(value: string | undefined): string[] | undefined {
  return value?.split(" ").filter((scope) => scope !== "");
}

/** The form body, or undefined when the request is not application/x-www-form-urlencoded. */
export async function readForm(context: Context): Promise<URLSearchParams | undefined> {
  const contentType = context.req.header("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
    return undefined;
  }
  return new URLSearchParams(await context.req.text());
}
