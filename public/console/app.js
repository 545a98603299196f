// The operator page: polls the service's own API (nothing else) and renders it. Plain ES module,
// no build step; uPlot is loaded by index.html from the service. Amounts stay exact: minor-unit
// strings are summed as BigInt and only formatted for display.

const KEY_STORAGE = 'leasing-console-api-key';
const FAST_POLL_MS = 2000;
const SLOW_POLL_MS = 6000;
const MAX_LEASES = 50;
const REVENUE_DAYS = 30;
const RATE_POINTS = 150;

const $ = (selector) => document.querySelector(selector);
const metric = (name) => document.querySelector(`[data-metric="${name}"]`);

/** Sets a metric's text (and its raw value in data-value, which the browser test compares). */
function show(name, text, raw = text) {
  const node = metric(name);
  if (node === null) return;
  node.textContent = String(text);
  node.dataset.value = String(raw);
}

/** USDC minor units (decimal string or BigInt) as "1.234567 USDC". */
function usdc(minor) {
  const value = BigInt(minor);
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const units = abs / 1_000_000n;
  const fraction = (abs % 1_000_000n).toString().padStart(6, '0');
  return `${sign}${units.toLocaleString('en-US')}.${fraction} USDC`;
}

class Unauthorized extends Error {}

async function api(path) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const headers = key ? { authorization: `Bearer ${key}` } : {};
  const response = await fetch(path, { headers, cache: 'no-store' });
  if (response.status === 401) throw new Unauthorized('the API key was refused');
  const body = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${body?.error?.code ?? ''} ${body?.error?.message ?? ''}`);
  return body;
}

/** Every page of a keyset-paginated list, up to `max` items. */
async function all(path, max) {
  const items = [];
  let after = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${separator}limit=${Math.min(100, max)}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`);
    items.push(...page.items);
    after = page.nextCursor;
  } while (after !== null && items.length < max);
  return items.slice(0, max);
}

function setState(text, error = false) {
  const node = $('#state');
  node.textContent = text;
  node.classList.toggle('error', error);
}

function askForKey(problem) {
  $('#console').hidden = true;
  $('#key-form').hidden = false;
  $('#key-problem').textContent = problem ?? '';
  setState('waiting for the API key');
  $('#api-key').focus();
}

// ---- charts -------------------------------------------------------------------------------

function chartSize(element) {
  return { width: Math.max(300, element.clientWidth - 4), height: 220 };
}

const axis = { stroke: '#8b98a5', grid: { stroke: '#2d3742' }, ticks: { stroke: '#2d3742' } };
let revenueChart = null;
let rateChart = null;
const rateSeries = [[], []];

function drawRevenue(days) {
  // days: [{ day: 'YYYY-MM-DD', minor: BigInt }], oldest first
  const xs = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  const ys = days.map((d) => Number(d.minor) / 1e6);
  const element = $('#revenue-chart');
  if (revenueChart === null) {
    revenueChart = new uPlot(
      {
        ...chartSize(element),
        // Half a day of room on each side, so the first and last bars are whole.
        scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
        axes: [axis, { ...axis, size: 70 }],
        series: [{}, { label: 'USDC', stroke: '#58a6ff', fill: 'rgba(88,166,255,0.35)', paths: uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } }],
      },
      [xs, ys],
      element,
    );
  } else {
    revenueChart.setData([xs, ys]);
  }
}

function drawRate(at, perSecond) {
  rateSeries[0].push(at);
  rateSeries[1].push(perSecond);
  if (rateSeries[0].length > RATE_POINTS) for (const s of rateSeries) s.shift();
  const element = $('#rate-chart');
  if (rateChart === null) {
    rateChart = new uPlot(
      { ...chartSize(element), scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.2)] } }, axes: [axis, axis], series: [{}, { label: 'payments/s', stroke: '#3fb950', width: 2 }] },
      rateSeries,
      element,
    );
  } else {
    rateChart.setData(rateSeries);
  }
}

