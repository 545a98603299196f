/**
 * The chain ingestion's Prometheus metrics, read from the runner at scrape time: head, processed
 * block, lag, backlog and deep reorgs awaiting an operator's acknowledgement as gauges; events ingested and processed, reorgs and deep reorgs as
 * counters (the runner keeps the totals; a deep reorg is the one to alert on).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChainMonitor } from '../chain/runner.js';

/** Registers the `leasing_chain_*` metrics of `chain` in `registry`. */
export function registerChainMetrics(registry: Registry, chain: ChainMonitor): void {
  const gauge = (name: string, help: string, read: (s: Awaited<ReturnType<ChainMonitor['status']>>) => number | null) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const status = await chain.status().catch(() => null);
        const value = status === null ? null : read(status);
        if (value !== null) this.set(value);
      },
    });
  gauge('leasing_chain_head_block', 'Latest block number the node reported', (s) => s.headBlock);
  gauge('leasing_chain_processed_block', 'Every event up to this block is processed', (s) => s.processedBlock);
  gauge('leasing_chain_lag_blocks', 'Head block minus processed block', (s) => s.lag);
  gauge('leasing_chain_backlog_events', 'Ingested events not yet processed', (s) => s.backlog);
  gauge('leasing_chain_unacknowledged_deep_reorgs', 'Deep reorgs no operator has acknowledged yet (readiness fails while above 0)', (s) => s.unacknowledgedDeepReorgs.length);
  const counter = (name: string, help: string, read: (t: ChainMonitor['totals']) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // The runner owns the totals; the counter shows them as they are.
        this.reset();
        this.inc(read(chain.totals));
      },
    });
  counter('leasing_chain_events_ingested_total', 'Contract events stored by ingestion', (t) => t.ingested);
  counter('leasing_chain_events_processed_total', 'Contract events processed (handler effects applied)', (t) => t.processed);
  counter('leasing_chain_reorgs_total', 'Reorgs detected (orphaned blocks rewound)', (t) => t.reorgs);
  counter('leasing_chain_deep_reorgs_total', 'Reorgs deeper than the confirmation depth (effects of processed events undone)', (t) => t.deepReorgs);
}
