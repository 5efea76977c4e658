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
