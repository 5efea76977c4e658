export { allTools } from "./all-tools.js";
export { formatAge, formatDuration } from "./shaping/age.js";
export { type BudgetedText, type BudgetOptions, byteLength, fitToBudget, truncationNote } from "./shaping/budget.js";
export { describeSummary } from "./shaping/describe.js";
export { renderEventTable, sortEventsNewestFirst } from "./shaping/events.js";
export { isPodServing, podReadyCount, podRestarts, podStatus } from "./shaping/pod-status.js";
export { type ResourceTableOptions, renderResourceTable } from "./shaping/resource-table.js";
export { renderTable, type TableCell, truncateText } from "./shaping/table.js";
export { lastAppliedAnnotation, stripForDisplay, toYaml, toYamlDocuments } from "./shaping/yaml.js";
export { accessCluster } from "./support/cluster.js";
export { type FanOutOptions, type FanOutOutcome, fanOut } from "./support/fan-out.js";
export {
  type LabelRequirement,
  type LabelSelector,
  matchesLabels,
  parseLabelSelector,
} from "./support/label-selector.js";
export { parseManifest } from "./support/manifest.js";
export { applyResourceTool } from "./tools/apply-resource.js";
export { canITool } from "./tools/can-i.js";
export { capiClusterHealthTool } from "./tools/capi-cluster-health.js";
export { capiGetClusterTool } from "./tools/capi-get-cluster.js";
export { capiListClustersTool } from "./tools/capi-list-clusters.js";
export { createResourceTool } from "./tools/create-resource.js";
export { deleteResourceTool } from "./tools/delete-resource.js";
export { describeResourceTool } from "./tools/describe-resource.js";
export { execPodTool } from "./tools/exec-pod.js";
export { getApiResourcesTool } from "./tools/get-api-resources.js";
export { getClusterHealthTool } from "./tools/get-cluster-health.js";
export { getCurrentContextTool } from "./tools/get-current-context.js";
export { getPodLogsTool } from "./tools/get-pod-logs.js";
export { getResourceTool } from "./tools/get-resource.js";
export { listContextsTool } from "./tools/list-contexts.js";
export { listEventsTool } from "./tools/list-events.js";
export { listPortForwardsTool } from "./tools/list-port-forwards.js";
export { listResourcesTool } from "./tools/list-resources.js";
export { patchResourceTool } from "./tools/patch-resource.js";
export { portForwardPodTool } from "./tools/port-forward-pod.js";
export { portForwardServiceTool } from "./tools/port-forward-service.js";
export { scaleResourceTool } from "./tools/scale-resource.js";
export { stopPortForwardTool } from "./tools/stop-port-forward.js";
export { switchContextTool } from "./tools/switch-context.js";
