/**
 * Helpers of the ingestion tests: raw JSON-RPC calls (evm_snapshot, evm_revert, hardhat_mine),
 * protocol actions on the deployed contracts, a runner over a store, and polling for a condition.
 */
import { keccak256, toHex, type Address, type Hex } from 'viem';
import { assetRegistryAbi } from '../../src/chain/contracts/index.js';
import { createNodeClient } from '../../src/chain/rpc.js';
import { ChainRunner, type ChainRunnerOptions } from '../../src/chain/runner.js';
import type { Database } from '../../src/storage/contract/database.js';
import type { DeployedChain } from './chain.js';
import type { ChainLogger } from '../../src/chain/logger.js';

/** One JSON-RPC call; throws on a JSON-RPC error. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** Mines `blocks` empty blocks. */
export async function mine(url: string, blocks: number): Promise<void> {
  await rpc(url, 'hardhat_mine', [toHex(blocks)]);
}

/** The asset type every test registers its assets under. */
export const VEHICLE = keccak256(toHex('vehicle'));

/** A token address made from `n`. */
export function token(n: number): Address {
  return `0x${n.toString(16).padStart(40, '0')}`;
}

/** Creates the vehicle asset type as account `from` (once per chain). */
export async function createAssetType(chain: DeployedChain, from = 1): Promise<void> {
  await send(chain, from, { address: chain.deployment.contracts.AssetRegistry, abi: assetRegistryAbi, functionName: 'createAssetType', args: ['vehicle', []] });
}

/** Registers one asset per token in one transaction as account `from`. */
export async function registerAssets(chain: DeployedChain, tokens: Address[], from = 1): Promise<void> {
  await send(chain, from, { address: chain.deployment.contracts.AssetRegistry, abi: assetRegistryAbi, functionName: 'registerAssets', args: [VEHICLE, tokens] });
}

/** Sends a contract call as account `from` and waits for its successful receipt. */
export async function send(chain: DeployedChain, from: number, call: Parameters<DeployedChain['writers'][number]['writeContract']>[0]): Promise<Hex> {
  const writer = chain.writers[from];
  if (!writer) throw new Error(`no account ${from}`);
  const hash = await writer.writeContract(call);
  const receipt = await chain.reader.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`transaction ${hash} failed`);
  return hash;
}

/** A logger that keeps what it is given, to assert on. */
export function recordingLogger(): ChainLogger & { lines: { level: string; message: string; details: object }[] } {
  const lines: { level: string; message: string; details: object }[] = [];
  const at = (level: string) => (details: object, message: string) => void lines.push({ level, message, details });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A runner over `db` for the deployed protocol (fast polling for tests). */
export function runnerFor(db: Database, chain: DeployedChain, options: Partial<ChainRunnerOptions> & { logger: ChainLogger }, rpcUrl = chain.node.rpcUrl): ChainRunner {
  const { contracts, chainId, deploymentBlock } = chain.deployment;
  return new ChainRunner(db, createNodeClient(rpcUrl, 5000), {
    chainId,
    contracts: [contracts.AssetRegistry, contracts.LeaseFactory, contracts.Marketplace],
    startBlock: Number(deploymentBlock),
    pollMs: 50,
    backoff: { baseMs: 20, maxMs: 200 },
    ...options,
  });
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
