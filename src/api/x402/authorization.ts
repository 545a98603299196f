/**
 * The EIP-712 message an `exact` EVM payment signs: EIP-3009's
 * `TransferWithAuthorization(from, to, value, validAfter, validBefore, nonce)` under the token's
 * domain (name and version from the requirements' `extra`, the network's chain id, the token as
 * verifying contract). The local facilitator checks signatures against it; the development
 * client signs it.
 */
import { concat, domainSeparator, hexToBytes, keccak256, stringToBytes, type Address, type Hex, type TypedDataDomain } from 'viem';
import { keccak256Bytes } from './keccak.js';
import { networkByName } from './networks.js';
import type { Authorization, PaymentRequirements } from './types.js';

/** EIP-3009's typed data. */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

/** The token's EIP-712 domain on the requirements' network, or undefined for an unknown network. */
export function assetDomain(requirements: Pick<PaymentRequirements, 'network' | 'asset' | 'extra'>): TypedDataDomain | undefined {
  const network = networkByName(requirements.network);
  if (network === undefined) return undefined;
  const { name, version } = requirements.extra;
  return { name, version, chainId: network.chainId, verifyingContract: lower(requirements.asset) };
}

// viem refuses a mixed-case address with a wrong EIP-55 checksum (the protocol's data has
// some); the all-lowercase form is the same address and always accepted.
const lower = (address: string) => address.toLowerCase() as Address;

/** The typed data of an authorization under `domain` (digits already checked). */
export function authorizationTypedData(authorization: Authorization, domain: TypedDataDomain) {
  return {
    domain: typeof domain.verifyingContract === 'string' ? { ...domain, verifyingContract: lower(domain.verifyingContract) } : domain,
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: 'TransferWithAuthorization' as const,
    message: {
      from: lower(authorization.from),
      to: lower(authorization.to),
      value: BigInt(authorization.value),
      validAfter: BigInt(authorization.validAfter),
      validBefore: BigInt(authorization.validBefore),
      nonce: authorization.nonce as Hex,
    },
  };
}

/**
 * EIP-712's `encodeType` of the struct: its name and fields, as the type hash covers them (the
 * struct refers to no other struct, so nothing is appended).
 */
const TRANSFER_WITH_AUTHORIZATION_TYPE = `TransferWithAuthorization(${TRANSFER_WITH_AUTHORIZATION_TYPES.TransferWithAuthorization.map((f) => `${f.type} ${f.name}`).join(',')})`;
const TYPE_HASH = hexToBytes(keccak256(stringToBytes(TRANSFER_WITH_AUTHORIZATION_TYPE)));
const EIP712_PREFIX = new Uint8Array([0x19, 0x01]);
const UINT256_LIMIT = 2n ** 256n;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** A 32-byte word of an unsigned integer given in decimal digits; throws outside uint256. */
function uint256Word(digits: string, field: string): Uint8Array {
  const value = BigInt(digits);
  if (value < 0n || value >= UINT256_LIMIT) throw new RangeError(`${field} ${digits} is not a uint256`);
  return hexToBytes(`0x${value.toString(16).padStart(64, '0')}`);
}

/** A 32-byte word of an address, left-padded with zeros as ABI encoding does. */
function addressWord(address: string, field: string): Uint8Array {
  if (!ADDRESS.test(address)) throw new TypeError(`${field} ${address} is not an address`);
  const word = new Uint8Array(32);
  word.set(hexToBytes(address as Hex), 12);
  return word;
}

/** What an authorization's EIP-712 digest is computed from (see {@link authorizationDigest}). */
export interface DigestParts {
  /** The domain's separator (32 bytes). */
  separator: Uint8Array;
  /** The struct's encoding: its type hash and six 32-byte words (224 bytes). */
  struct: Uint8Array;
}

/**
 * The domain separator and the struct encoding of an authorization, the two inputs of its digest.
 * Throws, as viem's `hashTypedData` does, when a value does not fit its type (an address that is
 * not 20 bytes, an integer outside uint256, a nonce that is not 32 bytes).
 */
export function authorizationDigestParts(authorization: Authorization, domain: TypedDataDomain): DigestParts {
  if (!BYTES32.test(authorization.nonce)) throw new TypeError(`nonce ${authorization.nonce} is not 32 bytes`);
  const struct = concat([
    TYPE_HASH,
    addressWord(authorization.from, 'from'),
    addressWord(authorization.to, 'to'),
    uint256Word(authorization.value, 'value'),
    uint256Word(authorization.validAfter, 'validAfter'),
    uint256Word(authorization.validBefore, 'validBefore'),
    hexToBytes(authorization.nonce as Hex),
  ]);
  return { separator: separatorOf(domain), struct };
}

/**
 * EIP-712's digest of a struct under a domain: keccak256(0x1901 ‖ separator ‖ keccak256(struct)).
 * The signature workers compute the same in their own source (signature-workers.ts).
 */
export function digestOf({ separator, struct }: DigestParts): Uint8Array {
  return keccak256Bytes(concat([EIP712_PREFIX, separator, keccak256Bytes(struct)]));
}

/**
 * The EIP-712 digest an authorization's signature signs under `domain`: what viem's
 * `hashTypedData(authorizationTypedData(authorization, domain))` returns, computed directly for
 * this one struct. viem's generic path validates and encodes the domain and the type on every
 * call; here the type hash is computed once, the domain separator (viem's `domainSeparator`)
 * once per domain, and each call hashes only the seven words of the struct and the final
 * 66 bytes. test/x402/authorization-digest.test.ts compares the two on random and edge inputs.
 */
export function authorizationDigest(authorization: Authorization, domain: TypedDataDomain): Uint8Array {
  return digestOf(authorizationDigestParts(authorization, domain));
}

/** Domain separators by domain: a service sees a handful of tokens and networks. */
const separators = new Map<string, Uint8Array>();
const SEPARATORS_KEPT = 64;

function separatorOf(domain: TypedDataDomain): Uint8Array {
  const normalized = typeof domain.verifyingContract === 'string' ? { ...domain, verifyingContract: lower(domain.verifyingContract) } : domain;
  const key = JSON.stringify([normalized.name, normalized.version, normalized.chainId?.toString(), normalized.verifyingContract, normalized.salt]);
  let separator = separators.get(key);
  if (separator === undefined) {
    separator = hexToBytes(domainSeparator({ domain: normalized }));
    if (separators.size >= SEPARATORS_KEPT) separators.delete(separators.keys().next().value as string);
    separators.set(key, separator);
  }
  return separator;
}

