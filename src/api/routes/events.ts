/** Contract event routes: unprocessed list, backlog, get one, and idempotent ingestion. */
import type { FastifyInstance } from 'fastify';
import type { NewEvent } from '../../storage/contract/database.js';
import type { AppContext } from '../context.js';
import { notFound } from '../errors.js';
import { eventBacklog } from '../ops.js';

// The most events one backlog read returns (the contract's limit).
const MAX_EVENTS_PER_READ = 10_000;
import { field, object, params } from '../schemas.js';
import { eventJson } from '../serialize.js';
import { eventSchema, responses } from '../response-schemas.js';

const tags = ['events'];

const newEventBody = object(
  {
    eventName: { type: 'string', minLength: 1, maxLength: 100 },
    contractAddress: field.address,
    blockNumber: field.blockNumber,
    transactionHash: field.hash,
    logIndex: field.logIndex,
    args: field.document,
    processed: { type: 'boolean' },
  },
  ['eventName', 'contractAddress', 'blockNumber', 'transactionHash', 'logIndex'],
);

/** Registers the event routes. */
export function registerEventRoutes(app: FastifyInstance, { db }: AppContext): void {
  app.get<{ Querystring: { limit: number } }>(
    '/api/events/unprocessed',
    {
      schema: {
        tags,
        summary: 'Unprocessed events, oldest first',
        querystring: object({ limit: { ...field.limit, maximum: MAX_EVENTS_PER_READ } }),
        response: responses({ 200: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: eventSchema } } } }),
      },
    },
    async (request) => ({ items: (await db.getUnprocessedEvents(request.query.limit)).map(eventJson) }),
  );

  app.get(
    '/api/events/backlog',
    { schema: { tags, summary: 'Count of unprocessed events', querystring: object({}), response: responses({ 200: { type: 'object', additionalProperties: false, required: ['count'], properties: { count: { type: 'integer' } } } }) } },
    async () => await eventBacklog(db),
  );

  app.get<{ Params: { txHash: string; logIndex: number } }>(
    '/api/events/:txHash/:logIndex',
    { schema: { tags, summary: 'Get an event', params: params({ txHash: field.hash, logIndex: field.logIndex }), response: responses({ 200: eventSchema }) } },
    async (request) => {
      const { txHash, logIndex } = request.params;
      const event = await db.getEvent(txHash, logIndex);
      if (event === null) throw notFound('event', { transactionHash: txHash, logIndex });
      return eventJson(event);
    },
  );

  // Idempotent: a re-ingested event is answered 200 with the stored one (its `processed` flag
  // untouched), a new one 201.
  app.post<{ Body: Omit<NewEvent, 'args'> & { args?: NewEvent['args'] } }>('/api/events', { schema: { tags, summary: 'Ingest an event (idempotent: 200 with the stored one when known, 201 when new)', body: newEventBody, response: responses({ 200: eventSchema, 201: eventSchema }) } }, async (request, reply) => {
    const existing = await db.getEvent(request.body.transactionHash, request.body.logIndex);
    if (existing !== null) return reply.code(200).send(eventJson(existing));
    const event = await db.saveEvent({ args: {}, ...request.body });
    return reply.code(201).send(eventJson(event));
  });
}
