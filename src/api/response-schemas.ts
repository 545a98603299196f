/**
 * JSON schemas of what the routes answer. They document the API (the OpenAPI document is built
 * from them) and, with response validation on (the tests), are checked against every real
 * response: objects list every property and refuse others, so a field added to a serializer
 * without its schema fails the tests instead of drifting out of the contract. Free-form documents
 * (metadata, agreements, event args, signed payloads) are plain objects.
 */
import { LEASE_STATUSES, PAYMENT_MODES } from '../storage/contract/database.js';

type Schema = Record<string, unknown>;

/** A closed object: every property listed, the `required` ones always present. */
function shape(properties: Record<string, Schema>, optional: string[] = []): Schema {
  return { type: 'object', additionalProperties: false, properties, required: Object.keys(properties).filter((k) => !optional.includes(k)) };
}

const text = { type: 'string' } as const;
const integer = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const instant = { type: 'string', format: 'date-time' } as const;
const minorUnits = { type: 'string', pattern: '^-?[0-9]+$', description: 'USDC minor units as decimal digits (exact: never a float)' } as const;
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
const document = { type: 'object', additionalProperties: true } as const;
const listOf = (item: Schema): Schema => ({ type: 'array', items: item });

/** A reference to a named schema of {@link namedSchemas} (a component of the OpenAPI document). */
function ref(id: string): Schema {
  return { $ref: `${id}#` };
}

/** The one error format (errors.ts). */
const apiError = shape({
  error: shape({ code: { ...text, description: 'Stable machine-readable code' }, message: text, details: document }),
});

/** Errors every route may answer (validation, auth, rate limit, storage faults). */
export const errorResponses = { '4xx': ref('ApiError'), '5xx': ref('ApiError') } as const;

/** A stored asset. */
const asset = shape({
  id: text,
  assetId: text,
  chainId: integer,
  contractAddress: text,
  tokenAddress: text,
  metadata: document,
  metadataHash: text,
  blockNumber: integer,
  transactionHash: text,
  createdAt: instant,
  updatedAt: instant,
});

/** A stored lease. */
const lease = shape({
  id: text,
  leaseId: text,
  assetId: text,
  chainId: integer,
  contractAddress: text,
  lessor: text,
  lessee: text,
  agreement: document,
  status: { type: 'string', enum: [...LEASE_STATUSES] },
  blockNumber: integer,
  transactionHash: text,
  createdAt: instant,
  updatedAt: instant,
});

/** A stored contract event. */
const event = shape({
  id: text,
  eventName: text,
  contractAddress: text,
  blockNumber: integer,
  transactionHash: text,
  logIndex: integer,
  args: document,
  processed: bool,
  createdAt: instant,
});

const mode = { type: 'string', enum: [...PAYMENT_MODES] } as const;

/** A payment in the ledger; `late` and `carriedToBatchId` only on a payment placed after its hour settled. */
const payment = shape(
  {
    id: text,
    leaseId: text,
    mode,
    intervalSeconds: integer,
    amountMinorUnits: minorUnits,
    payer: text,
    paymentTimestamp: instant,
    facilitatorTxHash: text,
    bucketSlot: text,
    createdAt: instant,
    late: { type: 'boolean', const: true },
    carriedToBatchId: nullable(text),
  },
  ['late', 'carriedToBatchId'],
);

/** An hourly batch; settled once `settlementTxHash` is set. */
const batch = shape({
  id: text,
  leaseId: text,
  hourBucket: text,
  totalAmountMinorUnits: minorUnits,
  paymentCount: integer,
  revenueRoundId: nullable(text),
  settlementTxHash: nullable(text),
  startedAt: instant,
  closedAt: instant,
  createdAt: instant,
});

/**
 * Schemas with a name: registered once on the app (fastify `addSchema`), published as components
 * of the OpenAPI document (so the typed client names them) and referenced by the routes.
 */
export const namedSchemas: readonly Schema[] = [
  { $id: 'ApiError', description: 'The one error format of the API', ...apiError },
  { $id: 'Asset', description: 'A registered asset', ...asset },
  { $id: 'Lease', description: 'A lease', ...lease },
  { $id: 'ContractEvent', description: 'A contract event', ...event },
  { $id: 'Payment', description: 'A payment in the ledger', ...payment },
  { $id: 'HourlyBatch', description: "An hourly batch of a lease's payments", ...batch },
];

