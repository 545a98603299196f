/**
 * `npm run bench -- events`: chain events on PostgreSQL, 100,000 of them, produced on a real
 * Hardhat node by the registry's bulk `registerAssets` (2,000 AssetRegistered per transaction).
 *
 * - `events.ingest.throughput`: the ingester reading them from the node (eth_getLogs over block
 *   ranges, decoding, block hash checks) and storing each range with its cursor in one
 *   transaction, in events/s. What is measured is node + decoding + store together.
 * - `events.process.throughput`: the processor applying them in batches of 1,000 events per
 *   transaction (each creates its asset and its on-chain id link, with undo images), events/s.
 * - baselines in the same run, one transaction per event: `events.ingest.baseline` stores events
 *   one `saveEvent` call each, `events.process.baseline` applies one event per
 *   `applyChainEvents` call (on the first 1,000 events, so the run stays short).
 */
import { keccak256, toHex, type Address } from 'viem';
import { assetRegistryAbi } from '../src/chain/contracts/index.js';
import { deployProtocol } from '../src/chain/deploy.js';
import { localChainReader, localChainWriter } from '../src/chain/clients.js';
import { startLocalChain } from '../src/chain/local-node.js';
import { Ingester } from '../src/chain/ingester.js';
import { PROTOCOL_EVENTS_ABI } from '../src/chain/events-abi.js';
import { SILENT_LOGGER } from '../src/chain/logger.js';
import { Processor } from '../src/chain/processor.js';
import { createNodeClient } from '../src/chain/rpc.js';
import { info, matches, round, type BenchOptions } from './support/report.js';
import { openPostgres } from './support/sql.js';

/** Every figure this module prints. */
export const names = ['events.ingest.throughput', 'events.ingest.baseline', 'events.process.throughput', 'events.process.baseline'] as const;

const TOTAL = Number(process.env['BENCH_EVENTS'] ?? 100_000);
const PER_TX = 2_000;
const BASELINE = 1_000;

/** Runs the events benchmark. */
export async function benchEvents({ filter, report }: BenchOptions): Promise<void> {
  if (!names.some((n) => matches(filter, n))) return;
  const node = await startLocalChain();
  const batched = await openPostgres();
  const single = await openPostgres();
  try {
    const key = node.accounts[0];
    if (!key) throw new Error('no account');
    const reader = localChainReader(node.rpcUrl);
    const writer = localChainWriter(node.rpcUrl, key);
    const deployment = await deployProtocol(writer, reader);
    const registry = deployment.contracts.AssetRegistry;
    const type = keccak256(toHex('bench'));
    await reader.waitForTransactionReceipt({ hash: await writer.writeContract({ address: registry, abi: assetRegistryAbi, functionName: 'createAssetType', args: ['bench', []] }) });
    info(`events: emitting ${TOTAL} AssetRegistered on the node, ${PER_TX} per transaction`);
    for (let i = 0; i < TOTAL; i += PER_TX) {
      const tokens = Array.from({ length: Math.min(PER_TX, TOTAL - i) }, (_, j): Address => `0x${(0x100000 + i + j).toString(16).padStart(40, '0')}`);
      const hash = await writer.writeContract({ address: registry, abi: assetRegistryAbi, functionName: 'registerAssets', args: [type, tokens], gas: 900_000_000n });
      await reader.waitForTransactionReceipt({ hash });
    }
    const chainId = deployment.chainId;
    const contracts = [deployment.contracts.AssetRegistry, deployment.contracts.LeaseFactory, deployment.contracts.Marketplace];
    const ingesterOf = (db: typeof batched.db) =>
      new Ingester(db, createNodeClient(node.rpcUrl, 120_000), { chainId, contracts, startBlock: Number(deployment.deploymentBlock), confirmations: 0, abi: PROTOCOL_EVENTS_ABI, maxBlockRange: 5, logger: SILENT_LOGGER });

    info('events: ingesting from the node into PostgreSQL, one transaction per range');
    let started = performance.now();
    const ingester = ingesterOf(batched.db);
    let ingested = 0;
    for (;;) {
      const step = await ingester.step();
      ingested += step.ingested;
      if (step.caughtUp) break;
    }
    const ingestSeconds = (performance.now() - started) / 1000;
    report('events.ingest.throughput', round(ingested / ingestSeconds, 0), 'events/s', { events: ingested, seconds: round(ingestSeconds), measured: 'eth_getLogs from the Hardhat node + decode + batched insert with the cursor' });

    info(`events: baseline, ${BASELINE} events stored one saveEvent (one transaction) each`);
    const sample = await batched.db.getPendingChainEvents(chainId, Number.MAX_SAFE_INTEGER, BASELINE);
    started = performance.now();
    for (const e of sample) {
      await single.db.saveEvent({ eventName: e.eventName, contractAddress: e.contractAddress, blockNumber: e.blockNumber, transactionHash: e.transactionHash, logIndex: e.logIndex, args: e.args });
    }
    const baseSeconds = (performance.now() - started) / 1000;
    report('events.ingest.baseline', round(sample.length / baseSeconds, 0), 'events/s', { events: sample.length, seconds: round(baseSeconds), measured: 'one saveEvent transaction per event, no node' });

    info('events: processing in batches of 1000 events per transaction');
    started = performance.now();
    const processor = new Processor(batched.db, { chainId, batchSize: 1000, logger: SILENT_LOGGER });
    let processed = 0;
    for (;;) {
      const step = await processor.step(Number.MAX_SAFE_INTEGER);
      if (step.failure) throw new Error(`processing failed: ${step.failure.error}`);
      processed += step.processed;
      if (!step.more) break;
    }
    const processSeconds = (performance.now() - started) / 1000;
    report('events.process.throughput', round(processed / processSeconds, 0), 'events/s', { events: processed, seconds: round(processSeconds), measured: 'AssetRegistered: asset created + link + undo images, 1000 events per transaction' });

    info(`events: baseline, ${BASELINE} events processed one transaction each`);
    const baseIngester = ingesterOf(single.db);
    await single.db.clear();
    // The same first events, ingested in ranges, then applied one per call.
    for (;;) {
      const step = await baseIngester.step();
      if (step.caughtUp || (await single.db.countPendingChainEvents(chainId)) >= BASELINE) break;
    }
    const baseProcessor = new Processor(single.db, { chainId, batchSize: 1, logger: SILENT_LOGGER });
    started = performance.now();
    let one = 0;
    while (one < BASELINE) {
      const step = await baseProcessor.step(Number.MAX_SAFE_INTEGER);
      if (step.processed === 0) break;
      one += step.processed;
    }
    const oneSeconds = (performance.now() - started) / 1000;
    report('events.process.baseline', round(one / oneSeconds, 0), 'events/s', { events: one, seconds: round(oneSeconds), measured: 'the same handler, one event per transaction' });
  } finally {
    await batched.close();
    await single.close();
    await node.stop();
  }
}
