/**
 * Response validation: every answer of a route is checked against the response schema the route
 * declares (and the OpenAPI document publishes) for its status. A route that answers a status it
 * does not document, or a body its schema does not describe, is turned into a 500
 * RESPONSE_NOT_DESCRIBED naming the difference, so any test exercising it fails. The tests turn
 * it on; production leaves it off (it parses every body again).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './errors.js';

type Schema = Record<string, unknown>;

/** The schema a route declares for `status`: exact, then `4xx`-style, then `default`. */
export function responseSchemaFor(responses: Record<string, unknown>, status: number): Schema | undefined {
  const range = `${Math.floor(status / 100)}xx`;
  return (responses[String(status)] ?? responses[range] ?? responses[range.toUpperCase()] ?? responses['default']) as Schema | undefined;
}

/** The body schema for a content type: `content` maps when given, else the schema itself. */
function bodySchema(schema: Schema, contentType: string): Schema | undefined {
  const content = schema['content'] as Record<string, { schema: Schema }> | undefined;
  if (content === undefined) return contentType.startsWith('application/json') ? schema : undefined;
  const match = Object.entries(content).find(([type]) => contentType.startsWith(type));
  return match?.[1].schema;
}

// One validator per process: the route schemas are module constants, so every app (a test file
// builds many) reuses what an earlier one compiled instead of compiling it again.
// Not strict: the schemas carry OpenAPI words (headers, description, example) ajv does not know.
const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS: under NodeNext its default import is the module, whose `default` is the plugin.
addFormats.default(ajv);
const compiled = new WeakMap<Schema, ValidateFunction>();

function compile(schema: Schema): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Installs the check as an onSend hook (`shared`: the schemas routes reference by `$id`); call before the routes are registered. */
export function installResponseValidation(app: FastifyInstance, shared: readonly Schema[] = []): void {
  for (const schema of shared) {
    const id = schema['$id'];
    const known = typeof id === 'string' ? ajv.getSchema(id)?.schema : undefined;
    if (known === undefined) ajv.addSchema(schema);
    else if (known !== schema) throw new Error(`another schema is already registered as ${String(id)}`);
  }
  const refuse = (request: FastifyRequest, reply: FastifyReply, problem: string, details: Record<string, unknown>) => {
    request.log.error({ problem, details, route: request.routeOptions.url, status: reply.statusCode }, 'response not described by its schema');
    const body = errorBody('RESPONSE_NOT_DESCRIBED', `${request.method} ${request.routeOptions.url ?? request.url} answered ${reply.statusCode}: ${problem}`, details);
    void reply.code(500).header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(body);
  };

  app.addHook('onSend', async (request, reply, payload) => {
    const schema = request.routeOptions.schema as (Schema & { hide?: boolean; response?: Record<string, unknown> }) | undefined;
    // Unmatched URLs (the 404/405 handler) and routes kept out of the document (static files, the docs) have nothing to check.
    if (request.is404 || schema?.hide === true || request.routeOptions.url === undefined) return payload;
    if (schema?.response === undefined) return refuse(request, reply, 'the route declares no response schema', {});
    const declared = responseSchemaFor(schema.response, reply.statusCode);
    if (declared === undefined) return refuse(request, reply, 'the status is not documented', { status: reply.statusCode });
    const contentType = String(reply.getHeader('content-type') ?? '');
    const body = bodySchema(declared, contentType);
    if (body === undefined) return refuse(request, reply, `the content type ${contentType} is not documented`, {});
    if (typeof payload !== 'string') return refuse(request, reply, 'the body is not text', {});
    let value: unknown = payload;
    if (contentType.startsWith('application/json')) {
      try {
        value = JSON.parse(payload);
      } catch {
        return refuse(request, reply, 'the body is not JSON', {});
      }
    }
    const validate = compile(body);
    if (!validate(value)) return refuse(request, reply, ajv.errorsText(validate.errors), { errors: validate.errors });
    return payload;
  });
}
