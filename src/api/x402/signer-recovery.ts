/**
 * The signer of an EIP-3009 authorization's signature: its EIP-712 digest
 * (`authorizationDigest`, equal to viem's `hashTypedData`), then the public key recovered by
 * libsecp256k1 (the `secp256k1` package's native binding, the C library Bitcoin Core and geth
 * use) when it loads, else by viem's own JavaScript recovery. Both give the same answer for every
 * input (test/x402/signer-recovery.test.ts compares them with viem's `recoverTypedDataAddress`);
 * the native one costs about a thirtieth of the CPU (0.1 ms against 3 ms per signature on the
 * 2-core bench machine), which is most of a paid request's CPU when done in JavaScript.
 */
import { createRequire } from 'node:module';
import { getAddress, hexToBytes, recoverAddress, type Hex, type TypedDataDomain } from 'viem';
import { authorizationDigest } from './authorization.js';
import { keccak256Hex } from './keccak.js';
import type { Authorization } from './types.js';

/** The part of the `secp256k1` package used here. */
interface NativeSecp256k1 {
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed?: boolean): Uint8Array;
}

const require = createRequire(import.meta.url);

/**
 * Where the native binding's module is, or undefined when it does not load on this machine (no
 * prebuilt binary for the platform and none compiled): callers then recover with viem.
 */
export function nativeRecoveryModule(): string | undefined {
  try {
    // `secp256k1/bindings`, not `secp256k1`: the package's main falls back to a slow JavaScript
    // implementation silently, and that fallback should be viem's.
    const path = require.resolve('secp256k1/bindings');
    require(path);
    return path;
  } catch {
    return undefined;
  }
}

let native: NativeSecp256k1 | null | undefined;

function loadNative(): NativeSecp256k1 | null {
  if (native === undefined) {
    const path = nativeRecoveryModule();
    native = path === undefined ? null : (require(path) as NativeSecp256k1);
  }
  return native;
}

/** Which recovery this process uses: `native` (libsecp256k1) or `viem` (JavaScript). */
export function signerRecoveryKind(): 'native' | 'viem' {
  return loadNative() === null ? 'viem' : 'native';
}

/**
 * The (checksummed) address that signed `authorization` under `domain`, as viem's
 * `recoverTypedDataAddress` gives it for the same typed data (`authorizationTypedData`); throws
 * where viem throws (a signature that is not 65 bytes, a `v` other than 0, 1, 27 or 28, an `r` or
 * `s` out of range, a point that does not recover, a field that does not fit its type).
 */
export async function recoverAuthorizationSigner(authorization: Authorization, domain: TypedDataDomain, signature: Hex): Promise<Hex> {
  return recoverDigestSigner(authorizationDigest(authorization, domain), signature);
}

/** The address that signed the 32-byte `digest`, recovered natively where the binding loads. */
async function recoverDigestSigner(digest: Uint8Array, signature: Hex): Promise<Hex> {
  const secp = loadNative();
  if (secp === null) return recoverAddress({ hash: digest, signature });
  return recoverWithNative(secp, digest, signature);
}

/** r‖s‖v with v as viem reads it (0/1 or 27/28), recovered by libsecp256k1. */
function recoverWithNative(secp: NativeSecp256k1, hash: Uint8Array, signature: Hex): Hex {
  const bytes = hexToBytes(signature);
  if (bytes.length !== 65) throw new Error('invalid signature length');
  const v = bytes[64] as number;
  const recid = v === 0 || v === 27 ? 0 : v === 1 || v === 28 ? 1 : -1;
  if (recid === -1) throw new Error('Invalid yParityOrV value');
  // The address is the last 20 bytes of the keccak of the uncompressed key without its 0x04 prefix.
  const key = secp.ecdsaRecover(bytes.subarray(0, 64), recid, hash, false);
  return getAddress(`0x${keccak256Hex(key.subarray(1)).slice(-40)}`);
}
