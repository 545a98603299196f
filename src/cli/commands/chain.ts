/**
 * `chain run`: ingests the protocol's events from a node and processes them into the store until
 * SIGINT or SIGTERM, then stops cleanly (the current step finishes, leadership is given up).
 * Several may run against one PostgreSQL database: one leads, the others stand by and take over
 * within a poll interval when it dies. `chain status` prints the chain's cursor and backlog.
 * Configuration: `--deployment-file` or the CHAIN_* environment (src/chain/config.ts).
 */
import type { Command } from 'commander';
import { reportFailure } from '../output.js';
import { addBackendOptions, ensureSchema, openStore, type BackendOptions } from '../store-options.js';

interface ChainOptions extends BackendOptions {
  deploymentFile?: string;
  rpcUrl?: string;
  confirmations?: string;
  applySchema?: boolean;
}

function envOf(options: ChainOptions): Record<string, string | undefined> {
  return {
    ...process.env,
    ...(options.deploymentFile ? { CHAIN_DEPLOYMENT_FILE: options.deploymentFile } : {}),
    ...(options.rpcUrl ? { CHAIN_RPC_URL: options.rpcUrl } : {}),
    ...(options.confirmations ? { CHAIN_CONFIRMATIONS: options.confirmations } : {}),
  };
}

/**
 * The chain's configuration from the options and the environment (viem's module is loaded on first
 * use: see serve.ts); throws when neither names a chain.
 */
async function chainConfigOf(options: ChainOptions) {
  const { chainConfigFromEnv } = await import('../../chain/config.js');
  const config = await chainConfigFromEnv(envOf(options));
  if (!config) throw new Error('no chain configured: pass --deployment-file, or set CHAIN_DEPLOYMENT_FILE or CHAIN_RPC_URL');
  return config;
}

interface AckOptions {
  url?: string;
  apiKey?: string;
  by: string;
  note?: string;
}

/**
 * `chain ack-reorg`: asks the running service (its chain runner holds the deep-reorg state) to
 * record an operator's acknowledgement, through its admin route. Exit 0 when recorded, 1 when
 * the service refused it (nothing to acknowledge, processing not caught up), 2 when it could not
 * be asked.
 */
async function acknowledgeReorg(options: AckOptions): Promise<number> {
  const base = options.url ?? process.env['LEASING_SERVICE_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? '3001'}`;
  const apiKey = options.apiKey ?? process.env['API_KEY'];
  const response = await fetch(new URL('/api/admin/chain/acknowledge-reorg', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ by: options.by, ...(options.note === undefined ? {} : { note: options.note }) }),
  });
  const text = await response.text();
  if (response.ok) {
    process.stdout.write(`${text}\n`);
    return 0;
  }
  process.stderr.write(`the service refused the acknowledgement (${response.status}): ${text}\n`);
  return response.status === 409 ? 1 : 2;
}

/** Registers `chain run`, `chain status` and `chain ack-reorg`. */
export function registerChainCommands(program: Command): void {
  const chain = program.command('chain').description('ingest and process the protocol contracts\' events');
  addBackendOptions(
    chain
      .command('run')
      .description('ingest and process events continuously until SIGINT/SIGTERM')
      .option('--deployment-file <path>', 'deployment file (default: $CHAIN_DEPLOYMENT_FILE)')
      .option('--rpc-url <url>', 'node URL (overrides the deployment file; default: $CHAIN_RPC_URL)')
      .option('--confirmations <n>', 'blocks a block must be buried under before it is processed (default: $CHAIN_CONFIRMATIONS or 2)')
      .option('--apply-schema', 'apply pending migrations first'),
  ).action(async (options: ChainOptions) => {
    try {
      // Loaded when the command runs (viem and the runner take half a second to load; see serve.ts),
      // inside the try, so a module that fails to load is reported like any other failure.
      const [{ pino }, { createNodeClient }, { ChainRunner }] = await Promise.all([import('pino'), import('../../chain/rpc.js'), import('../../chain/runner.js')]);
      const logger = pino({ name: 'leasing-chain' });
      const config = await chainConfigOf(options);
      const store = await openStore(options);
      try {
        await ensureSchema(store, options.applySchema === true);
      } catch (error) {
        await store.db.disconnect();
        throw error;
      }
      const runner = new ChainRunner(store.db, createNodeClient(config.rpcUrl), { ...config, logger });
      const stop = () => {
        logger.info({}, 'stopping chain ingestion');
        void runner.stop().then(() => store.db.disconnect());
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      logger.info({ chainId: config.chainId, rpcUrl: config.rpcUrl, confirmations: config.confirmations, startBlock: config.startBlock }, 'chain ingestion started');
      runner.start();
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
  chain
    .command('ack-reorg')
    .description('acknowledge the deep reorgs the running service saw, so its readiness passes again (who and why are recorded)')
    .requiredOption('--by <name>', 'who acknowledges (recorded and logged)')
    .option('--note <text>', 'what was checked or decided (recorded and logged)')
    .option('--url <url>', 'the service (default: $LEASING_SERVICE_URL or http://127.0.0.1:$PORT)')
    .option('--api-key <key>', 'the service\'s API key (default: $API_KEY)')
    .action(async (options: AckOptions) => {
      try {
        process.exitCode = await acknowledgeReorg(options);
      } catch (error) {
        process.exitCode = reportFailure(error);
      }
    });
  addBackendOptions(
    chain
      .command('status')
      .description('print the chain\'s ingestion cursor, processed block and backlog as JSON')
      .option('--deployment-file <path>', 'deployment file (default: $CHAIN_DEPLOYMENT_FILE)')
      .option('--rpc-url <url>', 'node URL (default: $CHAIN_RPC_URL)'),
  ).action(async (options: ChainOptions) => {
    try {
      const config = await chainConfigOf(options);
      const { db } = await openStore(options);
      try {
        const [cursor, backlog] = await Promise.all([db.getChainCursor(config.chainId), db.countPendingChainEvents(config.chainId)]);
        process.stdout.write(`${JSON.stringify({ chainId: config.chainId, cursor, backlog })}\n`);
      } finally {
        await db.disconnect();
      }
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}
