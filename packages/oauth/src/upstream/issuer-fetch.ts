// The HTTP client openid-client uses to reach the identity provider. A private issuer (the
// fleet's provider, an in-house Dex) is trusted through its own CA, handed to an undici Agent;
// certificate verification stays on in every case.
import type { CustomFetch } from "openid-client";
import { Agent, fetch } from "undici";

export interface IssuerFetch {
  readonly fetch: CustomFetch;
  close(): Promise<void>;
}

/**
 * A fetch for openid-client's `customFetch`. With `caPem`, that CA (bundle) is the only trust
 * anchor for the issuer, as kube-apiserver's `--oidc-ca-file` does; without it, the system's
 * roots apply.
 */
export function createIssuerFetch(caPem: string | undefined): IssuerFetch {
  const agent = new Agent({
    // Never `rejectUnauthorized: false`: a provider whose certificate does not verify is unreachable.
    connect: caPem === undefined ? {} : { ca: caPem },
    connections: 8,
  });
  const issuerFetch: CustomFetch = async (url, options) => {
    const response = await fetch(url, {
      method: options.method,
      headers: options.headers,
      body: options.body as string | Uint8Array | URLSearchParams | undefined,
      redirect: options.redirect,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      dispatcher: agent,
    });
    // undici's Response is the implementation behind Node's global one; openid-client checks
    // responses by their Symbol.toStringTag, so this one is accepted as is.
    return response as unknown as Response;
  };
  return { fetch: issuerFetch, close: () => agent.close() };
}
