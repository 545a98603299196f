/**
 * The HTTP benchmark's settings (bench/http.ts): the seeded leases, the connections, the lengths of
 * the runs, the cases and the paid request's timed stages, read from BENCH_HTTP_* (README,
 * "Benchmarks").
 */
export const LEASES = 1_000;
export const CONNECTIONS = 100;
export const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
export const WARMUP_SECONDS = 2;
/**
 * Read and paid runs alternated after the cases, each pair a share of its own: this machine's
 * speed drifts by a third within minutes (the read alone ran at 4,400 and 6,700 req/s in two runs
 * of the same code), so one read and one paid run measured 20 s apart say more about the minute
 * than the code. `http.paid.shareOfRead` is the median of these (the cases' paid run carries the
 * stage wrappers, so it counts only when there are no rounds).
 */
export const SHARE_ROUNDS = Number(process.env.BENCH_HTTP_SHARE_ROUNDS ?? 5);
export const ROUND_SECONDS = 5;
export const GOAL = { readP99Ms: 50, paidP99Ms: 200 };
export const CASES = ['baseline', 'read', 'paid', 'paid-unverified'] as const;
export type Case = (typeof CASES)[number];
export const PAID: readonly Case[] = ['paid', 'paid-unverified'];
/** The stages of a paid request timed inside the service (bench/support/http-service.ts), in request order. */
export const STAGES = ['inService', 'leaseRead', 'verify', 'signatureRecovery', 'journal', 'journalAppend', 'settle', 'ledgerWrite'] as const;
/**
 * The service's maxTimeoutSeconds: long enough for payments signed before a run to stay valid
 * through it (signing, the wait for a quiet machine, the warm-up and the run: under two minutes),
 * and no longer. The journal keeps each settled payment until its authorization expires (plus
 * 30 s): at 600 s that is 630 s, seven times what the service's default of 60 s keeps, and the
 * traced runs' journal held 82,050 entries by the third round against 58,232 and 73,136 at 180 s.
 */
export const PAYMENT_VALIDITY_SECONDS = 180;
/** BENCH_HTTP_TRACE=1: the service's and this process's main-thread stalls, compactions and each share round's stage tails (README). */
export const TRACE = process.env.BENCH_HTTP_TRACE === '1';
