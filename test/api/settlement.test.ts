/**
 * Where money moves: what the access route refuses before settling (a settled hour, a full
 * batch), and what it journals when a settle gives no usable answer (timeout, outage, no hash,
 * refusal), so a settlement is never lost and never paid twice; and that the answer does not wait
 * for the journal's last line, which resolution makes up for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FacilitatorError, type Facilitator } from '../../src/api/facilitator/facilitator.js';
import { LocalFacilitator, localSettlementHash } from '../../src/api/facilitator/local.js';
import { THROWAWAY_PAYER, createPaymentPayload } from '../../src/api/x402/client.js';
import { decodePaymentHeader, encodeJsonHeader } from '../../src/api/x402/payment-header.js';
import type { PaymentPayload, PaymentRequirements, SettleResult } from '../../src/api/x402/types.js';
import { resolveSettlements } from '../../src/ledger/resolve-settlements.js';
import { MemorySettlementJournal, type JournalLine } from '../../src/ledger/settlement-journal.js';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { hash } from '../conformance/fixtures.js';
import { AUTH, activeLease, http, startApp, type Running } from './support.js';

const PAYER = THROWAWAY_PAYER.address;
const HOUR = 3_600_000;
const running: Running[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

/** A local facilitator that counts settles and can be told to answer a settle differently. */
class ScriptedFacilitator extends LocalFacilitator implements Facilitator {
  settles = 0;
  answer: ((payload: PaymentPayload, requirements: PaymentRequirements) => Promise<SettleResult>) | undefined;

  override async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult> {
    this.settles += 1;
    return this.answer ? this.answer(payload, requirements) : super.settle(payload, requirements);
  }
}

/** An app whose clock stands still, with an active lease L-1, its current requirements, and a payment header for them. */
async function setup(
  db = new MockDatabase(),
  journal = new MemorySettlementJournal(),
): Promise<{ db: MockDatabase; server: Running; facilitator: ScriptedFacilitator; journal: MemorySettlementJournal; requirements: PaymentRequirements; header: string; payload: PaymentPayload }> {
  await db.connect();
  const facilitator = new ScriptedFacilitator();
  // The service's clock stands still, so every request of a test is priced in the same interval:
  // a resend is granted only inside the interval it paid for, and a slow run must not cross one.
  const pricedAt = new Date();
  const server = await startApp({ db, facilitator, journal, now: () => pricedAt });
  running.push(server);
  await activeLease(server.url, 'A-1', 'L-1');
  const requirements = (await http(server.url, 'GET', '/api/leases/L-1/x402/requirements?mode=batch-5s')).body.accepts[0] as PaymentRequirements;
  const header = encodeJsonHeader(createPaymentPayload(requirements, { now: pricedAt }));
  return { db, server, facilitator, journal, requirements, header, payload: decodePaymentHeader(header) };
}

const pay = (server: Running, header: string) => http(server.url, 'POST', '/api/leases/L-1/access?mode=batch-5s', { headers: { 'x-payment': header } });

describe('refused before money moves', () => {
  it('a payment into a settled hour is refused (409) without being settled or journaled', async () => {
    // A store whose clock is past this hour and its grace, so the hour can be settled now.
    const { db, server, facilitator, journal, header, requirements } = await setup(new MockDatabase({ clock: () => new Date(Date.now() + 2 * HOUR) }));
    await db.recordPayment({ leaseId: 'L-1', amount: '1', timestamp: requirements.intervalStart, mode: 'batch-5s' });
    const [batch] = await db.getX402BatchesByLease('L-1');
    await db.updateX402Batch(batch?.id ?? '', { settlementTxHash: hash(0x5e7) });

    const answer = await pay(server, header);
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: 'HOUR_SETTLED', details: { hourBucket: batch?.hourBucket } });
    expect(facilitator.settles).toBe(0);
    expect(journal.unresolved()).toEqual([]);
  });

  it('a payment that would overflow its batch is refused (409) without being settled', async () => {
    const { db, server, facilitator, header, requirements } = await setup();
    await db.recordPayment({ leaseId: 'L-1', amount: (10n ** 20n - 2n).toString(), timestamp: requirements.intervalStart, mode: 'batch-5s' });
    const answer = await pay(server, header);
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('BATCH_FULL');
    expect(facilitator.settles).toBe(0);
    expect((await db.getX402PaymentsByLease('L-1')).length).toBe(1);
  });
});

