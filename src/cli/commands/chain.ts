/**
 * `chain run`: ingests the protocol's events from a node and processes them into the store until
 * SIGINT or SIGTERM, then stops cleanly (the current step finishes, leadership is given up).
 * Several may run against one PostgreSQL database: one leads, the others stand by and take over
 * within a poll interval when it dies. `chain status` prints the chain's cursor and backlog.
 * Configuration: `--deployment-file` or the CHAIN_* environment (src/chain/config.ts).
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { chainConfigFromEnv } from '../../chain/config.js';
import { createNodeClient } from '../../chain/rpc.js';
import { ChainRunner } from '../../chain/runner.js';
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

/** Registers `chain run` and `chain status`. */
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
    const logger = pino({ name: 'leasing-chain' });
    try {
      const config = await chainConfigFromEnv(envOf(options));
      if (!config) throw new Error('no chain configured: pass --deployment-file, or set CHAIN_DEPLOYMENT_FILE or CHAIN_RPC_URL');
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
  addBackendOptions(
    chain
      .command('status')
      .description('print the chain\'s ingestion cursor, processed block and backlog as JSON')
      .option('--deployment-file <path>', 'deployment file (default: $CHAIN_DEPLOYMENT_FILE)')
      .option('--rpc-url <url>', 'node URL (default: $CHAIN_RPC_URL)'),
  ).action(async (options: ChainOptions) => {
    try {
      const config = await chainConfigFromEnv(envOf(options));
      if (!config) throw new Error('no chain configured: pass --deployment-file, or set CHAIN_DEPLOYMENT_FILE or CHAIN_RPC_URL');
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
