/**
 * PUT /api/leases/:leaseId/agreement (memory backend): a lease without price terms, as chain
 * ingestion creates it, becomes payable once its agreement carries them; malformed terms, a
 * foreign lease or asset id, an unknown lease and a closed lease are refused with a typed error
 * and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, agreement, assetBody, http, leaseBody, startApp, type Running } from './support.js';
import { backend, type OpenBackend } from '../support/backends.js';

let handle: OpenBackend;
let server: Running;

beforeAll(async () => {
  handle = await backend('memory').open();
  server = await startApp({ db: handle.db });
  expect((await http(server.url, 'POST', '/api/assets', { body: assetBody('A-1'), headers: AUTH })).status).toBe(201);
  // Born without terms, like a lease from LeaseAccepted: { source: 'chain', onchainLeaseTokenId }.
  for (const id of ['L-1', 'L-closed']) {
    const body = { ...leaseBody(id, 'A-1'), agreement: { source: 'chain', onchainLeaseTokenId: '0' }, status: 'active' };
    expect((await http(server.url, 'POST', '/api/leases', { body, headers: AUTH })).status).toBe(201);
  }
  expect((await http(server.url, 'PATCH', '/api/leases/L-closed/status', { body: { status: 'completed' }, headers: AUTH })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await handle?.dispose();
});

const put = (leaseId: string, body: unknown, headers: Record<string, string> = AUTH) => http(server.url, 'PUT', `/api/leases/${leaseId}/agreement`, { body, headers });
const stored = async (leaseId: string) => (await http(server.url, 'GET', `/api/leases/${leaseId}`)).body.agreement;

describe('PUT /api/leases/:leaseId/agreement', () => {
  it('refuses what it cannot use, with the field named, and changes nothing', async () => {
    const good = agreement('L-1', 'A-1');
    const terms = good['terms'] as Record<string, unknown>;
    const cases: [unknown, number, string, string?][] = [
      [{ agreement: { ...good, terms: undefined } }, 400, 'VALIDATION', 'agreement.terms'],
      [{ agreement: { ...good, terms: [] } }, 400, 'VALIDATION', 'agreement.terms'],
      [{ agreement: { ...good, terms: { ...terms, paymentAmount: '0x10' } } }, 400, 'VALIDATION', 'agreement.terms.paymentAmount'],
      [{ agreement: { ...good, terms: { ...terms, paymentAmount: 3600 } } }, 400, 'VALIDATION', 'agreement.terms.paymentAmount'],
      [{ agreement: { ...good, terms: { ...terms, startDate: 'tomorrow' } } }, 400, 'VALIDATION', 'agreement.terms.startDate'],
      [{ agreement: { ...good, terms: { ...terms, endDate: terms['startDate'] } } }, 400, 'VALIDATION', 'agreement.terms.endDate'],
      [{ agreement: { ...good, leaseId: 'L-2' } }, 400, 'VALIDATION', 'agreement.leaseId'],
      [{ agreement: { ...good, assetId: 'A-2' } }, 400, 'VALIDATION', 'agreement.assetId'],
      [{ agreement: good, extra: 1 }, 400, 'VALIDATION'],
      [{}, 400, 'VALIDATION'],
    ];
    for (const [body, status, code, field] of cases) {
      const answer = await put('L-1', body);
      expect([answer.status, answer.body.error.code]).toEqual([status, code]);
      if (field !== undefined) expect(answer.body.error.details.field).toBe(field);
    }
    expect((await put('L-1', { agreement: good }, {})).status).toBe(401);
    expect((await put('L-none', { agreement: good })).status).toBe(404);
    const closed = await put('L-closed', { agreement: agreement('L-closed', 'A-1') });
    expect([closed.status, closed.body.error.code]).toEqual([409, 'LEASE_CLOSED']);
    expect(await stored('L-1')).toEqual({ source: 'chain', onchainLeaseTokenId: '0' });
    expect(await stored('L-closed')).toEqual({ source: 'chain', onchainLeaseTokenId: '0' });
  });

  it('attaches the terms: the lease, unpayable before, is quoted after', async () => {
    const before = await http(server.url, 'POST', '/api/leases/L-1/access?mode=second');
    expect([before.status, before.body.error.code]).toEqual([409, 'LEASE_NOT_PAYABLE']);
    const good = agreement('L-1', 'A-1');
    const answer = await put('L-1', { agreement: good });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ leaseId: 'L-1', status: 'active', agreement: good });
    expect(await stored('L-1')).toEqual(good);
    // Payable now: the unpaid request is answered with x402's 402 and the price.
    expect((await http(server.url, 'POST', '/api/leases/L-1/access?mode=second')).status).toBe(402);
  });
});