describe('a settle without a usable answer', () => {
  it('a timeout leaves the intent unknown: the client is told not to pay again, reconcile shows it, resolution records it', async () => {
    const { db, server, facilitator, journal, header, payload } = await setup();
    facilitator.answer = async () => {
      throw new FacilitatorError('TIMEOUT', 'settle', 'facilitator settle timed out after 30000 ms');
    };
    const answer = await pay(server, header);
    expect(answer.status).toBe(504);
    expect(answer.body.error).toMatchObject({ code: 'FACILITATOR_TIMEOUT', details: { intentId: expect.any(String) } });
    expect(answer.body.error.message).toContain('do not pay again');
    const [intent] = journal.unresolved();
    expect(intent).toMatchObject({ id: answer.body.error.details.intentId, state: 'unknown', leaseId: 'L-1', nonce: payload.payload.authorization.nonce });

    // Resending is neither granted nor settled a second time while the outcome is unknown.
    const resent = await pay(server, header);
    expect(resent.status).toBe(409);
    expect(resent.body.error.code).toBe('SETTLEMENT_IN_PROGRESS');
    expect(facilitator.settles).toBe(1);
    const reconcile = await http(server.url, 'GET', '/api/system/reconcile', { headers: AUTH });
    expect(reconcile.body).toMatchObject({ consistent: false, unresolvedSettlements: [{ id: intent?.id, state: 'unknown', payment: { payload: { authorization: { nonce: payload.payload.authorization.nonce } } } }] });

    // The local facilitator can say what became of it: resolution records it.
    const resolved = await http(server.url, 'POST', '/api/admin/settlements/resolve', { headers: AUTH });
    expect(resolved.body).toMatchObject({ recorded: [intent?.id], remaining: 0 });
    expect(await db.getPaymentByFacilitatorTxHash(localSettlementHash(payload.payload.authorization))).toMatchObject({ leaseId: 'L-1', payer: PAYER });
    expect((await http(server.url, 'GET', '/api/system/reconcile', { headers: AUTH })).body.consistent).toBe(true);
  });

  it('a settle that succeeds without a hash leaves the intent unknown (502)', async () => {
    const { server, facilitator, journal, header, requirements } = await setup();
    facilitator.answer = async () => ({ success: true, transaction: 'not-a-hash', network: requirements.network as `${string}:${string}` });
    const answer = await pay(server, header);
    expect(answer.status).toBe(502);
    expect(journal.unresolved()).toMatchObject([{ state: 'unknown', reason: 'the facilitator settled without a transaction hash' }]);
  });

  it('a refused settle moved no money: 402, and the same payment may be tried again', async () => {
    const { db, server, facilitator, journal, header, requirements } = await setup();
    facilitator.answer = async () => ({ success: false, errorReason: 'insufficient_funds', transaction: '', network: requirements.network as `${string}:${string}` });
    const refused = await pay(server, header);
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ code: 'SETTLEMENT_FAILED', details: { reason: 'insufficient_funds' } });
    expect(journal.unresolved()).toEqual([]);
    facilitator.answer = undefined;
    const paid = await pay(server, header);
    expect(paid.status).toBe(200);
    expect((await db.getX402PaymentsByLease('L-1')).length).toBe(1);
  });
});

/** A journal whose lines of one state meet a disk that fails them or never finishes them. */
class JournalWithBadDisk extends MemorySettlementJournal {
  hit = 0;

  constructor(
    private readonly state: 'settled' | 'recorded',
    private readonly disk: 'fails' | 'stalls',
  ) {
    super();
  }

  protected override persist(line: JournalLine): Promise<void> {
    if (line.op !== 'update' || line.change.state !== this.state) return super.persist(line);
    this.hit += 1;
    return this.disk === 'fails' ? Promise.reject(new Error('EIO: i/o error, write')) : new Promise<void>(() => undefined);
  }
}

/** One paid request through `journal`, answered 200 with the payment granted and recorded. */
async function paidThrough(journal: JournalWithBadDisk) {
  const { db, server, header, payload } = await setup(new MockDatabase(), journal);
  const answer = await pay(server, header);
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ access: 'granted', ledger: 'recorded' });
  expect(journal.hit).toBe(1);
  return { db, server, header, payload, answer };
}

describe('the settled line', () => {
  it('is written beside the ledger write: when it fails, the settled payment is still recorded and granted, and the intent is not lost', async () => {
    const journal = new JournalWithBadDisk('settled', 'fails');
    const { db, payload, answer } = await paidThrough(journal);
    expect(await db.getPaymentByFacilitatorTxHash(localSettlementHash(payload.payload.authorization))).toMatchObject({ leaseId: 'L-1', payer: PAYER });
    // The recorded line follows the answer; the entry then says where the payment is.
    for (let i = 0; i < 100 && journal.byNonce(payload.payload.authorization.nonce)?.state !== 'recorded'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(journal.byNonce(payload.payload.authorization.nonce)).toMatchObject({ state: 'recorded', paymentId: answer.body.payment.id });
    expect(journal.unresolved()).toEqual([]);
  });
});

describe('the recorded line', () => {
  it('is not awaited: the payment is granted and recorded while the line is not durable, and resolution records it once', async () => {
    const journal = new JournalWithBadDisk('recorded', 'stalls');
    const { db, server, header, payload, answer } = await paidThrough(journal);
    // What a restart would find: the intent settled, its payment in the ledger.
    const [intent] = journal.unresolved();
    expect(intent).toMatchObject({ state: 'settled', transaction: localSettlementHash(payload.payload.authorization) });

    // A resend meanwhile is granted the same payment, not settled again.
    const resent = await pay(server, header);
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ access: 'granted', ledger: 'replayed', payment: { id: answer.body.payment.id } });

    const restarted = new MemorySettlementJournal([{ op: 'begin', entry: intent as NonNullable<typeof intent> }]);
    const lookup = async () => {
      throw new Error('a settled intent needs no lookup');
    };
    const resolved = await resolveSettlements({ journal: restarted, db, lookup });
    expect(resolved).toMatchObject({ recorded: [intent?.id], unknown: [], failed: [] });
    expect(restarted.unresolved()).toEqual([]);
    expect(await db.getX402PaymentsByLease('L-1')).toHaveLength(1);
    expect((await db.reconcile()).differences).toEqual([]);
  });
});

