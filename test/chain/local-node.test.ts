/**
 * The local node launcher and `npm run dev:chain`: nodes run side by side on free ports, answer
 * as chain 31337 with the development accounts, and never outlive their parent: not after
 * stop(), not after Ctrl-C of dev:chain, not even after the parent is SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { localChainReader, readDeploymentFile, startLocalChain, usdcAbi } from '../../src/chain/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-node-'));
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** True once nothing answers JSON-RPC at `rpcUrl` (polled for up to 15 s). */
async function gone(rpcUrl: string): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    try {
      await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' });
    } catch {
      return true;
    }
    await sleep(100);
  }
  return false;
}

/** Runs dev:chain (as one node process, so a signal reaches the script itself) on a free port. */
async function devChain(out: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev-chain.ts', '--port', '0', '--out', out, '--usdc', '25'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  for (let i = 0; i < 900 && !output.includes('Ctrl-C stops the node.'); i++) {
    if (child.exitCode !== null) throw new Error(`dev:chain exited early: ${output}`);
    await sleep(100);
  }
  expect(output).toContain('Ctrl-C stops the node.');
  return { child, output: () => output };
}

describe('local node', () => {
  it('runs two nodes at once on free ports, each chain 31337 with the development accounts; stop() ends each', async () => {
    const [a, b] = await Promise.all([startLocalChain(), startLocalChain()]);
    try {
      expect(a.rpcUrl).not.toBe(b.rpcUrl);
      for (const node of [a, b]) {
        expect(node.chainId).toBe(31337);
        expect(node.accounts).toHaveLength(20);
        expect(privateKeyToAccount(node.accounts[0]!).address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
        expect(await localChainReader(node.rpcUrl).getChainId()).toBe(31337);
      }
    } finally {
      await a.stop();
      await b.stop();
      await a.stop();
    }
    expect(await gone(a.rpcUrl)).toBe(true);
    expect(await gone(b.rpcUrl)).toBe(true);
  });

  it('dev:chain deploys, funds accounts 1..4, writes the deployment file, and Ctrl-C stops the node', async () => {
    const out = join(dir, 'dev/local.json');
    const { child, output } = await devChain(out);
    const deployment = await readDeploymentFile(out);
    expect(deployment).toMatchObject({ chainId: 31337, startBlock: 1 });
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(deployment);
    const reader = localChainReader(deployment.rpcUrl);
    for (const address of Object.values(deployment.contracts)) {
      expect(output()).toContain(address);
      expect((await reader.getCode({ address }))?.length).toBeGreaterThan(2);
    }
    expect(await reader.readContract({ address: deployment.contracts.USDC, abi: usdcAbi, functionName: 'balanceOf', args: ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8'] })).toBe(25_000_000n);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await gone(deployment.rpcUrl)).toBe(true);
  });

  it('the node exits by itself when its parent is SIGKILLed', async () => {
    const out = join(dir, 'killed/local.json');
    const { child } = await devChain(out);
    const { rpcUrl } = await readDeploymentFile(out);
    child.kill('SIGKILL');
    expect(await gone(rpcUrl)).toBe(true);
  });
});
