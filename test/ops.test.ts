/**
 * ops/: the Grafana dashboard and the Prometheus alert rules parse, and every expression in them
 * names only metrics the service exposes, read from /metrics of a running app (on PostgreSQL, so
 * the pool gauges are there) after real traffic and a payment. Metric names are found by a PromQL
 * tokenizer (test/support/promql.ts), itself tested here. The chain ingestion metrics are allowed
 * from the documented list below (docs/operations.md) until the running app exposes them itself.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { METRIC_NAMES } from '../src/api/metrics.js';
import { paymentHeader } from '../src/api/x402/client.js';
import type { PaymentRequirements } from '../src/api/x402/types.js';
import { type Running, activeLease, clientOf, startApp } from './api/support.js';
import { backend, type OpenBackend } from './support/backends.js';
import { metricNames, tokenize } from './support/promql.js';

/** Chain ingestion's metrics (docs/operations.md), allowed before the app exposes them. */
const CHAIN_METRICS = [
  'leasing_chain_head_block',
  'leasing_chain_processed_block',
  'leasing_chain_lag_blocks',
  'leasing_chain_backlog_events',
  'leasing_chain_reorgs_total',
  'leasing_chain_deep_reorgs_total',
  'leasing_chain_unacknowledged_deep_reorgs',
  'leasing_chain_events_ingested_total',
  'leasing_chain_events_processed_total',
];

const root = new URL('../', import.meta.url);
const read = (path: string) => readFile(new URL(path, root), 'utf8');

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
}

/** Every metric name the exposition lists: samples, and the series a histogram's TYPE implies. */
function exposedNames(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      const [, name = '', kind = ''] = type;
      if (kind === 'histogram' || kind === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.set(`${name}${suffix}`, kind);
      else names.set(name, kind);
    } else if (line !== '' && !line.startsWith('#')) {
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
      if (name !== undefined && !names.has(name)) names.set(name, 'sample');
    }
  }
  return names;
}

describe('the PromQL tokenizer', () => {
  it('finds metric names, and not labels, functions, keywords, durations or variables', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, route) (rate(a_seconds_bucket{route=~"/api/.*", le!="+Inf"}[5m])))')).toEqual(['a_seconds_bucket']);
    expect(metricNames('sum(rate(x_total[$__rate_interval])) by (mode) / on(mode) group_left(kind) y_info offset 1h')).toEqual(['x_total', 'y_info']);
    expect(metricNames('a > 1 and b unless c or bool d')).toEqual(['a', 'b', 'c', 'd']);
    expect(metricNames('{__name__="named_metric", job="x"} * 1e6 + count_values("v", m) - vector(0)')).toEqual(['m', 'named_metric']);
    expect(metricNames('increase(r_total[1h30m:1m]) > 0')).toEqual(['r_total']);
    expect(metricNames('label_replace(up, "a", "$1", "instance", "(.*)")')).toEqual(['up']);
    expect(tokenize('rate(m[5m])').map((t) => t.kind)).toEqual(['identifier', 'punct', 'identifier', 'punct', 'number', 'punct', 'punct']);
  });

  it('refuses an unknown function, an unbalanced bracket and a stray character', () => {
    expect(() => metricNames('rat(m[5m])')).toThrow(/unknown function rat/);
    expect(() => metricNames('sum(rate(m[5m])')).toThrow(/unclosed/);
    expect(() => metricNames('m{job="x"')).toThrow(/unclosed/);
    expect(() => metricNames('m ; n')).toThrow(/unexpected character/);
  });
});

describe('ops/: dashboard and alert rules name only metrics the service exposes', () => {
  let handle: OpenBackend;
  let server: Running;
  let exposed: Map<string, string>;
  let dashboard: { title: string; uid: string; panels: Panel[] };
  let rules: Rule[];

  beforeAll(async () => {
    handle = await backend('postgres').open();
    server = await startApp({ db: handle.db, processMetrics: true });
    const api = clientOf(server);
    await activeLease(server.url, 'SAT-OPS-1', 'L-OPS');
    const params = { path: { leaseId: 'L-OPS' }, query: { mode: 'second' as const } };
    const quote = await api.GET('/api/leases/{leaseId}/x402/requirements', { params });
    const paid = await api.POST('/api/leases/{leaseId}/access', { params: { ...params, header: { 'x-payment': paymentHeader(quote.data?.accepts[0] as PaymentRequirements) } } });
    expect(paid.data?.ledger).toBe('recorded');
    await api.GET('/api/leases/{leaseId}/batches', { params: { path: { leaseId: 'L-OPS' } } });
    const metrics = await api.GET('/metrics', { parseAs: 'text' });
    exposed = exposedNames(metrics.data ?? '');
    dashboard = JSON.parse(await read('ops/grafana/leasing-dashboard.json')) as typeof dashboard;
    rules = (parseYaml(await read('ops/prometheus/alerts.yml')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);
  });
  afterAll(async () => {
    await server?.close();
    await handle?.dispose();
  });

  const allowed = (name: string) => exposed.has(name) || CHAIN_METRICS.includes(name);

  it('the service exposes every metric of METRIC_NAMES under the conventions', () => {
    for (const name of Object.values(METRIC_NAMES)) {
      expect(exposed.has(name) || exposed.has(`${name}_bucket`), name).toBe(true);
    }
    for (const [name, kind] of exposed) {
      if (/^(process|nodejs)_/.test(name)) continue; // Node's standard metrics keep their standard names
      expect(name, name).toMatch(/^leasing_[a-z0-9_]+$/);
      if (kind === 'counter') expect(name, name).toMatch(/_total$/);
      else if (kind !== 'sample') expect(name, name).not.toMatch(/_total$/);
    }
    for (const name of CHAIN_METRICS) expect(name).toMatch(/^leasing_chain_[a-z_]+$/);
  });

  it('the dashboard parses and every panel query names exposed metrics', () => {
    expect(dashboard.uid).toBe('asset-leasing-store');
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    expect(queries.length).toBeGreaterThan(15);
    const used = new Set<string>();
    for (const { title, expr } of queries) {
      const names = metricNames(expr);
      expect(names.length, `${title}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(allowed(name), `${title}: ${name} is not exposed`).toBe(true);
        used.add(name);
      }
    }
    // Every metric of the service has a panel.
    for (const name of Object.values(METRIC_NAMES)) expect([...used].some((u) => u === name || u.startsWith(`${name}_`)), name).toBe(true);
  });

  it('the alert rules parse, cover the domain alerts and name exposed metrics', () => {
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Leasing[A-Za-z]+$/);
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      for (const name of metricNames(rule.expr)) expect(allowed(name), `${rule.alert}: ${name} is not exposed`).toBe(true);
    }
    const expr = (alert: string) => rules.find((r) => r.alert === alert)?.expr ?? '';
    expect(expr('LeasingApiLatencyHigh')).toMatch(/^histogram_quantile\(0\.95, .*leasing_http_request_duration_seconds_bucket.*\) > 0\.5$/);
    expect(expr('LeasingDbPoolNearlyExhausted')).toBe('leasing_db_pool_free_connections < 2');
    expect(metricNames(expr('LeasingChainDeepReorg'))).toEqual(['leasing_chain_unacknowledged_deep_reorgs']);
    expect(metricNames(expr('LeasingChainLagging'))).toEqual(['leasing_chain_lag_blocks']);
  });

  it('a name the service does not expose is caught', () => {
    expect(allowed('leasing_x402_payments')).toBe(false);
    expect(metricNames('rate(x402_payments_total[5m])').every(allowed)).toBe(false);
  });
});
