/**
 * A local EVM node with the protocol deployed, for one test file: `startDeployedChain()` starts
 * Hardhat's node on a free port, deploys the contracts as account 0 (the USDC minter) and returns
 * clients for the first accounts. `stop()` ends the node.
 */
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  deployProtocol,
  localChainReader,
  localChainWriter,
  startLocalChain,
  type ChainReader,
  type ChainWriter,
  type LocalChain,
  type ProtocolDeployment,
} from '../../src/chain/index.js';

/** A running node with the protocol deployed. */
export interface DeployedChain {
  node: LocalChain;
  reader: ChainReader;
  /** Signing clients for accounts 0..9 (account 0 deployed the contracts). */
  writers: ChainWriter[];
  /** Addresses of accounts 0..9. */
  addresses: Address[];
  /** Private keys of accounts 0..9. */
  keys: Hex[];
  deployment: ProtocolDeployment;
  stop(): Promise<void>;
}

/** Starts a node, deploys the protocol and returns clients (10 accounts). */
export async function startDeployedChain(): Promise<DeployedChain> {
  const node = await startLocalChain();
  try {
    const keys = node.accounts.slice(0, 10);
    const reader = localChainReader(node.rpcUrl);
    const writers = keys.map((key) => localChainWriter(node.rpcUrl, key));
    const deployer = writers[0];
    if (deployer === undefined) throw new Error('the node has no accounts');
    const deployment = await deployProtocol(deployer, reader);
    return { node, reader, writers, keys, addresses: keys.map((k) => privateKeyToAccount(k).address), deployment, stop: () => node.stop() };
  } catch (error) {
    await node.stop();
    throw error;
  }
}
