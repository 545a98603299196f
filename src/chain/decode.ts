/**
 * Turns raw logs into the records the store keeps: the event decoded with the protocol ABI, its
 * arguments as JSON (uint256 and other integers as decimal strings, since JSONB cannot hold a
 * bigint exactly), or, for a log the ABI does not know, its raw topics and data under the name
 * `UnknownEvent`, so nothing the contracts emitted is silently dropped.
 */
import { decodeEventLog, type Abi, type Log } from 'viem';
import type { ChainLogInput, JsonObject, JsonValue } from '../storage/contract/database.js';

/** The name stored for a log whose signature the ABI does not contain. */
export const UNKNOWN_EVENT = 'UnknownEvent';

/** A decoded value in its JSON form: bigints as decimal strings, arrays and structs recursively. */
export function toJsonValue(value: unknown): JsonValue {
  if (typeof value === 'bigint') return value.toString(10);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object' && value !== undefined) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(v);
    return out;
  }
  return String(value);
}

/** A mined log: every position field present. */
export type MinedLog = Log<bigint, number, false>;

/** Decodes one mined log into a store input. */
export function decodeLog(abi: Abi, log: MinedLog): ChainLogInput {
  const base = {
    contractAddress: log.address,
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    logIndex: log.logIndex,
  };
  try {
    const decoded = decodeEventLog({ abi, data: log.data, topics: log.topics, strict: true });
    const args = toJsonValue(decoded.args ?? {});
    return { ...base, eventName: decoded.eventName ?? UNKNOWN_EVENT, args: typeof args === 'object' && args !== null && !Array.isArray(args) ? args : { value: args } };
  } catch {
    return { ...base, eventName: UNKNOWN_EVENT, args: { topics: [...log.topics], data: log.data } };
  }
}
