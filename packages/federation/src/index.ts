export {
  clusterNotFound,
  createStaticCatalog,
  type StaticCatalog,
  type StaticCatalogOptions,
} from "./static-catalog.js";
