/**
 * `npm run bench -- events`: chain events on PostgreSQL, 100,000 of them by default
 * (`BENCH_EVENTS` changes the count), produced on a real Hardhat node by the registry's bulk
 * `registerAssets` (2,000 AssetRegistered per transaction, so 2,000 per block).
 *
 * - `events.ingest.nodeBound`: raw eth_getLogs over the same block ranges the ingester reads
 *   (no decoding, no store): what the node alone serves, the bound ingestion cannot beat.
 * - `events.ingest.throughput`: the ingester reading them from the node (raw eth_getLogs over
 *   ranges of `RANGE` blocks, block hash checks, decoding) and storing each range with its cursor
 *   in one transaction, the next range read while the current one is stored; events/s.
 * - `events.process.throughput`: the processor applying them in batches of 1,000 events per
 *   transaction (each creates its asset and its on-chain id link, with undo images), events/s;
 *   `events.process.statementsPerBatch`: the statements one such transaction sends.
 * - baselines in the same run, one transaction per event, on a sample of `BASELINE` events (so
 *   the run stays short): `events.ingest.baseline` stores events one `saveEvent` call each,
 *   `events.process.baseline` applies one event per `applyChainEvents` call.
 * - `events.goal`: 1 when both ingest and process throughput reach 10,000 events/s, else 0.
 */
import { keccak256, numberToHex, toHex, type Address } from 'viem';
import { assetRegistryAbi } from '../src/chain/contracts/index.js';
import { deployProtocol } from '../src/chain/deploy.js';
import { localChainReader, localChainWriter } from '../src/chain/clients.js';
import { startLocalChain } from '../src/chain/local-node.js';
import { Ingester } from '../src/chain/ingester.js';
import { PROTOCOL_EVENTS_ABI } from '../src/chain/events-abi.js';
import { SILENT_LOGGER } from '../src/chain/logger.js';
import { Processor } from '../src/chain/processor.js';
import { createNodeClient } from '../src/chain/rpc.js';
import type { SqlDriver, SqlExecutor } from '../src/storage/backends/sql/driver.js';
import { info, matches, round, type BenchOptions } from './support/report.js';
import { driverOf, openPostgres } from './support/sql.js';

/** Every figure this module prints. */
export const names = [
  'events.ingest.nodeBound',
  'events.ingest.throughput',
  'events.ingest.baseline',
  'events.process.throughput',
  'events.process.statementsPerBatch',
  'events.process.baseline',
  'events.goal',
] as const;

const TOTAL = Number(process.env['BENCH_EVENTS'] ?? 100_000);
const PER_TX = 2_000;
const BASELINE = 1_000;
const BATCH = 1_000;
/** Blocks per eth_getLogs: 5 blocks of 2,000 logs, about 5 MB of JSON (viem accepts up to 10 MB). */
const RANGE = 5;
const GOAL = 10_000;

