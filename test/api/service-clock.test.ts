/**
 * Routes that default to "now" read the service's clock (`now` of buildApp), not the wall
 * clock, so a service run on a pinned or simulated clock answers for its own present.
 */
import { afterEach, expect, it } from 'vitest';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { activeLease, http, startApp, type Running } from './support.js';

const running: Running[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

it('hour-totals without `at` gives the hour of the service clock', async () => {
  const db = new MockDatabase();
  await db.connect();
  const serviceNow = new Date('2024-03-10T10:20:00.000Z');
  const server = await startApp({ db, now: () => serviceNow });
  running.push(server);
  await activeLease(server.url, 'A-1', 'L-1');
  await db.recordPayment({ leaseId: 'L-1', amount: '7', timestamp: '2024-03-10T10:05:00.000Z', mode: 'second' });

  const totals = await http(server.url, 'GET', '/api/leases/L-1/hour-totals');
  expect(totals.status).toBe(200);
  expect(totals.body).toMatchObject({ bucket: '2024-03-10T10:00:00.000Z', paymentCount: 1, totalAmountMinorUnits: '7' });
});
