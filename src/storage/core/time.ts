/**
 * Instants and hour buckets. A bucket is the top of a UTC hour written canonically as
 * `YYYY-MM-DDTHH:00:00.000Z`; a payment belongs to the half-open hour [bucket, bucket + 1 h).
 */
import { validationError } from '../contract/errors.js';

export const HOUR_MS = 3_600_000;
/** One UTC day in milliseconds (UTC has no daylight-saving days). */
export const DAY_MS = 86_400_000;

// An ISO-8601 instant that carries its zone: date, time to at least minutes, optional seconds
// and fraction, then Z or a numeric offset. Local times without a zone are ambiguous, so refused.
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)$/;

/**
 * Parses an ISO-8601 instant with a zone. Fractions beyond milliseconds must be zero, because
 * `Date` cannot hold them and silently rounding a timestamp would move money between hours.
 */
export function parseInstant(input: unknown, field: string): Date {
  if (typeof input !== 'string') throw validationError(field, 'must be an ISO-8601 string with a zone');
  const m = ISO_INSTANT.exec(input);
  if (!m) throw validationError(field, `"${truncate(input)}" is not an ISO-8601 instant with a zone`);
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = m;
  if (frac.length > 3 && /[^0]/.test(frac.slice(3))) {
    throw validationError(field, 'sub-millisecond precision is not supported');
  }
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  // Not Date.UTC: it maps years 0-99 to 1900-1999.
  const check = new Date(0);
  check.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  check.setUTCHours(Number(h), Number(mi), Number(s), ms);
  const local = check.getTime();
  // Out-of-range fields roll over (Feb 30 -> Mar 2); a real calendar date survives.
  if (
    Number.isNaN(local) ||
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(s)
  ) {
    throw validationError(field, `"${truncate(input)}" is not a real date and time`);
  }
  const date = new Date(local - offsetMs(zone));
  checkDate(date, field);
  return date;
}

function offsetMs(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  return sign * (hours * 60 + minutes) * 60_000;
}

// PostgreSQL TIMESTAMPTZ and JS Date agree on years 1..9999; outside that the backends differ.
const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');

/** Checks that `value` is a valid Date within years 1..9999. */
export function checkDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw validationError(field, 'must be a valid Date');
  const t = value.getTime();
  if (t < MIN_TIME || t > MAX_TIME) throw validationError(field, 'must be between years 1 and 9999');
  return value;
}

/** The canonical bucket (UTC hour) containing `instant`. */
export function hourBucketOf(instant: Date): string {
  const hour = Math.floor(instant.getTime() / HOUR_MS) * HOUR_MS;
  // Formatting a date costs about a microsecond; bulk paths ask for the same few hours millions of
  // times (every payment of an import is checked against its hour), so recent answers are kept.
  let bucket = recentBuckets.get(hour);
  if (bucket === undefined) {
    if (recentBuckets.size >= RECENT_BUCKETS) recentBuckets.clear();
    bucket = new Date(hour).toISOString();
    recentBuckets.set(hour, bucket);
  }
  return bucket;
}

/** Hours {@link hourBucketOf} remembers (a year of hours; the map is emptied when full). */
const RECENT_BUCKETS = 8_760;
const recentBuckets = new Map<number, string>();

const CANONICAL_BUCKET = /^\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/;

/** Parses a bucket given as any ISO-8601 instant with a zone that is exactly a top of hour. */
export function parseHourBucket(input: unknown, field: string): string {
  // Fast path for the canonical form (what every stored record carries): bulk imports check
  // millions of them.
  // (A canonical-looking text of no real instant, month 13 say, leaves Date.parse NaN: the slow
  // path refuses it by name, where toISOString would throw a RangeError.)
  if (typeof input === 'string' && CANONICAL_BUCKET.test(input)) {
    const ms = Date.parse(input);
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === input) return input;
  }
  const date = parseInstant(input, field);
  if (date.getTime() % HOUR_MS !== 0) throw validationError(field, 'must be exactly the top of an hour (UTC)');
  return date.toISOString();
}

/** The end of the hour that starts at `bucket` (canonical form). */
export function bucketEnd(bucket: string): Date {
  return new Date(Date.parse(bucket) + HOUR_MS);
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
