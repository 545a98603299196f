/**
 * The service as the HTTP benchmark runs it: `startService()` exactly as src/main.ts calls it,
 * plus one benchmark-only switch over the IPC channel of its parent: `skip-signatures` swaps the
 * local facilitator for one that does every check but the signature recovery, `verify-signatures`
 * swaps it back. It answers each with `ok:<kind>` once the swap is in place. Nothing in the
 * service's configuration can turn signature checks off; only this file, which is not shipped.
 * `profile-start` / `profile-stop:<name>` time the paid request's stages (paid-profile.ts); the stop
 * is answered with the snapshot as `{ profile }`. With BENCH_HTTP_PROFILE=1 the same stretch is
 * also profiled by V8 (v8-profile.ts) into `.bench/profiles/http-<name>.*`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hex } from 'viem';
import { LocalFacilitator } from '../../src/api/facilitator/local.js';
import type { Authorization, PaymentRequirements } from '../../src/api/x402/types.js';
import { ServiceStartError, startService } from '../../src/service.js';
import { StageProfiler } from './paid-profile.js';
import { V8Profile } from './v8-profile.js';
import { clock } from './report.js';
import { watchMainThread } from './stall-trace.js';
import type { SettlementJournal } from '../../src/ledger/settlement-journal.js';

/** The local facilitator without its signature check: the payer is taken from the claim. */
class UnverifiedLocalFacilitator extends LocalFacilitator {
  override readonly kind = 'local-unverified';
  protected override async recoverSigner(authorization: Authorization, _signature: Hex, _requirements: PaymentRequirements): Promise<string | null> {
    return authorization.from;
  }
}

try {
  const service = await startService();
  const ctx = service.app.appContext;
  const verifying = ctx.facilitator;
  const unverified = new UnverifiedLocalFacilitator();
  const profiler = new StageProfiler();
  const v8 = process.env.BENCH_HTTP_PROFILE === '1' ? new V8Profile() : undefined;
  if (process.env.BENCH_HTTP_TRACE === '1') traceStalls(ctx.journal);
  // The stages of a paid request (src/api/x402/access.ts), in request order.
  // The lease and its batch for the hour, read in one round trip (the batch check needs no other).
  profiler.wrap(ctx.db, 'getLeaseWithBatch', 'leaseRead');
  for (const facilitator of [verifying, unverified]) {
    profiler.wrap(facilitator, 'verify', 'verify');
    // Inside verify (and settle, when verify's recovery is not reused): the EIP-712 recovery alone.
    profiler.wrap(facilitator, 'recoverSigner', 'signatureRecovery');
    profiler.wrap(facilitator, 'settle', 'settle');
  }
  profiler.wrap(ctx.journal, 'begin', 'journal');
  profiler.wrap(ctx.journal, 'update', 'journal');
  // Inside the journal's begin and update: the durable append (fsync'ed line log).
  profiler.wrap(ctx.journal, 'persist', 'journalAppend');
  profiler.wrap(ctx.db, 'recordPaymentWithOutcome', 'ledgerWrite');
  // The whole paid request inside the service: from its headers parsed to its response written
  // (listened to only while profiling, like the wrappers).
  const timeRequest = (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST') return;
    const t0 = performance.now();
    response.once('finish', () => profiler.record('inService', performance.now() - t0));
  };
  // A failure (a V8 profile that cannot be written) is answered, so the benchmark stops on it.
  const answer = async (message: unknown): Promise<void> => {
    if (message === 'profile-start') {
      await v8?.start();
      profiler.start();
      service.app.server.on('request', timeRequest);
      process.send?.('ok:profile');
      return;
    }
    if (typeof message === 'string' && message.startsWith('profile-stop:')) {
      service.app.server.off('request', timeRequest);
      const profile = profiler.stop();
      const written = await v8?.stop('.bench/profiles', `http-${message.slice('profile-stop:'.length)}`);
      if (written !== undefined) console.error(`[service ${clock()}] V8 profiles: ${written.join(', ')}`);
      process.send?.({ profile });
      return;
    }
    if (message === 'skip-signatures') ctx.facilitator = unverified;
    else if (message === 'verify-signatures') ctx.facilitator = verifying;
    else return;
    process.send?.(`ok:${ctx.facilitator.kind}`);
  };
  process.on('message', (message) => {
    answer(message).catch((error: unknown) => process.send?.({ error: error instanceof Error ? error.message : String(error) }));
  });
} catch (error) {
  if (!(error instanceof ServiceStartError)) throw error;
  process.exit(1);
}

/**
 * BENCH_HTTP_TRACE=1: prints each journal compaction (how long, from where, how much) and every
 * stall of the main thread over 50 ms, with the time since start, to see what a paid run's tail
 * latency lines up with.
 */
function traceStalls(journal: SettlementJournal): void {
  watchMainThread('service');
  const compacting = journal as SettlementJournal & { compact?: () => Promise<{ from: string; recordsKept: number; bytesAfter: number }> };
  const compact = compacting.compact?.bind(journal);
  if (compact !== undefined) {
    compacting.compact = async () => {
      const t0 = performance.now();
      const done = await compact();
      console.error(`[service ${clock()}] journal compaction ${(performance.now() - t0).toFixed(0)} ms from ${done.from}: ${done.recordsKept} kept, ${(done.bytesAfter / 2 ** 20).toFixed(1)} MiB`);
      return done;
    };
  }
}
