/**
 * The deployment file (`.chain/local.json` by default) that `npm run dev:chain` writes and
 * ingestion reads: which chain, where its node answers, the block to start reading from, and the
 * protocol's contract addresses.
 *
 * ```json
 * { "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545", "startBlock": 1,
 *   "contracts": { "AssetRegistry": "0x…", "LeaseFactory": "0x…", "Marketplace": "0x…", "USDC": "0x…" } }
 * ```
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getAddress, isAddress, type Address } from 'viem';
import { z } from 'zod';
import { ChainError } from './errors.js';
import type { ProtocolContracts } from './deploy.js';

/** Default path of the local deployment file, relative to the working directory. */
export const DEFAULT_DEPLOYMENT_FILE = '.chain/local.json';

/** The deployment file's content. */
export interface DeploymentFile {
  chainId: number;
  rpcUrl: string;
  /** Block number of the deployment: ingestion starts here. */
  startBlock: number;
  contracts: ProtocolContracts;
}

const address = z.string().refine((value) => isAddress(value, { strict: false }), 'not a 20-byte hex address').transform((value): Address => getAddress(value));

const SCHEMA = z.strictObject({
  chainId: z.number().int().positive(),
  rpcUrl: z.url({ protocol: /^https?$/ }),
  startBlock: z.number().int().nonnegative(),
  contracts: z.strictObject({ AssetRegistry: address, LeaseFactory: address, Marketplace: address, USDC: address }),
});

/** Parses deployment-file JSON text; throws `ChainError('BAD_DEPLOYMENT_FILE')` naming the first problem. */
export function parseDeploymentFile(text: string, source = 'deployment file'): DeploymentFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ChainError('BAD_DEPLOYMENT_FILE', `${source} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = SCHEMA.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new ChainError('BAD_DEPLOYMENT_FILE', `${source}${where}: ${issue?.message ?? 'invalid'}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** Reads and checks the deployment file at `path`; throws `ChainError('BAD_DEPLOYMENT_FILE')` when missing or malformed. */
export async function readDeploymentFile(path: string = DEFAULT_DEPLOYMENT_FILE): Promise<DeploymentFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ChainError('BAD_DEPLOYMENT_FILE', `cannot read deployment file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseDeploymentFile(text, `deployment file ${path}`);
}

/** Writes the deployment file (creating its folder), replacing any old one in a single rename. */
export async function writeDeploymentFile(path: string, deployment: DeploymentFile): Promise<void> {
  const checked = parseDeploymentFile(JSON.stringify(deployment));
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checked, null, 2)}\n`);
  await rename(temporary, path);
}
