export {
  type CapiCatalogOptions,
  type CapiCatalogs,
  type CapiPoolEvent,
  type CapiPoolEvictionReason,
  createCapiCatalogs,
  managementClusterName,
  type WorkloadClient,
  type WorkloadConnectRequest,
  type WorkloadLimits,
} from "./capi-catalog.js";
export type { CapiChange, CapiCluster, CapiDirectory } from "./capi-contracts.js";
export {
  type CapiDirectoryLogEntry,
  type CapiDirectoryLogLevel,
  type CapiDirectoryOptions,
  capiClusterFrom,
  createCapiDirectory,
  supportedCapiVersions,
} from "./capi-directory.js";
export { createManagementApi, type ManagementApi, type ManagementApiOptions } from "./capi-management-api.js";
export {
  clusterNotFound,
  createStaticCatalog,
  type StaticCatalog,
  type StaticCatalogOptions,
} from "./static-catalog.js";
export {
  type ClientIdentity,
  createUserCatalogs,
  type UserCatalogOptions,
  type UserCatalogs,
  type WorkloadAuthMode,
} from "./user-catalog.js";
export {
  defaultCaConfigMapSuffix,
  kubeconfigSecretSuffix,
  type WorkloadCredentialOptions,
  type WorkloadCredentialSource,
  workloadCredentialSource,
} from "./workload-credentials.js";
