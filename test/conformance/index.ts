/**
 * The storage conformance suite: one set of cases every backend runs (DESIGN.md, "The storage
 * contract"). A backend's test file calls {@link runConformanceSuite} with a factory.
 */
import { afterAll, describe } from 'vitest';
import { assetTests } from './assets.js';
import { batchTests } from './batches.js';
import { chainTests } from './chain.js';
import { copyTests } from './copies.js';
import { documentTests } from './documents.js';
import { eventTests } from './events.js';
import type { ConformanceBackend, SuiteTopic } from './fixtures.js';
import { latePaymentTests } from './late-payments.js';
import { leaseTests } from './leases.js';
import { ledgerQueryTests } from './ledger-queries.js';
import { lifecycleTests } from './lifecycle.js';
import { pageTests } from './pages.js';
import { paymentConcurrencyTests } from './payment-concurrency.js';
import { paymentRecordTests } from './payment-records.js';
import { paymentTests } from './payments.js';
import { recordTests } from './records.js';
import { sampleDataTests } from './samples.js';
import { validationTests } from './validation.js';

export type { ConformanceBackend } from './fixtures.js';

const TOPICS: Record<SuiteTopic, (backend: ConformanceBackend) => void> = {
  lifecycle: lifecycleTests,
  assets: assetTests,
  leases: leaseTests,
  events: eventTests,
  payments: paymentTests,
  'payment-records': paymentRecordTests,
  'payment-concurrency': paymentConcurrencyTests,
  'late-payments': latePaymentTests,
  batches: batchTests,
  'ledger-queries': ledgerQueryTests,
  pages: pageTests,
  validation: validationTests,
  documents: documentTests,
  samples: sampleDataTests,
  copies: copyTests,
  records: recordTests,
  chain: chainTests,
};

/** Registers the whole suite for `backend` under one describe block named after it. */
export function runConformanceSuite(backend: ConformanceBackend): void {
  describe(`storage conformance: ${backend.name}`, () => {
    afterAll(async () => {
      await backend.teardown?.();
    });
    for (const [topic, register] of Object.entries(TOPICS) as [SuiteTopic, (b: ConformanceBackend) => void][]) {
      if (backend.skip.has(topic)) describe.skip(topic, () => undefined);
      else register(backend);
    }
  });
}