// ---- rendering ----------------------------------------------------------------------------

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      tr.append(...cells.map(([text, className]) => cell(text, className)));
      return tr;
    }),
  );
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('none');
    td.colSpan = document.querySelectorAll(`#${id} th`).length;
    tr.append(td);
    body.append(tr);
  }
}

function renderStatus(status) {
  const pool = status.pool;
  show('poolTotal', pool?.total ?? 'n/a');
  show('poolIdle', pool?.idle ?? 'n/a');
  show('poolMax', pool?.max ?? 'n/a');
  show('poolWaiting', pool?.waiting ?? 'n/a');
  show('poolFree', pool ? Math.max(0, pool.max - pool.total) + pool.idle : 'n/a');
  show('eventBacklog', status.eventBacklog.count);
  const chain = status.chain ?? null;
  $('#card-chain').hidden = chain === null;
  if (chain !== null) {
    show('chainId', chain.chainId ?? '');
    show('chainLag', chain.lag ?? '–');
    show('chainHead', chain.headBlock ?? '–');
    show('chainProcessed', chain.processedBlock ?? '–');
    show('chainBacklog', chain.backlog ?? '–');
    const reorg = chain.lastReorg;
    show('chainReorg', reorg === null || reorg === undefined ? 'none' : JSON.stringify(reorg));
    show('chainError', chain.lastError ? `; error: ${chain.lastError}` : '');
  }
}

function renderActivity(activity) {
  show('paymentsPerSecond', activity.paymentsPerSecond.toFixed(2), activity.paymentsPerSecond);
  show('windowSeconds', activity.windowSeconds);
  show('recordedTotal', activity.totals.recorded);
  show('replayedTotal', activity.totals.replayed);
  drawRate(Date.now() / 1000, activity.paymentsPerSecond);
}

function renderReconcile(report) {
  const unknown = report.unresolvedSettlements.filter((s) => s.state === 'unknown');
  show('pendingPayments', report.pendingPayments.length);
  show('unknownSettlements', unknown.length);
  show('unresolvedSettlements', report.unresolvedSettlements.length);
  show('consistent', report.consistent ? 'consistent' : 'INCONSISTENT', report.consistent);
  show('differences', report.differences.length);
  show('batchesChecked', report.batchesChecked);
  show('checkedAt', new Date(report.checkedAt).toLocaleTimeString(), report.checkedAt);
  $('#card-reconcile').className = `card ${report.consistent ? 'ok' : 'bad'}`;
  $('#card-pending').className = `card ${report.pendingPayments.length + unknown.length === 0 ? 'ok' : 'bad'}`;
  fillTable('outside', [
    ...report.pendingPayments.map((p) => [['pending payment'], [p.leaseId], [p.facilitatorTxHash], [p.error], [p.createdAt]]),
    ...report.unresolvedSettlements.map((s) => [['settlement'], [String(s.leaseId ?? '')], [s.id], [s.state], [String(s.createdAt ?? '')]]),
  ]);
}

