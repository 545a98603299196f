/**
 * Chain ingestion's configuration from the environment (and the CLI, which passes its options
 * as the same names). Either a deployment file (`CHAIN_DEPLOYMENT_FILE`, what `npm run dev:chain`
 * writes) or the node and contracts named one by one (`CHAIN_RPC_URL`, `CHAIN_ASSET_REGISTRY`,
 * `CHAIN_LEASE_FACTORY`, `CHAIN_MARKETPLACE`, `CHAIN_ID`, `CHAIN_START_BLOCK`). Neither: ingestion
 * is off (null); `CHAIN_RPC_URL` without `CHAIN_ASSET_REGISTRY` is the chain facilitator's alone. Tuning: `CHAIN_CONFIRMATIONS` (default 2), `CHAIN_POLL_MS` (1000),
 * `CHAIN_MAX_LAG_BLOCKS` (readiness bound; none by default), `CHAIN_MAX_BLOCK_RANGE` (2000),
 * `CHAIN_BATCH_SIZE` (1000).
 */
import { getAddress, isAddress, type Address } from 'viem';
import { readDeploymentFile } from './deployment-file.js';
import { ChainError } from './errors.js';

/** What a chain runner needs, resolved. */
export interface ChainConfig {
  chainId: number;
  rpcUrl: string;
  startBlock: number;
  /** AssetRegistry, LeaseFactory and Marketplace. */
  contracts: Address[];
  confirmations: number;
  pollMs: number;
  maxLagBlocks?: number;
  maxBlockRange: number;
  batchSize: number;
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number | undefined, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < min) {
    throw new ChainError('BAD_DEPLOYMENT_FILE', `${name} must be an integer of at least ${min}, not ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function address(env: Env, name: string): Address {
  const raw = env[name];
  if (!raw || !isAddress(raw, { strict: false })) throw new ChainError('BAD_DEPLOYMENT_FILE', `${name} must be a contract address when CHAIN_RPC_URL is set`);
  return getAddress(raw);
}

/** The chain configuration of `env`, or null when no chain is configured. */
export async function chainConfigFromEnv(env: Env = process.env): Promise<ChainConfig | null> {
  const file = env['CHAIN_DEPLOYMENT_FILE'];
  const tuning = {
    confirmations: integer(env, 'CHAIN_CONFIRMATIONS', 2, 0) as number,
    pollMs: integer(env, 'CHAIN_POLL_MS', 1000, 10) as number,
    maxBlockRange: integer(env, 'CHAIN_MAX_BLOCK_RANGE', 2000, 1) as number,
    batchSize: integer(env, 'CHAIN_BATCH_SIZE', 1000, 1) as number,
    ...(integer(env, 'CHAIN_MAX_LAG_BLOCKS', undefined, 0) === undefined ? {} : { maxLagBlocks: integer(env, 'CHAIN_MAX_LAG_BLOCKS', undefined, 0) as number }),
  };
  if (file) {
    const d = await readDeploymentFile(file);
    return {
      chainId: d.chainId,
      rpcUrl: env['CHAIN_RPC_URL'] || d.rpcUrl,
      startBlock: d.startBlock,
      contracts: [d.contracts.AssetRegistry, d.contracts.LeaseFactory, d.contracts.Marketplace],
      ...tuning,
    };
  }
  const rpcUrl = env['CHAIN_RPC_URL'];
  // CHAIN_RPC_URL alone configures the chain facilitator, not ingestion: that needs the contracts.
  if (!rpcUrl || !env['CHAIN_ASSET_REGISTRY']) return null;
  const chainId = integer(env, 'CHAIN_ID', undefined, 1);
  if (chainId === undefined) throw new ChainError('BAD_DEPLOYMENT_FILE', 'CHAIN_ID is required with CHAIN_RPC_URL');
  return {
    chainId,
    rpcUrl,
    startBlock: integer(env, 'CHAIN_START_BLOCK', 0, 0) as number,
    contracts: [address(env, 'CHAIN_ASSET_REGISTRY'), address(env, 'CHAIN_LEASE_FACTORY'), address(env, 'CHAIN_MARKETPLACE')],
    ...tuning,
  };
}
