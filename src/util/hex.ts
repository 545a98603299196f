/**
 * The hex formats of the protocol, defined once: an address is `0x` + 40 hex digits, a hash
 * (transaction hash, settlement hash, authorization nonce) is `0x` + 64. Each comes as the
 * pattern string (for JSON schemas) and as a RegExp (for code). Either case is accepted: an
 * EIP-55 checksummed address is mixed case.
 */

/** JSON-schema pattern of an address. */
export const ADDRESS_PATTERN = '^0x[0-9a-fA-F]{40}$';
/** JSON-schema pattern of a 32-byte hash. */
export const HASH_PATTERN = '^0x[0-9a-fA-F]{64}$';

/** {@link ADDRESS_PATTERN} as a RegExp. */
export const ADDRESS_RE = new RegExp(ADDRESS_PATTERN);
/** {@link HASH_PATTERN} as a RegExp. */
export const HASH_RE = new RegExp(HASH_PATTERN);

/** True for `0x` followed by 40 hex digits. */
export function isAddress(value: unknown): value is string {
  return typeof value === 'string' && ADDRESS_RE.test(value);
}

/** True for `0x` followed by 64 hex digits. */
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HASH_RE.test(value);
}
