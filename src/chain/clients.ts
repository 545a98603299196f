/**
 * viem clients for the local development chain (id 31337): one reads, one signs with a given
 * private key. Tests, the dev script and the settlement facilitator all talk to the node this way.
 */
import { createPublicClient, createWalletClient, http, type Account, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { hardhat } from 'viem/chains';

/** A client that reads the chain. */
export type ChainReader = PublicClient<Transport, Chain>;

/** A client that signs and sends transactions as one account. */
export type ChainWriter = WalletClient<Transport, Chain, Account>;

/** viem's chain definition for the local node, pointed at `rpcUrl`. */
export function localChain(rpcUrl: string): Chain {
  return { ...hardhat, rpcUrls: { default: { http: [rpcUrl] } } };
}

/** A reading client for the node at `rpcUrl`. */
export function localChainReader(rpcUrl: string): ChainReader {
  // The local node mines on demand, so receipts arrive almost at once: poll often.
  return createPublicClient({ chain: localChain(rpcUrl), transport: http(rpcUrl), pollingInterval: 50 });
}

/** A signing client for the node at `rpcUrl`, acting as the account of `privateKey`. */
export function localChainWriter(rpcUrl: string, privateKey: Hex): ChainWriter {
  return createWalletClient({ chain: localChain(rpcUrl), transport: http(rpcUrl), account: privateKeyToAccount(privateKey), pollingInterval: 50 });
}
