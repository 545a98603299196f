/**
 * The EIP-712 message an `exact` EVM payment signs: EIP-3009's
 * `TransferWithAuthorization(from, to, value, validAfter, validBefore, nonce)` under the token's
 * domain (name and version from the requirements' `extra`, the network's chain id, the token as
 * verifying contract). The local facilitator checks signatures against it; the development
 * client signs it.
 */
import type { Address, Hex, TypedDataDomain } from 'viem';
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
