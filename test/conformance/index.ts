/**
 * The storage conformance suite: one set of cases every backend runs (DESIGN.md, "The storage
 * contract"). A backend's test file calls {@link runConformanceSuite} with a factory.
 */
import { afterAll, describe } from 'vitest';
import { assetTests } from './assets.js';
import { batchTests } from './batches.js';
import { copyTests } from './copies.js';
import { documentTests } from './documents.js';
import { eventTests } from './events.js';
import type { ConformanceBackend } from './fixtures.js';
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

/** Registers the whole suite for `backend` under one describe block named after it. */
export function runConformanceSuite(backend: ConformanceBackend): void {
  describe(`storage conformance: ${backend.name}`, () => {
    afterAll(async () => {
      await backend.teardown?.();
    });
    lifecycleTests(backend);
    assetTests(backend);
    leaseTests(backend);
    eventTests(backend);
    paymentTests(backend);
    paymentRecordTests(backend);
    paymentConcurrencyTests(backend);
    batchTests(backend);
    ledgerQueryTests(backend);
    pageTests(backend);
    validationTests(backend);
    documentTests(backend);
    sampleDataTests(backend);
    copyTests(backend);
    recordTests(backend);
  });
}
