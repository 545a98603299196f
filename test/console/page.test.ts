/**
 * The operator page in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download), a fresh profile, the service on PostgreSQL with an API key. The page asks for the
 * key, then shows the numbers the API returns after real x402 payments, updates when another
 * payment lands, loads nothing from outside the service and logs no console error. A screenshot
 * is kept in artifacts/console.png.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentMode } from '../../src/storage/contract/database.js';
import { paymentHeader } from '../../src/api/x402/client.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
import type { LeasingClient } from '../../src/client/index.js';
import { API_KEY, type Running, activeLease, clientOf, startApp } from '../api/support.js';
import { backend, type OpenBackend } from '../support/backends.js';

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));

async function pay(api: LeasingClient, leaseId: string, mode: PaymentMode): Promise<void> {
  const params = { path: { leaseId }, query: { mode } };
  const quote = await api.GET('/api/leases/{leaseId}/x402/requirements', { params });
  const requirements = quote.data?.accepts[0] as PaymentRequirements;
  const paid = await api.POST('/api/leases/{leaseId}/access', { params: { ...params, header: { 'x-payment': paymentHeader(requirements) } } });
  if (paid.data?.ledger !== 'recorded') throw new Error(`payment not recorded: ${paid.response.status} ${JSON.stringify(paid.error ?? paid.data)}`);
}

/** The raw value the page shows for a metric (its data-value). */
function shown(page: Page, name: string): Promise<string | null> {
  return page.locator(`[data-metric="${name}"]`).getAttribute('data-value');
}

describe('the operator page in Chromium', () => {
  let handle: OpenBackend;
  let server: Running;
  let api: LeasingClient;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    handle = await backend('postgres').open();
    server = await startApp({ db: handle.db });
    api = clientOf(server);
    await activeLease(server.url, 'SAT-ALPHA-1', 'L-A');
    await activeLease(server.url, 'SAT-BETA-2', 'L-B');
    await pay(api, 'L-A', 'second');
    await pay(api, 'L-B', 'batch-5s');
    profile = await mkdtemp(join(tmpdir(), 'console-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1400, height: 1100 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) foreignRequests.push(request.url());
    });
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await handle?.dispose();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  it('asks for the API key, then shows what the API returns, and follows a new payment', async () => {
    await page.goto(`${server.url}/`);
    await page.locator('#key-form').waitFor({ state: 'visible' });
    await page.fill('#api-key', API_KEY);
    await page.click('#key-form button');
    await page.locator('#console').waitFor({ state: 'visible' });
    // The key is kept for the tab only.
    expect(await page.evaluate('sessionStorage.getItem("leasing-console-api-key")')).toBe(API_KEY);

    // Settled on the API's numbers (the page polls; the ledger part every few seconds).
    await expect.poll(() => shown(page, 'revenueTotal'), { timeout: 20_000 }).toBe('6000000');
    // The status, activity and reconcile cards come from another poll, rendered together once all
    // three answers are in: wait for its first render too (on a loaded CI machine it can come after
    // the ledger's, and the page then has no value yet).
    await expect.poll(() => shown(page, 'recordedTotal'), { timeout: 20_000 }).not.toBeNull();
    const [status, activity, reconcile, active] = await Promise.all([
      api.GET('/api/system/status'),
      api.GET('/api/system/activity'),
      api.GET('/api/system/reconcile'),
      api.GET('/api/leases', { params: { query: { status: 'active' } } }),
    ]);
    const batches = await Promise.all(['L-A', 'L-B'].map(async (leaseId) => (await api.GET('/api/leases/{leaseId}/batches', { params: { path: { leaseId } } })).data?.items ?? []));
    const daily = await Promise.all(['L-A', 'L-B'].map(async (leaseId) => (await api.GET('/api/leases/{leaseId}/revenue/daily', { params: { path: { leaseId } } })).data?.items ?? []));
    const revenue = daily.flat().reduce((sum, d) => sum + BigInt(d.totalAmountMinorUnits), 0n);
    expect(revenue).toBe(6_000_000n);

    expect(await shown(page, 'recordedTotal')).toBe(String(activity.data?.totals.recorded));
    expect(activity.data?.totals.recorded).toBe(2);
    expect(await shown(page, 'activeLeases')).toBe(String(active.data?.items.length));
    expect(await shown(page, 'activeAssets')).toBe('2');
    expect(await shown(page, 'openBatches')).toBe(String(batches.flat().filter((b) => b.settlementTxHash === null).length));
    expect(await shown(page, 'settledBatches')).toBe(String(batches.flat().filter((b) => b.settlementTxHash !== null).length));
    expect(await shown(page, 'revenueTotal')).toBe(String(revenue));
    expect(await shown(page, 'pendingPayments')).toBe(String(reconcile.data?.pendingPayments.length));
    expect(await shown(page, 'consistent')).toBe(String(reconcile.data?.consistent));
    expect(await shown(page, 'poolMax')).toBe(String(status.data?.pool?.max));
    expect(await shown(page, 'eventBacklog')).toBe(String(status.data?.eventBacklog.count));
    await expect.poll(() => page.locator('#leases tbody tr').count()).toBe(2);
    await expect.poll(() => page.locator('#revenue-chart canvas').count()).toBe(1);
    // No chain ingestion in this service: the chain card stays hidden.
    expect(status.data?.chain ?? null).toBeNull();
    expect(await page.locator('#card-chain').isHidden()).toBe(true);

    // A new payment lands: the page follows without a reload.
    await pay(api, 'L-A', 'batch-5s');
    await expect.poll(() => shown(page, 'recordedTotal'), { timeout: 10_000 }).toBe('3');
    // The rate covers the last 60 s of the service's clock: read in the render that counted this
    // payment (seconds old), not one of those made in beforeAll, which a slow start can push past it.
    expect(Number(await shown(page, 'paymentsPerSecond'))).toBeGreaterThan(0);
    await expect.poll(() => shown(page, 'revenueTotal'), { timeout: 20_000 }).toBe('11000000');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