/** References to the named schemas. */
export const assetSchema = ref('Asset');
/** A lease. */
export const leaseSchema = ref('Lease');
/** A contract event. */
export const eventSchema = ref('ContractEvent');
/** A payment. */
export const paymentSchema = ref('Payment');
/** An hourly batch. */
export const batchSchema = ref('HourlyBatch');

/** A keyset page of `item`. */
export function pageOf(item: Schema): Schema {
  return shape({ items: listOf(item), nextCursor: { ...nullable(text), description: 'Pass as `after` for the next page; null on the last' } });
}

/** A lease's hour totals. */
export const hourTotalsSchema = shape({ leaseId: text, bucket: text, totalAmountMinorUnits: minorUnits, paymentCount: integer });

/** A lease's revenue per UTC day. */
export const dailyRevenueSchema = shape({
  from: instant,
  to: instant,
  items: listOf(shape({ leaseId: text, day: text, totalAmountMinorUnits: minorUnits, paymentCount: integer })),
  nextCursor: nullable(text),
});

/** An asset's revenue split by lease. */
export const assetRevenueSchema = shape({
  assetId: text,
  from: instant,
  to: instant,
  totalAmountMinorUnits: minorUnits,
  paymentCount: integer,
  leases: listOf(shape({ leaseId: text, totalAmountMinorUnits: minorUnits, paymentCount: integer })),
});

/** x402 payment requirements (both protocol versions' amount names). */
export const requirementsSchema = shape({
  scheme: { type: 'string', const: 'exact' },
  network: text,
  asset: text,
  amount: minorUnits,
  maxAmountRequired: minorUnits,
  payTo: text,
  resource: text,
  description: text,
  mimeType: text,
  maxTimeoutSeconds: integer,
  mode,
  intervalSeconds: integer,
  intervalStart: instant,
  extra: shape({ name: text, version: text }),
});

/** The quote of the current interval. */
export const quoteSchema = shape({
  x402Version: { type: 'integer', const: 1 },
  accepts: listOf(requirementsSchema),
  quote: shape({ leaseId: text, mode, intervalIndex: integer, intervalsPerHour: integer, hourlyPriceMinorUnits: minorUnits }),
});

const base64Header = (what: string): Schema => ({ type: 'string', description: `${what} (base64 JSON)` });

/** Headers of a settled payment's receipt, under both x402 versions' names. */
const receiptHeaders = {
  'payment-response': base64Header('x402 v2 SettleResponse receipt'),
  'x-payment-response': base64Header('x402 v1 receipt (same value)'),
};

/** The 200 of a paid access: the payment recorded (or replayed), or kept pending for replay. */
export const accessGrantedResponse = {
  description: 'Access granted: the payment settled. `ledger` says whether it is recorded, a replay of a recorded one, or pending (money moved; the ledger row follows).',
  headers: receiptHeaders,
  oneOf: [
    shape({ access: { type: 'string', const: 'granted' }, leaseId: text, mode, ledger: { type: 'string', enum: ['recorded', 'replayed'] }, payment: paymentSchema }),
    shape(
      { access: { type: 'string', const: 'granted' }, leaseId: text, mode, ledger: { type: 'string', const: 'pending' }, facilitatorTxHash: text, intentId: text, pendingId: text },
      ['pendingId'],
    ),
  ],
};

/** The 402 of the paid route: x402 v1 body with this API's code beside it, v2 requirements in a header. */
export const paymentRequiredResponse = {
  description: 'Payment required or refused: pay one of `accepts` and retry with X-PAYMENT (v1) or PAYMENT-SIGNATURE (v2)',
  headers: { 'payment-required': base64Header('x402 v2 PaymentRequired (CAIP-2 network)') },
  ...shape({ x402Version: { type: 'integer', const: 1 }, error: text, accepts: listOf(requirementsSchema), code: text, details: document }),
};

/** Request headers of the paid route. */
export const paymentRequestHeaders = {
  type: 'object',
  properties: {
    'x-payment': base64Header('x402 v1 payment payload'),
    'payment-signature': base64Header('x402 v2 payment payload'),
  },
};

