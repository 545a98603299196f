/**
 * The chains this service takes payments on, under both of x402's names: v1 calls a network by
 * a short name (`base-sepolia`), v2 by its CAIP-2 id (`eip155:84532`). DOMAIN.md, "Chains".
 *
 * x402 v1 has no name for the local development chain 31337 (Anvil, Hardhat): its official
 * packages list neither. This service calls it `anvil` in v1 messages (viem's name for that
 * chain id). The v1 client `x402-fetch` refuses a network outside its own list, so on a local
 * chain pay with a v2 client (`eip155:31337`).
 */

/** A network under its two names and its EVM chain id. */
export interface X402Network {
  chainId: number;
  /** x402 v1 name. */
  v1: string;
  /** x402 v2 (CAIP-2) id. */
  caip2: `eip155:${number}`;
}

/** Every network this service knows. */
export const NETWORKS: readonly X402Network[] = [
  { chainId: 84532, v1: 'base-sepolia', caip2: 'eip155:84532' },
  { chainId: 8453, v1: 'base', caip2: 'eip155:8453' },
  { chainId: 31337, v1: 'anvil', caip2: 'eip155:31337' },
];

/** The network a v1 name or a CAIP-2 id names, or undefined when this service does not know it. */
export function networkByName(name: string): X402Network | undefined {
  return NETWORKS.find((n) => n.v1 === name || n.caip2 === name);
}

/** The network named the way x402 `version` names networks (v1: short name, v2: CAIP-2). */
export function networkInVersion(name: string, version: 1 | 2): X402Network | undefined {
  return NETWORKS.find((n) => (version === 1 ? n.v1 : n.caip2) === name);
}

/** The network's name in x402 `version`. */
export function networkName(network: X402Network, version: 1 | 2): string {
  return version === 1 ? network.v1 : network.caip2;
}

/** The configured network (X402_NETWORK, either name); throws a message naming the known ones. */
export function configuredNetwork(name: string): X402Network {
  const network = networkByName(name);
  if (network !== undefined) return network;
  const known = NETWORKS.map((n) => `${n.v1} / ${n.caip2}`).join(', ');
  throw new Error(`X402_NETWORK "${name}" is not a network this service takes payments on (known: ${known})`);
}
