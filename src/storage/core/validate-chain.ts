/**
 * Validation of the chain operations' inputs (contract/chain.ts), with the same field rules and
 * errors as the record validators: a refused call names the field and writes nothing.
 */
import { z } from 'zod';
import type { ChainApplication, ChainRangeInput } from '../contract/chain.js';
import { validationError } from '../contract/errors.js';
import { parseObject, schemas } from './validate.js';

/** uint256 as plain decimal digits (at most 78 of them). */
const uint = z.string('must be a decimal string').regex(/^(0|[1-9][0-9]{0,77})$/, 'must be a uint256 in decimal digits');
const eventName = z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

const logSchema = z.strictObject({
  eventName,
  contractAddress: schemas.address,
  blockNumber: schemas.blockNumber,
  blockHash: schemas.hash,
  transactionHash: schemas.hash,
  logIndex: schemas.logIndex,
  args: schemas.document,
});

const rangeSchema = z.strictObject({
  chainId: schemas.chainId,
  fromBlock: schemas.blockNumber,
  toBlock: schemas.blockNumber,
  toBlockHash: schemas.hash,
  logs: z.array(logSchema).max(100_000, 'must hold at most 100000 logs'),
  retainBlocks: z.number().int().min(1).max(1_000_000).optional(),
});

const common = { chainId: schemas.chainId, blockNumber: schemas.blockNumber, transactionHash: schemas.hash };
const intentSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('asset-registered'), ...common, contractAddress: schemas.address, onchainAssetId: uint, assetType: schemas.hash, tokenAddress: schemas.address }),
  z.strictObject({ kind: z.literal('offer-posted'), chainId: schemas.chainId, onchainOfferId: uint, lessor: schemas.address, onchainAssetId: uint }),
  z.strictObject({
    kind: z.literal('lease'),
    ...common,
    contractAddress: schemas.address,
    onchainLeaseTokenId: uint,
    lessor: schemas.address.optional(),
    lessee: schemas.address,
    onchainAssetId: uint.optional(),
    onchainOfferId: uint.optional(),
    status: z.enum(['pending', 'active']),
  }),
]);

const applicationsSchema = z.strictObject({
  applications: z.array(z.strictObject({ eventId: z.uuid('must be a UUID'), intents: z.array(intentSchema).max(100) })).max(100_000),
});

/** Validates a range: logs inside [fromBlock, toBlock], no two with the same key. */
export function validateChainRange(input: unknown): ChainRangeInput {
  const range = parseObject(rangeSchema, input, 'range') as ChainRangeInput;
  if (range.toBlock < range.fromBlock) throw validationError('toBlock', 'must not be below fromBlock');
  const seen = new Set<string>();
  range.logs.forEach((log, i) => {
    if (log.blockNumber < range.fromBlock || log.blockNumber > range.toBlock) throw validationError(`logs.${i}.blockNumber`, 'must lie inside the range');
    const key = `${log.transactionHash.toLowerCase()}:${log.logIndex}`;
    if (seen.has(key)) throw validationError(`logs.${i}`, 'repeats a transaction hash and log index');
    seen.add(key);
  });
  return range;
}

/** Validates handler applications (event ids lowercased). */
export function validateApplications(input: unknown): ChainApplication[] {
  const { applications } = parseObject(applicationsSchema, { applications: input }, 'applications') as { applications: ChainApplication[] };
  return applications.map((a) => ({ ...a, eventId: a.eventId.toLowerCase() }));
}

const acknowledgementSchema = z.strictObject({
  chainId: schemas.chainId,
  ids: z.array(z.number('must be a number').int('must be an integer').min(1, 'must be at least 1').max(Number.MAX_SAFE_INTEGER)).min(1, 'must name at least one deep reorg').max(10_000),
  by: z.string('must be a string').trim().min(1, 'must name who acknowledges').max(200, 'must be at most 200 characters'),
  note: z.string('must be a string').max(10_000, 'must be at most 10000 characters'),
});

/** Validates an acknowledgement of deep reorgs (`by` trimmed). */
export function validateDeepReorgAcknowledgement(input: unknown): { chainId: number; ids: number[]; by: string; note: string } {
  return parseObject(acknowledgementSchema, input, 'acknowledgement');
}

/** Validates a chain id. */
export function validateChainId(value: unknown, field = 'chainId'): number {
  const result = schemas.chainId.safeParse(value);
  if (!result.success) throw validationError(field, result.error.issues[0]?.message ?? 'is invalid');
  return result.data;
}

/** Validates a block number. */
export function validateBlockNumber(value: unknown, field: string): number {
  const result = schemas.blockNumber.safeParse(value);
  if (!result.success) throw validationError(field, typeof value === 'number' ? (result.error.issues[0]?.message ?? 'is invalid') : 'must be a number');
  return result.data;
}
