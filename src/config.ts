/**
 * Service configuration from the environment, checked once at startup. Every problem is
 * collected and reported together, so an operator fixes a bad deployment in one pass instead of
 * one restart per variable.
 */
import { isAbsolute, join } from 'node:path';
import { isAddress } from './util/hex.js';

/** Runtime environments (NODE_ENV); production selects the PostgreSQL pool's production defaults (verified TLS, 20 connections). */
export const NODE_ENVS = ['development', 'test', 'production'] as const;
/** A runtime environment. */
export type NodeEnv = (typeof NODE_ENVS)[number];

/**
 * How the service runs (LEASING_MODE). Only an explicitly named development mode gets what must
 * never reach production: the local facilitator that moves no money, write routes open without an
 * API key, the reset route, the embedded or in-memory database, and HOST 127.0.0.1 by default.
 * Any other setting, including none, is production, which refuses to start without DATABASE_URL,
 * API_KEY and FACILITATOR_URL (or FACILITATOR=chain, which settles on a node itself).
 */
export const LEASING_MODES = ['development', 'production'] as const;
/** A service mode. */
export type LeasingMode = (typeof LEASING_MODES)[number];

/** pino levels accepted by LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** USDC per x402 network, used when X402_ASSET_ADDRESS is not set (EIP-712 name and version). */
export const USDC_BY_NETWORK: Readonly<Record<string, { address: string; name: string; version: string }>> = {
  'base-sepolia': { address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', name: 'USDC', version: '2' },
  base: { address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', name: 'USD Coin', version: '2' },
};

/** Facilitator settings; no `url` and no `chain` means the local facilitator (not allowed in production). */
export interface FacilitatorConfig {
  url: string | undefined;
  /**
   * FACILITATOR=chain: settle on the EVM node at `rpcUrl` itself, sending transfers from the
   * account of `privateKey` (CHAIN_RPC_URL, FACILITATOR_PRIVATE_KEY); `searchFromBlock` is the
   * lowest block its lookup of an earlier settlement reads (FACILITATOR_SEARCH_FROM_BLOCK, the
   * token's deployment block; default 0).
   */
  chain?: { rpcUrl: string; privateKey: `0x${string}`; searchFromBlock?: number } | undefined;
  /** Bearer token sent to the facilitator, if it needs one. */
  apiKey: string | undefined;
  verifyTimeoutMs: number;
  settleTimeoutMs: number;
}

/** What the x402 requirements advertise. */
export interface X402Config {
  network: string;
  /** USDC contract address on `network`. */
  assetAddress: string;
  /** EIP-712 domain of the asset, which clients need to sign an authorization. */
  assetName: string;
  assetVersion: string;
  /** When set, every lease is paid to this address (e.g. an escrow) instead of its lessor. */
  payTo: string | undefined;
  maxTimeoutSeconds: number;
}

/** Rate limit of the paid access route, per client address. */
export interface RateLimitConfig {
  /** Requests a client may make per window. */
  max: number;
  windowMs: number;
}

/** The validated service configuration. */
export interface AppConfig {
  /** LEASING_MODE; production unless development is named. */
  mode: LeasingMode;
  /** NODE_ENV; default production in production mode, development otherwise. */
  env: NodeEnv;
  port: number;
  host: string;
  /** Bearer key for write, admin and operational routes; undefined leaves them open (development only). */
  apiKey: string | undefined;
  /** Exact origins allowed by CORS; empty disables CORS headers. */
  corsOrigins: string[];
  logLevel: LogLevel;
  /** Public base URL used in x402 `resource` fields; undefined derives it from the request. */
  publicUrl: string | undefined;
  /** Append-only file of settled payments the ledger could not record yet. */
  pendingPaymentsFile: string;
  /** The write-ahead journal of settlements (intents written before money moves). */
  settlementJournalFile: string;
  facilitator: FacilitatorConfig;
  x402: X402Config;
  /** Longest a graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Rate limit of `POST /api/leases/:leaseId/access`. */
  accessRateLimit: RateLimitConfig;
  /**
   * fastify's `trustProxy`: which proxies' X-Forwarded-For names the client (for the rate limit).
   * false: the client is the connecting address.
   */
  trustProxy: boolean | number | string[];
  /** How long a reconcile result is served before the ledger is checked again. */
  reconcileRefreshMs: number;
  /** PAYMENT_COMPACTION: whether the storage upkeep compacts closed day partitions (SQL stores). */
  compactPayments: boolean;
}

/** Thrown by {@link loadConfig}; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: string[],
    /** LEASING_MODE was not set: the message says how to try the service in development mode. */
    modeUnset = false,
  ) {
    const hint = modeUnset ? '\nLEASING_MODE is not set, so this is production mode. To try the service locally, run `npm start` (it sets LEASING_MODE=development).' : '';
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}${hint}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const MIN_API_KEY_LENGTH = 16;

/** Reads and checks the configuration; throws {@link ConfigError} listing every problem. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    // Plain digits only: Number() would accept "1e3", " 5" and "0x10", which hide typos.
    const value = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= min && value <= max)) problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return Number.isNaN(value) ? fallback : value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    return fallback;
  };
  const url = (name: string): string | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return raw.replace(/\/+$/, '');
    } catch {
      // reported below
    }
    problems.push(`${name} must be an http(s) URL`);
    return undefined;
  };
  const address = (name: string): string | undefined => {
    const raw = text(name);
    if (raw !== undefined && !isAddress(raw)) problems.push(`${name} must be 0x followed by 40 hex digits, got "${raw}"`);
    return raw;
  };

  const mode = oneOf('LEASING_MODE', LEASING_MODES, 'production');
  const production = mode === 'production';
  // What production mode needs, named all at once; the hint says how to try the service instead.
  const required = (name: string, why: string) => problems.push(`${name} is required in production mode (${why})`);
  const nodeEnv = oneOf('NODE_ENV', NODE_ENVS, production ? 'production' : 'development');
  if (!production && nodeEnv === 'production') problems.push('NODE_ENV=production contradicts LEASING_MODE=development');
  const apiKey = text('API_KEY');
  if (apiKey !== undefined && apiKey.length < MIN_API_KEY_LENGTH) problems.push(`API_KEY must be at least ${MIN_API_KEY_LENGTH} characters`);
  if (production && apiKey === undefined) required('API_KEY', 'write, admin and operational routes need a key');
  if (production && text('DATABASE_URL') === undefined) required('DATABASE_URL', 'the embedded database is for development only');
  if (production && text('USE_MOCK_DATABASE') === 'true') problems.push('USE_MOCK_DATABASE=true is for development only (nothing survives a restart)');

  const corsOrigins = (text('CORS_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const origin of corsOrigins) if (!isOrigin(origin)) problems.push(`CORS_ORIGINS: "${origin}" is not an exact origin like https://app.example.com`);

  const facilitatorUrl = url('FACILITATOR_URL');
  const facilitatorKind = oneOf('FACILITATOR', ['local', 'http', 'chain'] as const, facilitatorUrl === undefined ? 'local' : 'http');
  const chainFacilitator = chainFacilitatorFromEnv(facilitatorKind, {
    url: facilitatorUrl,
    rpcUrl: url('CHAIN_RPC_URL'),
    privateKey: text('FACILITATOR_PRIVATE_KEY'),
    problems,
  });
  if (chainFacilitator !== undefined && text('FACILITATOR_SEARCH_FROM_BLOCK') !== undefined) {
    chainFacilitator.searchFromBlock = int('FACILITATOR_SEARCH_FROM_BLOCK', 0, 0, Number.MAX_SAFE_INTEGER);
  }
  if (production && facilitatorKind !== 'chain' && facilitatorUrl === undefined && text('FACILITATOR_URL') === undefined) {
    required('FACILITATOR_URL', 'the local facilitator moves no money and checks neither balances nor used nonces');
  }

  const network = text('X402_NETWORK') ?? 'base-sepolia';
  const known = USDC_BY_NETWORK[network];
  const assetAddress = address('X402_ASSET_ADDRESS') ?? known?.address;
  if (assetAddress === undefined) problems.push(`X402_ASSET_ADDRESS is required for network "${network}" (no default USDC address)`);


  const settleTimeoutMs = int('FACILITATOR_SETTLE_TIMEOUT_MS', 30_000, 100, 300_000);
  const config: AppConfig = {
    mode,
    env: nodeEnv,
    port: int('PORT', 3001, 0, 65_535),
    host: text('HOST') ?? (production ? '0.0.0.0' : '127.0.0.1'),
    apiKey,
    corsOrigins,
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    publicUrl: url('PUBLIC_URL'),
    pendingPaymentsFile: pendingPaymentsFileFromEnv(env),
    settlementJournalFile: dataFileFromEnv(env, 'SETTLEMENT_JOURNAL_FILE', 'settlement-journal.jsonl'),
    facilitator: {
      url: facilitatorUrl,
      chain: chainFacilitator,
      apiKey: text('FACILITATOR_API_KEY'),
      verifyTimeoutMs: int('FACILITATOR_VERIFY_TIMEOUT_MS', 5_000, 100, 120_000),
      settleTimeoutMs,
    },
    x402: {
      network,
      assetAddress: assetAddress ?? '',
      assetName: text('X402_ASSET_NAME') ?? known?.name ?? 'USDC',
      assetVersion: text('X402_ASSET_VERSION') ?? known?.version ?? '2',
      payTo: address('X402_PAY_TO'),
      maxTimeoutSeconds: int('X402_MAX_TIMEOUT_SECONDS', 60, 1, 3_600),
    },
    // Long enough for a settle in flight to answer and be recorded; past it, what is still
    // settling stays in the settlement journal and is resolved at the next start.
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', settleTimeoutMs + 15_000, 0, 600_000),
    accessRateLimit: {
      max: int('ACCESS_RATE_LIMIT_MAX', 600, 1, 1_000_000),
      windowMs: int('ACCESS_RATE_LIMIT_WINDOW_SECONDS', 60, 1, 3_600) * 1000,
    },
    trustProxy: trustProxy(text('TRUST_PROXY'), problems),
    reconcileRefreshMs: int('RECONCILE_REFRESH_SECONDS', 300, 1, 86_400) * 1000,
    compactPayments: oneOf('PAYMENT_COMPACTION', ['on', 'off'] as const, 'on') === 'on',
  };
  if (problems.length > 0) throw new ConfigError(problems, production && text('LEASING_MODE') === undefined);
  return config;
}

/**
 * FACILITATOR: `chain` needs CHAIN_RPC_URL and FACILITATOR_PRIVATE_KEY (0x + 64 hex) and no
 * FACILITATOR_URL; `http` needs FACILITATOR_URL; `local` (the default without a URL) needs neither.
 */
function chainFacilitatorFromEnv(
  kind: 'local' | 'http' | 'chain',
  given: { url: string | undefined; rpcUrl: string | undefined; privateKey: string | undefined; problems: string[] },
): FacilitatorConfig['chain'] {
  const { problems } = given;
  if (kind === 'http' && given.url === undefined) problems.push('FACILITATOR=http needs FACILITATOR_URL');
  if (kind === 'local' && given.url !== undefined) problems.push('FACILITATOR=local contradicts FACILITATOR_URL');
  if (kind !== 'chain') return undefined;
  if (given.url !== undefined) problems.push('FACILITATOR=chain settles on the node itself: unset FACILITATOR_URL');
  if (given.rpcUrl === undefined) problems.push('FACILITATOR=chain needs CHAIN_RPC_URL (the EVM node to settle on)');
  if (given.privateKey === undefined || !/^0x[0-9a-fA-F]{64}$/.test(given.privateKey)) {
    problems.push('FACILITATOR=chain needs FACILITATOR_PRIVATE_KEY: 0x followed by 64 hex digits (the account that sends the transfers)');
  }
  if (given.rpcUrl === undefined || given.privateKey === undefined || !/^0x[0-9a-fA-F]{64}$/.test(given.privateKey)) return undefined;
  return { rpcUrl: given.rpcUrl, privateKey: given.privateKey as `0x${string}` };
}

/** TRUST_PROXY: unset or false, true (every proxy), a hop count, or proxy addresses and CIDR ranges. */
function trustProxy(raw: string | undefined, problems: string[]): boolean | number | string[] {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  const list = raw.split(',').map((a) => a.trim()).filter((a) => a !== '');
  if (list.length > 0 && list.every((a) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(a))) return list;
  problems.push(`TRUST_PROXY must be true, false, a hop count, or comma-separated proxy addresses or CIDR ranges, got "${raw}"`);
  return false;
}

/**
 * The pending payment file (absolute): `PENDING_PAYMENTS_FILE`, else `$DATA_DIR/pending-payments.jsonl`
 * (DATA_DIR default `./data`). Exported so a CLI finds the same file as the service.
 */
export function pendingPaymentsFileFromEnv(env: Env = process.env): string {
  return dataFileFromEnv(env, 'PENDING_PAYMENTS_FILE', 'pending-payments.jsonl');
}

/**
 * A durable file of the service (absolute): the variable `name`, else `$DATA_DIR/<fileName>`
 * (DATA_DIR default `./data`). Exported so a CLI finds the same file as the service.
 */
export function dataFileFromEnv(env: Env, name: 'PENDING_PAYMENTS_FILE' | 'SETTLEMENT_JOURNAL_FILE', fileName: string): string {
  const file = env[name]?.trim() || join(env['DATA_DIR']?.trim() || './data', fileName);
  return isAbsolute(file) ? file : join(process.cwd(), file);
}

function isOrigin(value: string): boolean {
  try {
    const parsed = new URL(value);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === value;
  } catch {
    return false;
  }
}

/** A configuration for tests and tools: development mode defaults with `overrides` applied. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({ LEASING_MODE: 'development', NODE_ENV: 'test', LOG_LEVEL: 'silent' }), ...overrides };
}
