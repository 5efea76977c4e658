export { type ParsedArguments, parseArguments } from "./arguments.js";
export { configSchema, type GatewayConfig, helpText, loadConfig, type OptionName, optionSpecs } from "./config.js";
export { createHttpApp, defaultAllowedHosts, type HttpAppOptions, httpStatusOf } from "./http-app.js";
export { type RunningGateway, startGateway } from "./serve.js";