async function renderLedger() {
  const active = await all('/api/leases?status=active', MAX_LEASES);
  const leases = await all('/api/leases', MAX_LEASES);
  const assetIds = [...new Set(active.map((l) => l.assetId))];
  const assets = new Map(await Promise.all(assetIds.map(async (id) => [id, await api(`/api/assets/${encodeURIComponent(id)}`)])));
  const from = new Date(Date.now() - REVENUE_DAYS * 86_400_000).toISOString();
  const perLease = await Promise.all(
    leases.map(async (lease) => {
      const id = encodeURIComponent(lease.leaseId);
      const [batches, revenue] = await Promise.all([all(`/api/leases/${id}/batches`, 500), all(`/api/leases/${id}/revenue/daily?from=${encodeURIComponent(from)}`, REVENUE_DAYS + 1)]);
      return { lease, batches, revenue };
    }),
  );

  const days = new Map();
  let revenueTotal = 0n;
  let revenuePayments = 0;
  let openAmount = 0n;
  const batches = [];
  for (const { batches: leaseBatches, revenue } of perLease) {
    for (const d of revenue) {
      days.set(d.day, (days.get(d.day) ?? 0n) + BigInt(d.totalAmountMinorUnits));
      revenueTotal += BigInt(d.totalAmountMinorUnits);
      revenuePayments += d.paymentCount;
    }
    for (const b of leaseBatches) {
      batches.push(b);
      if (b.settlementTxHash === null) openAmount += BigInt(b.totalAmountMinorUnits);
    }
  }
  const open = batches.filter((b) => b.settlementTxHash === null).length;
  show('activeLeases', active.length);
  show('activeAssets', assetIds.length);
  show('openBatches', open);
  show('settledBatches', batches.length - open);
  show('openBatchAmount', usdc(openAmount), openAmount);
  show('revenueTotal', usdc(revenueTotal), revenueTotal);
  show('revenuePayments', revenuePayments);
  $('#lease-note').textContent = active.length === MAX_LEASES ? `(the first ${MAX_LEASES})` : '';

  const byLease = new Map(perLease.map((p) => [p.lease.leaseId, p]));
  fillTable(
    'leases',
    active.map((lease) => {
      const entry = byLease.get(lease.leaseId);
      const openBatch = entry?.batches.filter((b) => b.settlementTxHash === null).sort((a, b) => b.hourBucket.localeCompare(a.hourBucket))[0];
      const leaseRevenue = (entry?.revenue ?? []).reduce((sum, d) => sum + BigInt(d.totalAmountMinorUnits), 0n);
      const asset = assets.get(lease.assetId);
      const name = asset?.metadata?.name ? `${lease.assetId} (${asset.metadata.name})` : lease.assetId;
      return [[lease.leaseId], [name], [lease.lessee], [openBatch ? `${openBatch.paymentCount} payments, ${usdc(openBatch.totalAmountMinorUnits)}` : 'none'], [usdc(leaseRevenue), 'num']];
    }),
  );
  batches.sort((a, b) => b.hourBucket.localeCompare(a.hourBucket) || a.leaseId.localeCompare(b.leaseId));
  fillTable(
    'batches',
    batches.slice(0, 20).map((b) => [[b.leaseId], [b.hourBucket], [String(b.paymentCount), 'num'], [usdc(b.totalAmountMinorUnits), 'num'], [b.settlementTxHash === null ? 'open' : `settled ${b.settlementTxHash.slice(0, 10)}…`]]),
  );

  // One bar per day of the window, zero where nothing was paid.
  const series = [];
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  for (let i = REVENUE_DAYS - 1; i >= 0; i -= 1) {
    const day = new Date(today - i * 86_400_000).toISOString().slice(0, 10);
    series.push({ day, minor: days.get(day) ?? 0n });
  }
  drawRevenue(series);
}

// ---- polling ------------------------------------------------------------------------------

let stopped = false;

async function poll(task, interval) {
  while (!stopped) {
    try {
      await task();
      setState(`updated ${new Date().toLocaleTimeString()}`);
    } catch (error) {
      if (error instanceof Unauthorized) {
        stopped = true;
        sessionStorage.removeItem(KEY_STORAGE);
        askForKey(error.message);
        return;
      }
      setState(`refresh failed: ${error.message}`, true);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

async function fast() {
  const [status, activity, reconcile] = await Promise.all([api('/api/system/status'), api('/api/system/activity'), api('/api/system/reconcile')]);
  renderStatus(status);
  renderActivity(activity);
  renderReconcile(reconcile);
}

function start() {
  stopped = false;
  $('#key-form').hidden = true;
  $('#console').hidden = false;
  void poll(fast, FAST_POLL_MS);
  void poll(renderLedger, SLOW_POLL_MS);
}

$('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('#api-key').value.trim();
  if (key === '') return;
  sessionStorage.setItem(KEY_STORAGE, key);
  $('#api-key').value = '';
  start();
});

const auth = await api('/api/system/auth');
if (auth.apiKeyRequired && !sessionStorage.getItem(KEY_STORAGE)) askForKey();
else start();
