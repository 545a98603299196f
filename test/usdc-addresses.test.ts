/**
 * The USDC contract the service quotes per network (src/config.ts) is the one the official x402
 * EVM package knows for that chain: a mistyped address would have every payment signed for a
 * token that does not exist (a Base mainnet address off by one character went unnoticed once).
 */
import { DEFAULT_ASSETS } from '@x402/evm';
import { describe, expect, it } from 'vitest';
import { USDC_BY_NETWORK } from '../src/config.js';
import { networkByName } from '../src/api/x402/networks.js';

describe('USDC by network', () => {
  it.each(Object.entries(USDC_BY_NETWORK))('%s: the address, EIP-712 name and version of the official package', (name, usdc) => {
    const network = networkByName(name);
    expect(network, `unknown network ${name}`).toBeDefined();
    const official = (DEFAULT_ASSETS as Readonly<Record<string, readonly { asset: string; name: string; version: string }[]>>)[network?.caip2 ?? ''];
    expect(official?.[0]).toMatchObject({ asset: usdc.address, name: usdc.name, version: usdc.version });
  });
});