const damagedLine = { type: 'object', additionalProperties: true, description: 'A line of a durable file that could not be read back' } as const;
const pendingPayment = shape({
  id: text,
  facilitatorTxHash: text,
  leaseId: text,
  payload: document,
  error: text,
  attempts: integer,
  createdAt: instant,
  resolvedAt: nullable(instant),
});
const settlementIntent = { type: 'object', additionalProperties: true, required: ['id', 'state'], properties: { id: text, state: text }, description: 'A journaled settlement' };

/** The reconcile result. */
export const reconcileSchema = shape({
  batchesChecked: integer,
  paymentsChecked: integer,
  differences: listOf(
    shape({ leaseId: text, hourBucket: text, batchId: text, storedTotal: minorUnits, storedCount: integer, paymentsTotal: minorUnits, paymentsCount: integer }),
  ),
  latePayments: listOf(shape({ leaseId: text, hourBucket: text, facilitatorTxHash: text, amountMinorUnits: minorUnits, carriedToBatchId: nullable(text) })),
  pendingPayments: listOf(pendingPayment),
  damagedPendingLines: listOf(damagedLine),
  unresolvedSettlements: listOf(settlementIntent),
  damagedJournalLines: listOf(damagedLine),
  consistent: bool,
  checkedAt: instant,
  nextCheckAfter: instant,
});

const tableSize = shape({ count: integer, exact: bool });
const nullableInteger = nullable(integer);

/** What chain ingestion reports once it runs; null without it. */
export const chainStatusSchema = nullable({
  type: 'object',
  additionalProperties: true,
  properties: {
    chainId: integer,
    headBlock: nullableInteger,
    safeBlock: nullableInteger,
    ingestedBlock: nullableInteger,
    processedBlock: nullableInteger,
    lag: nullableInteger,
    backlog: nullableInteger,
    // Their shapes belong to chain ingestion; documented loosely so either shape it settles on passes.
    lastReorg: { description: 'The last reorganization seen (null: none)' },
    leader: { description: 'Whether this process leads ingestion, or who does' },
    lastError: { description: 'The last ingestion error (null: none)' },
  },
});

/** The service's status. */
export const statusSchema = shape(
  {
    mode: text,
    backend: shape({ kind: text, durable: bool, description: text }),
    facilitator: text,
    pool: nullable(shape({ total: integer, idle: integer, waiting: integer, max: integer })),
    counts: { type: 'object', additionalProperties: tableSize },
    eventBacklog: shape({ count: integer }),
    pendingPayments: shape({ store: text, count: integer, damagedLines: integer }),
    migrations: listOf(shape({ version: integer, name: text, state: text })),
    uptimeSeconds: integer,
    chain: chainStatusSchema,
  },
  ['chain'],
);

/** Live payment activity since the service started. */
export const activitySchema = shape({
  windowSeconds: { ...integer, description: 'Width of the sliding window the rate is computed over' },
  paymentsPerSecond: { type: 'number', description: 'Newly recorded payments per second over the window' },
  recordedInWindow: integer,
  since: instant,
  totals: shape({ recorded: integer, replayed: integer, pending: integer }),
});

/** A plain status answer (`/health`, `/ready`). */
export function statusWord(word: string): Schema {
  return shape({ status: { type: 'string', const: word } });
}

/** The resolve report. */
export const resolveReportSchema = shape({
  recorded: listOf(text),
  notSettled: listOf(text),
  unknown: listOf(settlementIntent),
  failed: listOf(shape({ id: text, code: text, message: text })),
  remaining: integer,
});

/** The pending replay report. */
export const replayReportSchema = shape({
  attempted: integer,
  recorded: listOf(text),
  failed: listOf(shape({ facilitatorTxHash: text, leaseId: text, code: text, error: text })),
  skipped: integer,
  remaining: integer,
});

/** Prometheus text exposition. */
export const metricsResponse = {
  description: 'Prometheus text exposition format',
  content: { 'text/plain': { schema: { type: 'string' } } },
};

/** Response schemas of a route: its successes plus the error shape for every 4xx and 5xx. */
export function responses(success: Record<number, Schema>): Record<string, Schema> {
  return { ...success, ...errorResponses };
}