/** Runs `call` counting the statements sent inside the transactions it opens on `driver`. */
async function countStatements<T>(driver: SqlDriver, call: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const own = Object.getOwnPropertyDescriptor(driver, 'transaction');
  const original = driver.transaction.bind(driver);
  let statements = 0;
  driver.transaction = (<R>(fn: (tx: SqlExecutor) => Promise<R>) =>
    original((tx) =>
      fn({
        query: (text, params, options) => {
          statements += 1;
          return tx.query(text, params, options);
        },
      }),
    )) as SqlDriver['transaction'];
  try {
    return { result: await call(), statements };
  } finally {
    if (own) Object.defineProperty(driver, 'transaction', own);
    else delete (driver as Partial<SqlDriver>).transaction;
  }
}

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
      new Ingester(db, createNodeClient(node.rpcUrl, 120_000), { chainId, contracts, startBlock: Number(deployment.deploymentBlock), confirmations: 0, abi: PROTOCOL_EVENTS_ABI, maxBlockRange: RANGE, logger: SILENT_LOGGER });

    info(`events: the node alone, raw eth_getLogs over ranges of ${RANGE} blocks`);
    const head = Number(await reader.getBlockNumber({ cacheTime: 0 }));
    const client = createNodeClient(node.rpcUrl, 120_000);
    let started = performance.now();
    let served = 0;
    for (let from = Number(deployment.deploymentBlock); from <= head; from += RANGE) {
      const logs = await client.request({ method: 'eth_getLogs', params: [{ address: contracts, fromBlock: numberToHex(from), toBlock: numberToHex(Math.min(head, from + RANGE - 1)) }] });
      served += logs.length;
    }
    const nodeSeconds = (performance.now() - started) / 1000;
    const nodeBound = served / nodeSeconds;
    report('events.ingest.nodeBound', round(nodeBound, 0), 'events/s', { events: served, seconds: round(nodeSeconds), measured: `raw eth_getLogs from the Hardhat node over ranges of ${RANGE} blocks, JSON parsed, no decoding, no store` });

    info('events: ingesting from the node into PostgreSQL, one transaction per range');
    started = performance.now();
    const ingester = ingesterOf(batched.db);
    let ingested = 0;
    for (;;) {
      const step = await ingester.step();
      ingested += step.ingested;
      if (step.caughtUp) break;
    }
    const ingestSeconds = (performance.now() - started) / 1000;
    const ingestRate = ingested / ingestSeconds;
    report('events.ingest.throughput', round(ingestRate, 0), 'events/s', {
      events: ingested,
      seconds: round(ingestSeconds),
      ofNodeBound: round(ingestRate / nodeBound, 2),
      measured: `eth_getLogs from the Hardhat node (${RANGE}-block ranges, next range read while storing) + decode + one insert per range with the cursor`,
    });

    info(`events: baseline, ${BASELINE} events stored one saveEvent (one transaction) each`);
    const sample = await batched.db.getPendingChainEvents(chainId, Number.MAX_SAFE_INTEGER, BASELINE);
    started = performance.now();
    for (const e of sample) {
      await single.db.saveEvent({ eventName: e.eventName, contractAddress: e.contractAddress, blockNumber: e.blockNumber, transactionHash: e.transactionHash, logIndex: e.logIndex, args: e.args });
    }
    const baseSeconds = (performance.now() - started) / 1000;
    report('events.ingest.baseline', round(sample.length / baseSeconds, 0), 'events/s', { events: sample.length, seconds: round(baseSeconds), measured: `one saveEvent transaction per event, a sample of ${BASELINE} events, no node` });

    info(`events: processing in batches of ${BATCH} events per transaction`);
    const processor = new Processor(batched.db, { chainId, batchSize: BATCH, logger: SILENT_LOGGER });
    started = performance.now();
    // The first batch also counts its statements (the count does not change the work done).
    const first = await countStatements(driverOf(batched.db), () => processor.step(Number.MAX_SAFE_INTEGER));
    let processed = 0;
    for (let step = first.result; ; step = await processor.step(Number.MAX_SAFE_INTEGER)) {
      if (step.failure) throw new Error(`processing failed: ${step.failure.error}`);
      processed += step.processed;
      if (!step.more) break;
    }
    const processSeconds = (performance.now() - started) / 1000;
    const processRate = processed / processSeconds;
    report('events.process.throughput', round(processRate, 0), 'events/s', { events: processed, seconds: round(processSeconds), measured: `AssetRegistered: asset created + link + undo images, ${BATCH} events per transaction` });
    report('events.process.statementsPerBatch', first.statements, 'statements', { events: first.result.processed, measured: `statements in the transaction applying the first ${BATCH} events` });
    if (processed !== ingested) throw new Error(`processed ${processed} of ${ingested} events`);

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
    report('events.process.baseline', round(one / oneSeconds, 0), 'events/s', { events: one, seconds: round(oneSeconds), measured: `the same handler, one event per transaction, a sample of the first ${BASELINE} events` });
    report('events.goal', ingestRate >= GOAL && processRate >= GOAL ? 1 : 0, 'met', {
      goal: `${GOAL} events/s ingested and processed`,
      ingest: round(ingestRate, 0),
      process: round(processRate, 0),
      events: TOTAL,
    });
  } finally {
    await batched.close();
    await single.close();
    await node.stop();
  }
}
