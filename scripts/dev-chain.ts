/**
 * `npm run dev:chain`: a local EVM node for development. Starts Hardhat's node (default
 * 127.0.0.1:8545), deploys the protocol's contracts as account 0, mints test USDC to accounts
 * 1..4, prints the addresses, writes the deployment file (default .chain/local.json) and keeps
 * running until Ctrl-C.
 *
 * Options: --host (LOCAL_CHAIN_HOST), --port (LOCAL_CHAIN_PORT; 0 picks a free one),
 * --out (DEPLOYMENT_FILE), --usdc (whole USDC per account, default 1000).
 */
import { parseArgs } from 'node:util';
import { privateKeyToAccount } from 'viem/accounts';
import {
  DEFAULT_DEPLOYMENT_FILE,
  deployProtocol,
  localChainReader,
  localChainWriter,
  mintUsdc,
  startLocalChain,
  writeDeploymentFile,
} from '../src/chain/index.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.LOCAL_CHAIN_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.LOCAL_CHAIN_PORT ?? '8545' },
    out: { type: 'string', default: process.env.DEPLOYMENT_FILE ?? DEFAULT_DEPLOYMENT_FILE },
    usdc: { type: 'string', default: '1000' },
  },
  strict: true,
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got "${values.port}"`);
if (!/^\d+$/.test(values.usdc)) throw new Error(`--usdc must be a whole number of USDC, got "${values.usdc}"`);
const perAccount = BigInt(values.usdc) * 1_000_000n;

const node = await startLocalChain({ host: values.host, port });
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the node`);
  void node.stop().then(() => process.exit(0));
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

try {
  const reader = localChainReader(node.rpcUrl);
  const [deployerKey, ...others] = node.accounts;
  if (deployerKey === undefined) throw new Error('the node has no accounts');
  const deployment = await deployProtocol(localChainWriter(node.rpcUrl, deployerKey), reader);
  const funded = others.slice(0, 4);
  await mintUsdc(localChainWriter(node.rpcUrl, deployerKey), reader, deployment.contracts.USDC, funded.map((k) => privateKeyToAccount(k).address), perAccount);
  await writeDeploymentFile(values.out, {
    chainId: deployment.chainId,
    rpcUrl: node.rpcUrl,
    startBlock: Number(deployment.deploymentBlock),
    contracts: deployment.contracts,
  });

  console.log(`Local chain ${deployment.chainId} at ${node.rpcUrl} (deployed from block ${deployment.deploymentBlock})`);
  for (const [name, address] of Object.entries(deployment.contracts)) console.log(`  ${name.padEnd(14)} ${address}`);
  console.log(`Account 0 deployed the contracts and mints USDC: ${privateKeyToAccount(deployerKey).address}`);
  console.log(`Accounts 1..${funded.length} hold ${values.usdc} USDC each (publicly known dev keys, never use them elsewhere):`);
  funded.forEach((key, i) => console.log(`  #${i + 1} ${privateKeyToAccount(key).address} ${key}`));
  console.log(`Deployment file: ${values.out}`);
  const settler = others[8] ?? deployerKey;
  console.log('Run the service settling on this chain (account #9 sends the transfers):');
  console.log(`  FACILITATOR=chain CHAIN_RPC_URL=${node.rpcUrl} FACILITATOR_PRIVATE_KEY=${settler} X402_NETWORK=eip155:31337 X402_ASSET_ADDRESS=${deployment.contracts.USDC} npm run dev`);
  console.log('Ctrl-C stops the node.');
} catch (error) {
  console.error(error);
  await node.stop();
  process.exit(1);
}
