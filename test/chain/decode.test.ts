/**
 * The ingester's log decoder gives exactly what viem's decodeEventLog (strict) gives, turned into
 * JSON: for every protocol event, for logs viem refuses (stored as UnknownEvent), for unknown
 * signatures, and for an ABI with types outside the decoder's word-by-word path.
 */
import { describe, expect, it } from 'vitest';
import { decodeEventLog, encodeAbiParameters, encodeEventTopics, toHex, type Abi, type AbiEvent, type AbiParameter, type Hex } from 'viem';
import { LogDecoder, toJsonValue, UNKNOWN_EVENT, type RpcLog } from '../../src/chain/decode.js';
import { PROTOCOL_EVENTS_ABI } from '../../src/chain/events-abi.js';

const position = { address: '0x00000000000000000000000000000000000a11ce', blockNumber: '0x10' as Hex, blockHash: `0x${'ab'.repeat(32)}` as Hex, transactionHash: `0x${'cd'.repeat(32)}` as Hex, logIndex: '0x3' as Hex };

/** A value of `param` that varies with `seed`. */
function sample(param: AbiParameter, seed: number): unknown {
  const t = param.type;
  if (t.endsWith('[]')) return [sample({ ...param, type: t.slice(0, -2) }, seed), sample({ ...param, type: t.slice(0, -2) }, seed + 1)];
  if (t === 'address') return `0x${(0xbeef00 + seed).toString(16).padStart(40, '0')}`;
  if (t === 'bool') return seed % 2 === 0;
  if (t === 'string') return `name-${seed}`;
  if (t === 'bytes') return toHex(`bytes-${seed}`);
  if (t.startsWith('bytes')) return `0x${(seed + 1).toString(16).padStart(Number(t.slice(5)) * 2, '0')}`;
  if (t.startsWith('uint')) return Number(t.slice(4) || 256) > 48 ? 2n ** 200n + BigInt(seed) : seed;
  if (t.startsWith('int')) return Number(t.slice(3) || 256) > 48 ? -(2n ** 100n) - BigInt(seed) : -seed;
  throw new Error(`no sample for ${t}`);
}

/** A log of `event` with sample arguments, as eth_getLogs returns it. */
function logOf(event: AbiEvent, seed: number): RpcLog {
  const values = event.inputs.map((p, i) => sample(p, seed + i));
  const indexed = Object.fromEntries(event.inputs.flatMap((p, i) => (p.indexed ? [[p.name as string, values[i]]] : [])));
  const topics = encodeEventTopics({ abi: [event], eventName: event.name, args: indexed } as never) as Hex[];
  const dataParams = event.inputs.filter((p) => !p.indexed);
  const data = encodeAbiParameters(dataParams, event.inputs.flatMap((p, i) => (p.indexed ? [] : [values[i]])));
  return { ...position, topics, data };
}

/** What the ingester stored before the decoder: viem's full decodeEventLog, as JSON. */
function viaViem(abi: Abi, log: RpcLog) {
  try {
    const decoded = decodeEventLog({ abi, data: log.data, topics: log.topics as [Hex, ...Hex[]], strict: true });
    const args = toJsonValue(decoded.args ?? {});
    return { eventName: decoded.eventName, args: typeof args === 'object' && args !== null && !Array.isArray(args) ? args : { value: args } };
  } catch {
    return { eventName: UNKNOWN_EVENT, args: { topics: [...log.topics], data: log.data } };
  }
}

function expectSame(decoder: LogDecoder, abi: Abi, log: RpcLog): void {
  const got = decoder.decodeRpc(log);
  expect(got).toEqual({ contractAddress: position.address, blockNumber: 16, blockHash: position.blockHash, transactionHash: position.transactionHash, logIndex: 3, ...viaViem(abi, log) });
  // Key order too: args are stored as JSON text.
  expect(JSON.stringify(got.args)).toBe(JSON.stringify(viaViem(abi, log).args));
}

const events = PROTOCOL_EVENTS_ABI.filter((i): i is AbiEvent => i.type === 'event');

describe('LogDecoder', () => {
  const decoder = new LogDecoder(PROTOCOL_EVENTS_ABI);

  it('decodes every protocol event as viem does', () => {
    expect(events.length).toBeGreaterThan(5);
    for (const event of events) for (const seed of [0, 7]) expectSame(decoder, PROTOCOL_EVENTS_ABI, logOf(event, seed));
    const registered = decoder.decodeRpc(logOf(events.find((e) => e.name === 'AssetRegistered') as AbiEvent, 1));
    expect(registered.eventName).toBe('AssetRegistered');
    expect(registered.args['assetId']).toBe((2n ** 200n + 1n).toString());
    expect(registered.args['tokenAddress']).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it('stores what viem refuses as UnknownEvent, and an unknown signature too', () => {
    const minted = logOf(events.find((e) => e.name === 'LeaseMinted') as AbiEvent, 3);
    const cases: RpcLog[] = [
      { ...minted, data: '0x' },
      { ...minted, data: minted.data.slice(0, 40) as Hex },
      { ...minted, topics: minted.topics.slice(0, 2) },
      { ...minted, topics: [`0x${'11'.repeat(32)}`, ...minted.topics.slice(1)] },
      { ...minted, topics: [] },
      // Upper-case hex from a node is decoded like lower-case.
      { ...minted, topics: minted.topics.map((t, i) => (i === 0 ? t : (`0x${t.slice(2).toUpperCase()}` as Hex))), data: `0x${minted.data.slice(2).toUpperCase()}` as Hex },
      // Longer data than the arguments need: viem ignores the rest.
      { ...minted, data: `${minted.data}${'00'.repeat(32)}` as Hex },
    ];
    for (const log of cases) expectSame(decoder, PROTOCOL_EVENTS_ABI, log);
    expect(decoder.decodeRpc(cases[0] as RpcLog).eventName).toBe(UNKNOWN_EVENT);
    expect(decoder.decodeRpc(cases[3] as RpcLog).eventName).toBe(UNKNOWN_EVENT);
  });

  it('leaves other types to viem with the same result', () => {
    const odd: Abi = [
      { type: 'event', name: 'Small', inputs: [{ name: 'a', type: 'uint8', indexed: true }, { name: 'b', type: 'int256', indexed: false }, { name: 'c', type: 'bool', indexed: false }] },
      { type: 'event', name: 'Dynamic', inputs: [{ name: 's', type: 'string', indexed: true }, { name: 'list', type: 'uint256[]', indexed: false }, { name: 'b', type: 'bytes', indexed: false }] },
      { type: 'event', name: 'Unnamed', inputs: [{ name: '', type: 'uint256', indexed: true }, { name: '', type: 'address', indexed: false }] },
      { type: 'event', name: 'Empty', inputs: [] },
    ];
    const oddDecoder = new LogDecoder(odd);
    for (const event of odd as AbiEvent[]) for (const seed of [2, 5]) expectSame(oddDecoder, odd, logOf(event, seed));
  });
});
