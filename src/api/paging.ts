/**
 * Query-string helpers shared by the paginated and reporting routes.
 */
import type { PageQuery } from './schemas.js';
import { parseInstant } from '../storage/core/time.js';

/** Page options without undefined members (exactOptionalPropertyTypes). */
export function pageOptions(query: PageQuery): { limit: number; after?: string } {
  return query.after === undefined ? { limit: query.limit } : { limit: query.limit, after: query.after };
}

/** Parses an optional ISO instant query value (VALIDATION on `field` when malformed). */
export function optionalInstant(value: string | undefined, field: string): Date | undefined {
  return value === undefined ? undefined : parseInstant(value, field);
}
