/**
 * A real EVM node for development and tests: Hardhat 2's `hardhat node` (EDR), started as a
 * child process on a free port. Several test files (and several people) run nodes at once, so
 * the port defaults to 0 and the node reports the one it got.
 *
 * The child must never outlive its parent: `stop()` ends it, an `exit` hook kills it when the
 * parent exits without stopping it, and the child itself exits when its stdin pipe closes, which
 * is what happens when the parent is killed outright (SIGKILL runs no hook).
 *
 * Hardhat is a devDependency: this module is for development, tests and benchmarks only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createPublicClient, createWalletClient, http, toHex, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { ChainError } from './errors.js';

/** Chain id of the local node (Hardhat's default, also Anvil's). */
export const LOCAL_CHAIN_ID = 31337;

/** The publicly known mnemonic of Hardhat's funded development accounts. Never use it elsewhere. */
export const LOCAL_CHAIN_MNEMONIC = 'test test test test test test test test test test test junk';

/** How many funded accounts the node has (Hardhat's default). */
export const LOCAL_CHAIN_ACCOUNT_COUNT = 20;

/** A running local node. */
export interface LocalChain {
  /** JSON-RPC over HTTP, e.g. `http://127.0.0.1:40123`. */
  readonly rpcUrl: string;
  readonly chainId: typeof LOCAL_CHAIN_ID;
  /** Private keys of the funded development accounts, in the node's order (account 0 first). */
  readonly accounts: readonly Hex[];
  /** Ends the node and waits until the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** Where and how to start the node. */
export interface StartLocalChainOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 0: a free port chosen by the system). */
  port?: number;
  /** How long to wait for the node to answer (default 60 s; a busy machine starts it slowly). */
  startTimeoutMs?: number;
  /** Receives the node's output lines (by default they are dropped after startup). */
  onOutput?: (line: string) => void;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HARDHAT_CONFIG = fileURLToPath(new URL('../../hardhat.config.cjs', import.meta.url));
const STARTED = /Started HTTP and WebSocket JSON-RPC server at (http:\/\/\S+?)\/?\s*$/m;

// Runs Hardhat's CLI inside a tiny guard: when the parent dies its end of the stdin pipe closes,
// and the guard exits instead of leaving an orphaned node holding a port.
const GUARD = [
  "process.stdin.on('end', () => process.exit(0));",
  "process.stdin.on('error', () => process.exit(0));",
  'process.stdin.resume();',
  "process.argv.splice(1, 0, 'hardhat');",
  'require(process.env.LOCAL_CHAIN_HARDHAT_CLI);',
].join('\n');

/** The funded accounts' private keys, derived from the development mnemonic. */
export function localChainPrivateKeys(count = LOCAL_CHAIN_ACCOUNT_COUNT): Hex[] {
  return Array.from({ length: count }, (_, addressIndex) => {
    const key = mnemonicToAccount(LOCAL_CHAIN_MNEMONIC, { addressIndex }).getHdKey().privateKey;
    if (key === null) throw new ChainError('NODE_MISMATCH', `no private key for development account ${addressIndex}`);
    return toHex(key);
  });
}

/** Starts `hardhat node`, waits until it answers as chain 31337, and returns how to reach it. */
export async function startLocalChain(options: StartLocalChainOptions = {}): Promise<LocalChain> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const cli = createRequire(import.meta.url).resolve('hardhat/internal/cli/cli.js');
  const child = spawn(
    process.execPath,
    ['-e', GUARD, '--', '--config', HARDHAT_CONFIG, 'node', '--hostname', host, '--port', String(port)],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LOCAL_CHAIN_HARDHAT_CLI: cli, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', FORCE_COLOR: '0', NO_COLOR: '1' },
    },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= stopChild(child).finally(() => process.removeListener('exit', killOnExit));
    return stopped;
  };

  try {
    const rpcUrl = await waitForStart(child, timeoutMs, options.onOutput);
    const accounts = await checkNode(rpcUrl);
    return { rpcUrl, chainId: LOCAL_CHAIN_ID, accounts, stop };
  } catch (error) {
    await stop();
    throw error instanceof ChainError ? error : new ChainError('NODE_START_FAILED', `the local node did not start: ${String(error)}`, { cause: error });
  }
}

/** Resolves with the RPC URL once the node prints it; rejects when the child exits or time runs out. */
function waitForStart(child: ChildProcess, timeoutMs: number, onOutput: ((line: string) => void) | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    let started = false;
    // The pipes are always drained: a full pipe would block the node mid-write.
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (onOutput !== undefined) for (const line of text.split('\n')) if (line !== '') onOutput(line);
      if (started) return;
      output += text;
      const match = STARTED.exec(output);
      if (match?.[1] !== undefined) {
        started = true;
        output = '';
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const timer = setTimeout(() => {
      reject(new ChainError('NODE_START_FAILED', `the local node did not report its address within ${timeoutMs} ms; output: ${output.slice(-2000)}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new ChainError('NODE_START_FAILED', `could not run the local node: ${error.message}`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!started) reject(new ChainError('NODE_START_FAILED', `the local node exited (code ${code}, signal ${signal}) before it started; output: ${output.slice(-2000)}`));
    });
  });
}

/** Asks the node for its chain id and accounts, and returns the accounts' private keys. */
async function checkNode(rpcUrl: string): Promise<Hex[]> {
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
  const chainId = await client.getChainId();
  if (chainId !== LOCAL_CHAIN_ID) throw new ChainError('NODE_MISMATCH', `the local node reports chain id ${chainId}, expected ${LOCAL_CHAIN_ID}`);
  const addresses = await createWalletClient({ transport: http(rpcUrl, { retryCount: 0 }) }).getAddresses();
  const keys = localChainPrivateKeys(addresses.length);
  const mismatch = addresses.findIndex((address, i) => address.toLowerCase() !== mnemonicAddress(i).toLowerCase());
  if (mismatch !== -1) throw new ChainError('NODE_MISMATCH', `the node's account ${mismatch} is not the development mnemonic's`);
  return keys;
}

function mnemonicAddress(addressIndex: number): string {
  return mnemonicToAccount(LOCAL_CHAIN_MNEMONIC, { addressIndex }).address;
}

/** Sends SIGTERM, then SIGKILL if the process is still there after 5 s; resolves when it is gone. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
