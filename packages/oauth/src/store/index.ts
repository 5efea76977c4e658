export {
  createEncryptedTokenStore,
  type EncryptedTokenStoreOptions,
  type TokenStoreTamperEvent,
  type TokenStoreTamperReason,
} from "./encrypted-token-store.js";
export { createMemoryTokenStore, type MemoryTokenStoreOptions } from "./memory-token-store.js";
export { createRedisTokenStore, type RedisTokenStoreOptions } from "./redis-token-store.js";
export { loadTokenEncryptionKey } from "./token-encryption-key.js";
