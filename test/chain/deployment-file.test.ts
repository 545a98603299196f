/**
 * The deployment file that `npm run dev:chain` writes and ingestion reads: the exact documented
 * shape round-trips (addresses checksummed), and every bad file is a ChainError with code
 * BAD_DEPLOYMENT_FILE naming what is wrong.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isChainError, parseDeploymentFile, readDeploymentFile, writeDeploymentFile, type DeploymentFile } from '../../src/chain/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deployment-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD: DeploymentFile = {
  chainId: 31337,
  rpcUrl: 'http://127.0.0.1:8545',
  startBlock: 1,
  contracts: {
    AssetRegistry: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
    LeaseFactory: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
    Marketplace: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
    USDC: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  },
};

function refusal(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(isChainError(error, 'BAD_DEPLOYMENT_FILE')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected BAD_DEPLOYMENT_FILE');
}

describe('deployment file', () => {
  it('writes the documented shape and reads it back', async () => {
    const path = join(dir, 'nested/local.json');
    await writeDeploymentFile(path, GOOD);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(GOOD);
    expect(await readDeploymentFile(path)).toEqual(GOOD);
  });

  it('checksums lower-case addresses', () => {
    const lower = { ...GOOD, contracts: { ...GOOD.contracts, USDC: GOOD.contracts.USDC.toLowerCase() } };
    expect(parseDeploymentFile(JSON.stringify(lower)).contracts.USDC).toBe(GOOD.contracts.USDC);
  });

  it('refuses a missing file, text that is not JSON, and every malformed field, naming it', async () => {
    await expect(readDeploymentFile(join(dir, 'absent.json'))).rejects.toMatchObject({ name: 'ChainError', code: 'BAD_DEPLOYMENT_FILE' });
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ "chainId": ');
    await expect(readDeploymentFile(broken)).rejects.toThrow(/not JSON/);

    const bad = (patch: Record<string, unknown>) => refusal(() => parseDeploymentFile(JSON.stringify({ ...GOOD, ...patch })));
    expect(bad({ chainId: '31337' })).toMatch(/chainId/);
    expect(bad({ chainId: 0 })).toMatch(/chainId/);
    expect(bad({ rpcUrl: 'ftp://x' })).toMatch(/rpcUrl/);
    expect(bad({ startBlock: -1 })).toMatch(/startBlock/);
    expect(bad({ startBlock: 1.5 })).toMatch(/startBlock/);
    expect(bad({ contracts: { ...GOOD.contracts, USDC: '0x1234' } })).toMatch(/contracts\.USDC/);
    const { Marketplace: _dropped, ...missing } = GOOD.contracts;
    expect(bad({ contracts: missing })).toMatch(/contracts\.Marketplace/);
    expect(bad({ extra: true })).toMatch(/extra/);
    expect(refusal(() => parseDeploymentFile('[]'))).toMatch(/deployment file/);
  });

  it('refuses to write a bad deployment and leaves no file', async () => {
    const path = join(dir, 'never.json');
    await expect(writeDeploymentFile(path, { ...GOOD, startBlock: -5 })).rejects.toMatchObject({ code: 'BAD_DEPLOYMENT_FILE' });
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
