/**
 * A local EVM node with the protocol deployed, for one test file: `startDeployedChain()` starts
 * Hardhat's node on a free port, deploys the contracts as account 0 (the USDC minter) and returns
 * clients for the first accounts. `stop()` ends the node.
 */
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import type { Address, Hex } from 'viem';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
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

/**
 * The requirements of one second of lease L-1 paid in the deployment's USDC on the local chain
 * (`anvil`), `price` minor units to `payTo`: what the chain facilitator tests verify and settle.
 */
export function localChainRequirements(chain: DeployedChain, payTo: string, price: bigint, overrides: Partial<PaymentRequirements> = {}): PaymentRequirements {
  return {
    scheme: 'exact',
    network: 'anvil',
    asset: chain.deployment.contracts.USDC,
    amount: price.toString(),
    maxAmountRequired: price.toString(),
    payTo,
    resource: 'http://127.0.0.1/api/leases/L-1/access?mode=second',
    description: 'one second of lease L-1',
    mimeType: 'application/json',
    maxTimeoutSeconds: 60,
    mode: 'second',
    intervalSeconds: 1,
    intervalStart: new Date().toISOString(),
    extra: { name: 'USDC', version: '2' },
    ...overrides,
  };
}

/**
 * The environment of an in-process service that settles on `chain` (FACILITATOR=chain, the
 * deployment's USDC on eip155:31337, account 9 paying gas), on `databaseUrl` and `dataDir`; `extra`
 * adds or overrides variables (e.g. CHAIN_DEPLOYMENT_FILE to ingest as well).
 */
export function chainServiceEnv(chain: DeployedChain, apiKey: string, databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LEASING_MODE: 'development',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    API_KEY: apiKey,
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    FACILITATOR: 'chain',
    CHAIN_RPC_URL: chain.node.rpcUrl,
    FACILITATOR_PRIVATE_KEY: chain.keys[9] as string,
    X402_NETWORK: 'eip155:31337',
    X402_ASSET_ADDRESS: chain.deployment.contracts.USDC,
    ...extra,
  };
}

/**
 * An official x402 v2 client (`@x402/fetch`) paying with `privateKey` on the local chain: the
 * deployment's USDC is not one of x402's default assets, so it is allowed explicitly, capped at
 * 0.1 USDC a payment. `sent` collects every payment header it sends (to replay one).
 */
export function localChainPayer(chain: DeployedChain, privateKey: Hex): { pay: typeof fetch; sent: string[]; address: Address } {
  const signer = privateKeyToAccount(privateKey);
  const client = x402Client.fromConfig({
    schemes: [{ network: 'eip155:31337', client: new ExactEvmScheme(signer) }],
    spendControls: { allowedAssets: [{ network: 'eip155:31337', asset: chain.deployment.contracts.USDC, maxAmountPerPayment: '100000' }] },
  });
  const sent: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const header = input instanceof Request ? input.headers.get('payment-signature') : null;
    if (header !== null) sent.push(header);
    return fetch(input, init);
  };
  return { pay: wrapFetchWithPayment(recording, client), sent, address: signer.address };
}

/**
 * The variables that point chain ingestion (`chain run`, or the service) at `chain`'s node and
 * deployment, with no confirmations; tests add batch size and polling of their own.
 */
export function chainIngestionEnv(chain: DeployedChain): Record<string, string> {
  const { contracts, deploymentBlock } = chain.deployment;
  return {
    CHAIN_RPC_URL: chain.node.rpcUrl,
    CHAIN_ID: '31337',
    CHAIN_START_BLOCK: String(deploymentBlock),
    CHAIN_ASSET_REGISTRY: contracts.AssetRegistry,
    CHAIN_LEASE_FACTORY: contracts.LeaseFactory,
    CHAIN_MARKETPLACE: contracts.Marketplace,
    CHAIN_CONFIRMATIONS: '0',
  };
}
