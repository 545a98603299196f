/**
 * JSON documents (asset metadata, lease agreements, event args) are stored as JSONB, so they must
 * be values JSONB keeps exactly: plain objects, arrays, finite numbers, strings without NUL or
 * lone surrogates (PostgreSQL refuses both), booleans and null. Anything else would be changed or
 * refused by one backend and not another.
 */

/** Largest accepted document, serialized as UTF-8 JSON. */
export const MAX_DOCUMENT_BYTES = 256 * 1024;
/** Deepest accepted nesting; guards the checker's recursion. */
export const MAX_DOCUMENT_DEPTH = 64;

// A lone surrogate (high not followed by low, or low not preceded by high) or a NUL character.
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found
const BAD_STRING = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether a string holds a character no backend can store as given: NUL (PostgreSQL text refuses
 * it) or a lone surrogate (UTF-8 cannot encode it; the driver would store U+FFFD instead). Keys,
 * names and document strings are refused with these, so every backend refuses alike.
 */
export function hasUnstorableCharacter(value: string): boolean {
  return BAD_STRING.test(value);
}

/** Returns why `value` is not an acceptable JSON object document, or null when it is. */
export function jsonDocumentProblem(value: unknown): string | null {
  if (!isPlainObject(value)) return 'must be a plain JSON object';
  const problem = valueProblem(value, 0);
  if (problem) return problem;
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) return `is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}`;
  return null;
}

function valueProblem(value: unknown, depth: number): string | null {
  if (depth > MAX_DOCUMENT_DEPTH) return `nests deeper than ${MAX_DOCUMENT_DEPTH} levels`;
  switch (typeof value) {
    case 'string':
      return BAD_STRING.test(value) ? 'contains a NUL character or a lone surrogate' : null;
    case 'number':
      if (!Number.isFinite(value)) return 'contains a non-finite number';
      // JSON (and so JSONB) writes -0 as 0; refusing it keeps every backend's round trip exact.
      return Object.is(value, -0) ? 'contains -0, which JSON cannot keep' : null;
    case 'boolean':
      return null;
    case 'bigint':
      return 'contains a bigint; write big integers as decimal strings';
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        for (const item of value) {
          const p = valueProblem(item, depth + 1);
          if (p) return p;
        }
        return null;
      }
      if (!isPlainObject(value)) return 'contains a value that is not plain JSON (Date, Map, class instance)';
      for (const [key, item] of Object.entries(value)) {
        if (BAD_STRING.test(key)) return 'has a key with a NUL character or a lone surrogate';
        if (item === undefined) return `has an undefined value at "${key}"`;
        const p = valueProblem(item, depth + 1);
        if (p) return p;
      }
      return null;
    }
    default:
      return `contains a ${typeof value}`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Deep-copies a JSON document. Far cheaper than `structuredClone` for the small nested objects
 * documents are, which matters because every read of the in-memory backend returns a copy.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = cloneJson((value as Record<string, unknown>)[key]);
    // Assigning "__proto__" would set the prototype; JSON makes it an ordinary own key.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return copy as T;
}
