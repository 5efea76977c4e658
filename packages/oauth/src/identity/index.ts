export { type GroupMappings, loadGroupMappings, parseGroupMappings } from "./group-mappings.js";
export {
  identityValueProblem,
  maximumGroupCount,
  maximumGroupLength,
  maximumSubjectLength,
  maximumUsernameLength,
  reservedPrefix,
  type ValueProblem,
} from "./identity-values.js";
export { defaultIdentityRules, type PrincipalFromClaimsOptions, principalFromClaims } from "./principal-from-claims.js";
