import type { ToolDefinition } from "@capi-mcp/core";
import { applyResourceTool } from "./tools/apply-resource.js";
import { canITool } from "./tools/can-i.js";
import { capiClusterHealthTool } from "./tools/capi-cluster-health.js";
import { capiGetClusterTool } from "./tools/capi-get-cluster.js";
import { capiListClustersTool } from "./tools/capi-list-clusters.js";
import { createResourceTool } from "./tools/create-resource.js";
import { deleteResourceTool } from "./tools/delete-resource.js";
import { describeResourceTool } from "./tools/describe-resource.js";
import { execPodTool } from "./tools/exec-pod.js";
import { getApiResourcesTool } from "./tools/get-api-resources.js";
import { getClusterHealthTool } from "./tools/get-cluster-health.js";
import { getCurrentContextTool } from "./tools/get-current-context.js";
import { getPodLogsTool } from "./tools/get-pod-logs.js";
import { getResourceTool } from "./tools/get-resource.js";
import { listContextsTool } from "./tools/list-contexts.js";
import { listEventsTool } from "./tools/list-events.js";
import { listPortForwardsTool } from "./tools/list-port-forwards.js";
import { listResourcesTool } from "./tools/list-resources.js";
import { patchResourceTool } from "./tools/patch-resource.js";
import { portForwardPodTool } from "./tools/port-forward-pod.js";
import { portForwardServiceTool } from "./tools/port-forward-service.js";
import { scaleResourceTool } from "./tools/scale-resource.js";
import { stopPortForwardTool } from "./tools/stop-port-forward.js";
import { switchContextTool } from "./tools/switch-context.js";

/** Every tool, in the order `tools/list` shows them. Registration happens where this is used. */
export const allTools = [
  getResourceTool,
  listResourcesTool,
  describeResourceTool,
  createResourceTool,
  applyResourceTool,
  patchResourceTool,
  deleteResourceTool,
  scaleResourceTool,
  getPodLogsTool,
  execPodTool,
  portForwardPodTool,
  portForwardServiceTool,
  listPortForwardsTool,
  stopPortForwardTool,
  listContextsTool,
  getCurrentContextTool,
  switchContextTool,
  getApiResourcesTool,
  getClusterHealthTool,
  listEventsTool,
  canITool,
  capiListClustersTool,
  capiGetClusterTool,
  capiClusterHealthTool,
] as const satisfies readonly ToolDefinition[];
