/**
 * Keccak-256 for signer recovery, by js-sha3 (the hash ethers v5 and solc use). viem's
 * `keccak256` (@noble/hashes) gives the same digests but its permutation alone took 14 µs here
 * against 4 µs for js-sha3's whole hash of 66 bytes (Node 20, the bench machine), and a recovery
 * hashes three times: the struct, the EIP-712 message and the recovered key. Where nothing is
 * hashed per request (the type hash, the domain separators) viem's stays.
 */
import { createRequire } from 'node:module';
import jsSha3 from 'js-sha3';

// CommonJS without named exports Node can see: its functions are the default export's.
const { keccak256: jsSha3Keccak256 } = jsSha3;

/** The Keccak-256 digest of `data`, 32 bytes. */
export function keccak256Bytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(jsSha3Keccak256.arrayBuffer(data));
}

/** The Keccak-256 digest of `data` as 64 lowercase hex digits (no `0x`). */
export function keccak256Hex(data: Uint8Array): string {
  return jsSha3Keccak256(data);
}

/** Where js-sha3's module is, for the signature workers to load it as this module does. */
export function keccakModulePath(): string {
  return createRequire(import.meta.url).resolve('js-sha3');
}
