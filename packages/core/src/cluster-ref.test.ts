import { describe, expect, it } from "vitest";
import { formatClusterRef, parseClusterRef, sameCluster } from "./cluster-ref.js";
import { GatewayError } from "./gateway-error.js";

describe("cluster references", () => {
  it("parses namespace/name and formats it back unchanged", () => {
    const ref = parseClusterRef("org-acme/prod");
    expect(ref).toEqual({ namespace: "org-acme", name: "prod" });
    expect(formatClusterRef(ref)).toBe("org-acme/prod");
  });

  it("tells two clusters with the same name in different namespaces apart", () => {
    expect(sameCluster(parseClusterRef("org-acme/prod"), parseClusterRef("org-globex/prod"))).toBe(false);
    expect(sameCluster(parseClusterRef("org-acme/prod"), parseClusterRef("org-acme/prod"))).toBe(true);
  });

  it.each(["prod", "a/b/c", "/prod", "org-acme/", "Org/prod", "org_acme/prod", `${"a".repeat(64)}/x`])(
    "refuses %j with an invalid_input error that explains the expected form",
    (text) => {
      let thrown: unknown;
      try {
        parseClusterRef(text);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(GatewayError);
      expect((thrown as GatewayError).code).toBe("invalid_input");
      expect((thrown as GatewayError).message).toMatch(/namespace|name/);
    },
  );
});
