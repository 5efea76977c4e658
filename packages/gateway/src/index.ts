export { type ParsedArguments, parseArguments } from "./arguments.js";
export { configSchema, type GatewayConfig, helpText, loadConfig } from "./config.js";
export { createHttpApp, defaultAllowedHosts, type HttpAppOptions, httpStatusOf } from "./http-app.js";
export { type OptionName, optionSpecs } from "./option-specs.js";
export { type RunningGateway, startGateway } from "./serve.js";
