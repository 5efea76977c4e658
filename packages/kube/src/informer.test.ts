import type { KubeObject } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { createInformer, type InformerChange, type InformerErrorContext } from "./informer.js";
import { createFakeWatchTransport, eventually, object } from "./testing/fake-watch-transport.js";
import { KubeHttpError } from "./transport-error.js";

const path = "/api/v1/namespaces/web/configmaps";
const fast = { backoff: { initialMilliseconds: 1, maximumMilliseconds: 4 }, random: () => 1, timeoutSeconds: 60 };

function summary(changes: readonly InformerChange[]): string[] {
  return changes.map(
    (change) => `${change.type} ${change.object.metadata?.name}@${change.object.metadata?.resourceVersion}`,
  );
}

function listOf(resourceVersion: string, items: KubeObject[], continueToken?: string) {
  return { metadata: { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) }, items };
}

describe("the informer", () => {
  it("lists every page, reports each object as added, then watches from the list's version", async () => {
    const transport = createFakeWatchTransport();
    transport.onList = (request) =>
      request.query?.get("continue") === "page-2"
        ? listOf("20", [object("c", "9")])
        : listOf("20", [object("b", "8"), object("a", "7")], "page-2");
    const informer = createInformer(transport, { path, labelSelector: "app=web", pageSize: 2, ...fast });
    const changes: InformerChange[] = [];
    informer.onChange((change) => changes.push(change));
    await informer.synced;
    expect(informer.hasSynced()).toBe(true);
    expect(summary(changes)).toEqual(["added b@8", "added a@7", "added c@9"]);
    expect(informer.list().map((item) => item.metadata?.name)).toEqual(["a", "b", "c"]);
    expect(transport.listRequests.map((request) => request.query?.toString())).toEqual([
      "limit=2&labelSelector=app%3Dweb",
      "limit=2&continue=page-2&labelSelector=app%3Dweb",
    ]);
    const stream = await transport.nextStream(0);
    expect(stream.request.query?.get("resourceVersion")).toBe("20");
    expect(stream.request.query?.get("labelSelector")).toBe("app=web");
    await informer.stop();
  });

  it("applies watch events to its copy and reports them", async () => {
    const transport = createFakeWatchTransport();
    transport.onList = () => listOf("20", [object("a", "7")]);
    const informer = createInformer(transport, { path, ...fast });
    const changes: InformerChange[] = [];
    informer.onChange((change) => changes.push(change));
    const stream = await transport.nextStream(0);
    stream.send("ADDED", object("b", "21"));
    stream.send("MODIFIED", object("a", "22", { data: { mode: "on" } }));
    stream.send("DELETED", object("b", "23"));
    stream.send("BOOKMARK", { metadata: { resourceVersion: "30" } });
    await eventually(() => informer.resourceVersion === "30");
    expect(summary(changes)).toEqual(["added a@7", "added b@21", "modified a@22", "deleted b@23"]);
    expect(changes[2]?.previous?.metadata?.resourceVersion).toBe("7");
    expect(informer.get("web/a")?.data).toEqual({ mode: "on" });
    expect(informer.get("web/b")).toBeUndefined();
    await informer.stop();
  });

  it("lists again after a 410 and reports exactly what changed while it was not watching", async () => {
    const transport = createFakeWatchTransport();
    transport.onList = () => listOf("20", [object("kept", "1"), object("changed", "2"), object("gone", "3")]);
    const informer = createInformer(transport, { path, ...fast });
    const changes: InformerChange[] = [];
    informer.onChange((change) => changes.push(change));
    const first = await transport.nextStream(0);
    changes.length = 0;
    transport.onList = () => listOf("90", [object("kept", "1"), object("changed", "50"), object("new", "60")]);
    first.send("ERROR", { kind: "Status", code: 410, reason: "Expired" } as never);
    const second = await transport.nextStream(1);
    expect(summary(changes).sort()).toEqual(["added new@60", "deleted gone@3", "modified changed@50"]);
    expect(second.request.query?.get("resourceVersion")).toBe("90");
    expect(informer.list().map((item) => item.metadata?.name)).toEqual(["changed", "kept", "new"]);
    await informer.stop();
  });

  it("reports an object recreated under the same name as deleted then added", async () => {
    const transport = createFakeWatchTransport();
    transport.onList = () => listOf("20", [object("a", "7")]);
    const informer = createInformer(transport, { path, ...fast });
    const changes: InformerChange[] = [];
    informer.onChange((change) => changes.push(change));
    const first = await transport.nextStream(0);
    transport.onList = () => listOf("40", [object("a", "35", { metadata: { name: "a", uid: "uid-a-2" } })]);
    first.send("ERROR", { kind: "Status", code: 410 } as never);
    await transport.nextStream(1);
    expect(changes.map((change) => `${change.type} ${change.object.metadata?.uid}`)).toEqual([
      "added uid-a",
      "deleted uid-a",
      "added uid-a-2",
    ]);
    await informer.stop();
  });

  it("relists on its resync period and reports drift", async () => {
    const transport = createFakeWatchTransport();
    transport.onList = () => listOf("20", [object("a", "7")]);
    const informer = createInformer(transport, { path, resyncMilliseconds: 50, ...fast });
    const changes: InformerChange[] = [];
    informer.onChange((change) => changes.push(change));
    const first = await transport.nextStream(0);
    transport.onList = () => listOf("25", [object("a", "24")]);
    const second = await transport.nextStream(1);
    expect(first.closed).toBe(true);
    expect(transport.listRequests.length).toBeGreaterThanOrEqual(2);
    expect(summary(changes)).toEqual(["added a@7", "modified a@24"]);
    expect(second.request.query?.get("resourceVersion")).toBe("25");
    await informer.stop();
  });

  it("retries a failed list with backoff and becomes synced once a list succeeds", async () => {
    const transport = createFakeWatchTransport();
    let calls = 0;
    transport.onList = () => {
      calls += 1;
      return calls < 3 ? new KubeHttpError(503, "unavailable") : listOf("5", [object("a", "4")]);
    };
    const errors: InformerErrorContext[] = [];
    const informer = createInformer(transport, { path, ...fast, onError: (_error, context) => errors.push(context) });
    expect(informer.hasSynced()).toBe(false);
    await informer.synced;
    expect(errors).toEqual([
      { phase: "list", retryInMilliseconds: 1 },
      { phase: "list", retryInMilliseconds: 2 },
    ]);
    expect(informer.list()).toHaveLength(1);
    await informer.stop();
  });

  it("asks for metadata only on both list and watch when told to, and keeps only what transform returns", async () => {
    const transport = createFakeWatchTransport();
    transport.onList = () => listOf("5", [{ ...object("a", "4"), data: { token: "c2VjcmV0" } }]);
    const informer = createInformer(transport, {
      path: "/api/v1/namespaces/web/secrets",
      metadataOnly: true,
      transform: (item) => ({ metadata: { name: item.metadata?.name, namespace: item.metadata?.namespace } }),
      ...fast,
    });
    await informer.synced;
    const stream = await transport.nextStream(0);
    expect(transport.listRequests[0]?.accept).toBe("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1");
    expect(stream.request.accept).toBe("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
    expect(JSON.stringify(informer.list())).not.toContain("c2VjcmV0");
    await informer.stop();
  });

  it("keeps serving other subscribers when one throws, and reports the fault", async () => {
    const transport = createFakeWatchTransport();
    transport.onList = () => listOf("5", [object("a", "4")]);
    const errors: InformerErrorContext[] = [];
    const informer = createInformer(transport, { path, ...fast, onError: (_error, context) => errors.push(context) });
    informer.onChange(() => {
      throw new Error("subscriber bug");
    });
    const seen: string[] = [];
    informer.onChange((change) => seen.push(change.type));
    await informer.synced;
    const stream = await transport.nextStream(0);
    stream.send("MODIFIED", object("a", "6"));
    await eventually(() => seen.length === 2);
    expect(seen).toEqual(["added", "modified"]);
    expect(errors.filter((context) => context.phase === "listener")).toHaveLength(2);
    await informer.stop();
  });

  it("stops its stream on stop, and a stop before the first list rejects synced", async () => {
    const transport = createFakeWatchTransport();
    transport.onList = () => new KubeHttpError(403, "forbidden");
    const never = createInformer(transport, { path, ...fast });
    await never.stop();
    await expect(never.synced).rejects.toThrow(/stopped before its first list/);

    const working = createFakeWatchTransport();
    const informer = createInformer(working, { path, ...fast });
    const stream = await working.nextStream(0);
    await informer.stop();
    expect(stream.closed).toBe(true);
  });

  it("backs off when every fresh watch expires at once, rather than relisting in a tight loop", async () => {
    const transport = createFakeWatchTransport();
    const errors: InformerErrorContext[] = [];
    const informer = createInformer(transport, { path, ...fast, onError: (_error, context) => errors.push(context) });
    for (let index = 0; index < 3; index += 1) {
      (await transport.nextStream(index)).send("ERROR", { kind: "Status", code: 410 } as never);
    }
    await transport.nextStream(3);
    expect(errors.map((context) => context.retryInMilliseconds)).toEqual([0, 1, 2]);
    await informer.stop();
  });
});
