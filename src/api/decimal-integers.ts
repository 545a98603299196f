/**
 * Integers in query strings and path parameters are written in plain decimal. Ajv's coercion
 * turns any string JavaScript reads as a number into one, so `?limit=0x10` would be 16,
 * `?limit=1e3` 1000 and `?limit=%201` 1; this check runs before it and refuses such text with
 * the same 400 VALIDATION a schema failure gets.
 */

/** Optional sign, then digits without a leading zero. */
const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** An Ajv-style validation function as fastify calls it. */
export interface TextValidator {
  (data: unknown, context?: unknown): unknown;
  errors?: unknown;
  schemaEnv?: unknown;
}

interface ObjectSchema {
  properties?: Record<string, { type?: unknown }>;
}

function integerProperties(schema: unknown): string[] {
  const properties = (schema as ObjectSchema | undefined)?.properties;
  if (typeof properties !== 'object' || properties === null) return [];
  return Object.entries(properties)
    .filter(([, property]) => property.type === 'integer')
    .map(([name]) => name);
}

/**
 * Wraps the validator of a query string or params schema so that each `integer` property given
 * as text must be a decimal integer before Ajv coerces it. Schemas without such properties get
 * `validate` back unchanged.
 */
export function requireDecimalIntegers(schema: unknown, validate: TextValidator): TextValidator {
  const names = integerProperties(schema);
  if (names.length === 0) return validate;
  const strict: TextValidator = (data, context) => {
    if (typeof data === 'object' && data !== null) {
      for (const name of names) {
        if (!Object.hasOwn(data, name)) continue;
        const value = (data as Record<string, unknown>)[name];
        // An array is a repeated parameter (`?limit=1&limit=2`); Ajv refuses it itself.
        if (typeof value === 'string' && !DECIMAL_INTEGER.test(value)) {
          strict.errors = [{ instancePath: `/${name}`, schemaPath: `#/properties/${name}/type`, keyword: 'type', params: { type: 'integer' }, message: 'must be a decimal integer' }];
          return false;
        }
      }
    }
    const valid = validate(data, context);
    strict.errors = validate.errors;
    return valid;
  };
  // fastify passes the parent object only to real Ajv functions (so they can replace the root).
  if (validate.schemaEnv !== undefined) strict.schemaEnv = validate.schemaEnv;
  return strict;
}
