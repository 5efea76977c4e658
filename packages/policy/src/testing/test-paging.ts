// The paging a guarded access needs in unit tests: one sealer, one caller.
import { createContinueTokenSealer } from "../continue-tokens.js";
import type { GuardedAccessPaging } from "../guarded-cluster-access.js";

export const testPaging: GuardedAccessPaging = { continueTokens: createContinueTokenSealer(), caller: "test-user" };
