import { guardedOperations, isGuardedOperation } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { allTools } from "./all-tools.js";
import * as publicApi from "./index.js";

const documentedNames = [
  "k8s_get_resource",
  "k8s_list_resources",
  "k8s_describe_resource",
  "k8s_create_resource",
  "k8s_apply_resource",
  "k8s_patch_resource",
  "k8s_delete_resource",
  "k8s_scale_resource",
  "k8s_get_pod_logs",
  "k8s_exec_pod",
  "k8s_port_forward_pod",
  "k8s_port_forward_service",
  "k8s_list_port_forwards",
  "k8s_stop_port_forward",
  "k8s_list_contexts",
  "k8s_get_current_context",
  "k8s_switch_context",
  "k8s_get_api_resources",
  "k8s_get_cluster_health",
  "k8s_list_events",
  "k8s_can_i",
  "capi_list_clusters",
  "capi_get_cluster",
  "capi_cluster_health",
];

describe("allTools", () => {
  it("holds every documented tool once, by its documented name", () => {
    expect(allTools.map((tool) => tool.name)).toEqual(documentedNames);
  });

  it("exports every tool from the package's entry point", () => {
    const exported = new Set(Object.values(publicApi));
    for (const tool of allTools) expect(exported.has(tool)).toBe(true);
  });

  it("covers every guarded operation, and marks only reads and session tools read-only", () => {
    const operations = new Set(allTools.map((tool) => tool.operation));
    for (const operation of guardedOperations) expect(operations.has(operation)).toBe(true);
    for (const tool of allTools) {
      if (isGuardedOperation(tool.operation)) expect(tool.annotations.readOnlyHint, tool.name).toBe(false);
      if (tool.operation === "read") expect(tool.annotations.readOnlyHint, tool.name).toBe(true);
      expect(tool.annotations.openWorldHint, tool.name).toBe(false);
    }
  });

  it("marks the tools that may destroy or overwrite as destructive", () => {
    const destructive = allTools.filter((tool) => tool.annotations.destructiveHint).map((tool) => tool.name);
    expect(destructive.sort()).toEqual(
      ["k8s_apply_resource", "k8s_delete_resource", "k8s_exec_pod", "k8s_patch_resource", "k8s_scale_resource"].sort(),
    );
  });

  it("describes every argument, so the JSON schema the model sees explains each one", () => {
    for (const tool of allTools) {
      const schema = z.toJSONSchema(tool.input, { io: "input" }) as {
        properties?: Record<string, { description?: string }>;
      };
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        expect(property.description, `${tool.name}.${name}`).toBeTruthy();
      }
      expect(tool.description.length, tool.name).toBeLessThan(300);
    }
  });

  it("offers an optional cluster argument on every tool that reaches a cluster", () => {
    const sessionOnly = ["k8s_stop_port_forward", "k8s_list_contexts", "k8s_get_current_context"];
    // Reads the catalog of visible clusters, never one cluster.
    const catalogOnly = ["capi_list_clusters"];
    for (const tool of allTools) {
      if (sessionOnly.includes(tool.name) || catalogOnly.includes(tool.name)) continue;
      expect(Object.keys(tool.input.shape), tool.name).toContain("cluster");
    }
  });
});
