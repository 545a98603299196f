/**
 * JSON schemas of route inputs. Every route declares params, querystring and body with
 * `additionalProperties: false`, so an unknown field is a 400 rather than silently ignored. The
 * storage layer validates again (it is the authority on ranges and formats); these schemas stop
 * malformed input at the door with a precise message.
 */
import { LEASE_STATUSES, PAYMENT_MODES } from '../storage/contract/database.js';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from '../storage/core/cursor.js';
import { ADDRESS_PATTERN, HASH_PATTERN } from '../util/hex.js';

const MAX_INT4 = 2_147_483_647;

/** Field schemas. */
export const field = {
  address: { type: 'string', pattern: ADDRESS_PATTERN },
  hash: { type: 'string', pattern: HASH_PATTERN },
  key: { type: 'string', minLength: 1, maxLength: 255 },
  chainId: { type: 'integer', minimum: 1, maximum: MAX_INT4 },
  blockNumber: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  logIndex: { type: 'integer', minimum: 0, maximum: MAX_INT4 },
  document: { type: 'object', additionalProperties: true },
  status: { type: 'string', enum: [...LEASE_STATUSES] },
  mode: { type: 'string', enum: [...PAYMENT_MODES], default: 'second' },
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
  cursor: { type: 'string', minLength: 1, maxLength: 1024 },
  /** ISO-8601 instant with a zone; parsed by the route with the storage layer's parser. */
  instant: { type: 'string', minLength: 1, maxLength: 64 },
} as const;

type Properties = Record<string, object>;

/** An object schema that refuses unknown properties. */
export function object(properties: Properties, required: string[] = []): object {
  return { type: 'object', additionalProperties: false, properties, required };
}

/** Params schema where every property is required. */
export function params(properties: Properties): object {
  return object(properties, Object.keys(properties));
}

/** `?limit&after` of a keyset-paginated list. */
export const pageQuery = { limit: field.limit, after: field.cursor } as const;

/** Query of a keyset-paginated list. */
export interface PageQuery {
  limit: number;
  after?: string;
}
