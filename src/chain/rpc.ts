/**
 * The node connection: a viem public client over HTTP with viem's own retries off (the ingester
 * backs off itself, bounded and jittered, and must see each failure to shrink a refused range),
 * and the classification of node errors the ingester acts on.
 */
import { BaseError, createPublicClient, http, type PublicClient } from 'viem';

/** A client for `rpcUrl`; each request times out after `timeoutMs`. */
export function createNodeClient(rpcUrl: string, timeoutMs = 10_000): PublicClient {
  return createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: timeoutMs }), cacheTime: 0 });
}

/** A JSON-RPC error code somewhere in a viem error's chain, if the node answered with one. */
function rpcCode(error: unknown): number | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const found = error.walk((e) => typeof (e as { code?: unknown }).code === 'number' && (e as { code: number }).code < 0);
  return (found as { code?: number } | null)?.code;
}

/**
 * Whether the node refused a log query for its size (it answered, with a JSON-RPC error or an
 * HTTP 413), rather than the connection failing: the ingester halves the range and asks again.
 */
export function isRangeRefusal(error: unknown): boolean {
  if (rpcCode(error) !== undefined) return true;
  if (error instanceof BaseError) {
    const status = error.walk((e) => typeof (e as { status?: unknown }).status === 'number');
    if ((status as { status?: number } | null)?.status === 413) return true;
  }
  return false;
}

/** A short, single-line description of a node or store error for logs and status. */
export function describeError(error: unknown): string {
  if (error instanceof BaseError) return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}
