/**
 * Turns raw logs into the records the store keeps: the event decoded with the protocol ABI, its
 * arguments as JSON (uint256 and other integers as decimal strings, since JSONB cannot hold a
 * bigint exactly), or, for a log the ABI does not know, its raw topics and data under the name
 * `UnknownEvent`, so nothing the contracts emitted is silently dropped.
 *
 * Speed matters here (docs/ingestion.md, "Throughput"): viem's `decodeEventLog` hashes the
 * signature of every ABI event for every log until one matches. A {@link LogDecoder} hashes each
 * signature once, and decodes arguments of the types the protocol's events use (uint256,
 * address, bytes32, static words) straight from the hex; any other type, and any log that does
 * not have exactly the expected shape, goes through viem's decoder, so the result is always what
 * `decodeEventLog(..., strict: true)` gives.
 */
import { checksumAddress, decodeEventLog, toEventSelector, type Abi, type AbiEvent, type AbiParameter, type Hex, type Log } from 'viem';
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

/** A log as eth_getLogs returns it (quantities as hex), before any formatting. */
export interface RpcLog {
  address: string;
  blockNumber: Hex | null;
  blockHash: Hex | null;
  transactionHash: Hex | null;
  logIndex: Hex | null;
  topics: readonly Hex[];
  data: Hex;
  removed?: boolean;
}

/** Where a log sits: the fields every stored event carries whatever its decoding. */
interface Position {
  contractAddress: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
}

/** The JSON value of one 32-byte word (64 hex digits, no 0x) of a given ABI type. */
type WordReader = (word: string) => JsonValue;

const WORD = /^0x[0-9a-fA-F]{64}$/;
const DATA = /^0x(?:[0-9a-fA-F]{2})*$/;

/** The reader of a type whose JSON form one word gives directly, as viem decodes it; undefined for any other type. */
function wordReader(param: AbiParameter): WordReader | undefined {
  // uint256 decodes to a bigint (stored as its decimal string); smaller uints are numbers in viem.
  if (param.type === 'uint256') return (w) => BigInt(`0x${w}`).toString(10);
  if (param.type === 'address') return (w) => checksumAddress(`0x${w.slice(24).toLowerCase()}`);
  if (param.type === 'bytes32') return (w) => `0x${w.toLowerCase()}`;
  return undefined;
}

/** How one event's logs are decoded without viem when its every argument has a word reader. */
interface FastEvent {
  name: string;
  /** Argument names and readers, topics first (in input order), then data words. */
  topics: { name: string; read: WordReader }[];
  words: { name: string; read: WordReader }[];
  /** The argument names in the ABI's input order (viem's object key order). */
  order: string[];
}

interface KnownEvent {
  item: AbiEvent;
  /** A one-item ABI for viem's decoder (then it hashes one signature, not all of them). */
  abi: Abi;
  fast: FastEvent | null;
}

function fastEvent(item: AbiEvent): FastEvent | null {
  // Unnamed inputs decode to an array in viem; left to viem.
  if (item.inputs.some((i) => !i.name)) return null;
  const topics: FastEvent['topics'] = [];
  const words: FastEvent['words'] = [];
  for (const input of item.inputs) {
    const read = wordReader(input);
    if (!read) return null;
    (input.indexed ? topics : words).push({ name: input.name as string, read });
  }
  return { name: item.name, topics, words, order: item.inputs.map((i) => i.name as string) };
}

/** Decodes logs with one ABI; build it once and reuse it. */
export class LogDecoder {
  private readonly bySelector = new Map<string, KnownEvent>();

  constructor(private readonly abi: Abi) {
    for (const item of abi) {
      if (item.type !== 'event' || item.anonymous) continue;
      const selector = toEventSelector(item).toLowerCase();
      // viem takes the first event with the selector.
      if (!this.bySelector.has(selector)) this.bySelector.set(selector, { item, abi: [item], fast: fastEvent(item) });
    }
  }

  /** Decodes a log in its eth_getLogs form (see {@link mined} for which logs to keep). */
  decodeRpc(log: RpcLog): ChainLogInput {
    const position: Position = {
      contractAddress: log.address,
      blockNumber: Number(log.blockNumber),
      blockHash: log.blockHash as string,
      transactionHash: log.transactionHash as string,
      logIndex: Number(log.logIndex),
    };
    return this.decodeAt(position, log.topics, log.data);
  }

  /** Decodes a log as viem's getLogs formats it. */
  decode(log: MinedLog): ChainLogInput {
    const position: Position = {
      contractAddress: log.address,
      blockNumber: Number(log.blockNumber),
      blockHash: log.blockHash,
      transactionHash: log.transactionHash,
      logIndex: log.logIndex,
    };
    return this.decodeAt(position, log.topics, log.data);
  }

  private decodeAt(position: Position, topics: readonly Hex[], data: Hex): ChainLogInput {
    const known = topics[0] === undefined ? undefined : this.bySelector.get(topics[0].toLowerCase());
    const fast = known?.fast ? readFast(known.fast, topics, data) : null;
    if (fast) return { ...position, eventName: known?.item.name ?? UNKNOWN_EVENT, args: fast };
    try {
      // A known signature with an unusual shape, or one this ABI may know as anonymous: viem decides.
      const decoded = decodeEventLog({ abi: known ? known.abi : this.abi, data, topics: topics as [Hex, ...Hex[]], strict: true });
      const args = toJsonValue(decoded.args ?? {});
      return { ...position, eventName: decoded.eventName ?? UNKNOWN_EVENT, args: typeof args === 'object' && args !== null && !Array.isArray(args) ? args : { value: args } };
    } catch {
      return { ...position, eventName: UNKNOWN_EVENT, args: { topics: [...topics], data } };
    }
  }
}

/**
 * The arguments of a log of `event` read word by word, or null when the log's shape is not the
 * plain one (missing topics, short or odd data): viem then decides, and refuses it as viem does.
 */
function readFast(event: FastEvent, topics: readonly Hex[], data: Hex): JsonObject | null {
  if (topics.length < event.topics.length + 1) return null;
  const values: Record<string, JsonValue> = {};
  for (const [i, t] of event.topics.entries()) {
    const topic = topics[i + 1] as string;
    if (!WORD.test(topic)) return null;
    values[t.name] = t.read(topic.slice(2));
  }
  if (event.words.length > 0) {
    if (data.length < 2 + 64 * event.words.length || !DATA.test(data)) return null;
    for (const [i, w] of event.words.entries()) values[w.name] = w.read(data.slice(2 + 64 * i, 2 + 64 * (i + 1)));
  }
  const args: JsonObject = {};
  for (const name of event.order) args[name] = values[name] as JsonValue;
  return args;
}

/** Whether an eth_getLogs entry is a mined log the store keeps (not pending, not removed). */
export function mined(log: RpcLog): boolean {
  return !log.removed && log.blockHash !== null && log.logIndex !== null && log.blockNumber !== null && log.transactionHash !== null;
}

const decoders = new WeakMap<Abi, LogDecoder>();

/** Decodes one mined log into a store input (one {@link LogDecoder} per ABI, kept). */
export function decodeLog(abi: Abi, log: MinedLog): ChainLogInput {
  let decoder = decoders.get(abi);
  if (!decoder) decoders.set(abi, (decoder = new LogDecoder(abi)));
  return decoder.decode(log);
}
