/**
 * authorizationDigest (src/api/x402/authorization.ts) is viem's hashTypedData of the same typed
 * data, computed directly: equal on random authorizations under several domains (names, versions,
 * chains, tokens in mixed case), at the edges of every field, and refused where viem refuses.
 */
import { createHash } from 'node:crypto';
import { bytesToHex, hashTypedData, type Hex, type TypedDataDomain } from 'viem';
import { describe, expect, it } from 'vitest';
import { authorizationDigest, authorizationDigestParts, authorizationTypedData, digestOf } from '../../src/api/x402/authorization.js';
import type { Authorization } from '../../src/api/x402/types.js';

/** Deterministic hex of `bytes` bytes per (label, index), so a failure reproduces. */
const hexOf = (label: string, i: number, bytes: number): string => {
  let out = '';
  for (let k = 0; out.length < bytes * 2; k++) out += createHash('sha256').update(`${label}:${i}:${k}`).digest('hex');
  return out.slice(0, bytes * 2);
};
const uint = (label: string, i: number): string => BigInt(`0x${hexOf(label, i, 1 + (i % 32))}`).toString();

const DOMAINS: TypedDataDomain[] = [
  { name: 'USD Coin', version: '2', chainId: 84532, verifyingContract: '0x036cbd53842c5426634e7929541ec2318f3dcf7e' },
  { name: 'USDC', version: '2', chainId: 8453, verifyingContract: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' },
  { name: 'Token with a longer name, ünïcode', version: '10', chainId: 1, verifyingContract: `0x${'ab'.repeat(20)}` },
  { name: '', version: '', chainId: 31337, verifyingContract: `0x${'00'.repeat(20)}` },
];

function randomAuthorization(i: number): Authorization {
  return {
    from: `0x${hexOf('from', i, 20)}`,
    to: `0x${hexOf('to', i, 20).toUpperCase()}`,
    value: uint('value', i),
    validAfter: uint('after', i),
    validBefore: uint('before', i),
    nonce: `0x${hexOf('nonce', i, 32)}`,
  };
}

const viemDigest = (a: Authorization, domain: TypedDataDomain): Hex => hashTypedData(authorizationTypedData(a, domain));
const directDigest = (a: Authorization, domain: TypedDataDomain): Hex => bytesToHex(authorizationDigest(a, domain));

/** The digest, or 'refused' where it throws. */
function answer(digest: () => Hex): string {
  try {
    return digest();
  } catch {
    return 'refused';
  }
}

describe('authorizationDigest', () => {
  it("equals viem's hashTypedData on 400 random authorizations under four domains", () => {
    for (let i = 0; i < 400; i++) {
      const a = randomAuthorization(i);
      const domain = DOMAINS[i % DOMAINS.length] as TypedDataDomain;
      expect([i, directDigest(a, domain)]).toEqual([i, viemDigest(a, domain)]);
    }
  });

  it('changes with every field and with the domain', () => {
    const a = randomAuthorization(1);
    const domain = DOMAINS[0] as TypedDataDomain;
    const digests = new Set([
      directDigest(a, domain),
      directDigest({ ...a, from: `0x${hexOf('other', 1, 20)}` }, domain),
      directDigest({ ...a, to: `0x${hexOf('other', 2, 20)}` }, domain),
      directDigest({ ...a, value: (BigInt(a.value) + 1n).toString() }, domain),
      directDigest({ ...a, validAfter: (BigInt(a.validAfter) + 1n).toString() }, domain),
      directDigest({ ...a, validBefore: (BigInt(a.validBefore) + 1n).toString() }, domain),
      directDigest({ ...a, nonce: `0x${hexOf('other', 3, 32)}` }, domain),
      directDigest(a, { ...domain, chainId: 1 }),
      directDigest(a, { ...domain, name: 'USDC' }),
      directDigest(a, { ...domain, version: '1' }),
      directDigest(a, { ...domain, verifyingContract: `0x${'11'.repeat(20)}` }),
    ]);
    expect(digests.size).toBe(11);
  });

  it('agrees with viem at the edges of every field, and refuses what viem refuses', () => {
    const base = randomAuthorization(7);
    const domain = DOMAINS[1] as TypedDataDomain;
    const max = (2n ** 256n - 1n).toString();
    const over = (2n ** 256n).toString();
    const cases: [string, Authorization][] = [
      ['zeros', { ...base, value: '0', validAfter: '0', validBefore: '0' }],
      ['uint256 max', { ...base, value: max, validAfter: max, validBefore: max }],
      ['value 2^256', { ...base, value: over }],
      ['validAfter 2^256', { ...base, validAfter: over }],
      ['validBefore 2^256', { ...base, validBefore: over }],
      ['zero addresses', { ...base, from: `0x${'0'.repeat(40)}`, to: `0x${'0'.repeat(40)}` }],
      ['from 19 bytes', { ...base, from: `0x${'1'.repeat(38)}` }],
      ['to 21 bytes', { ...base, to: `0x${'1'.repeat(42)}` }],
      ['nonce 31 bytes', { ...base, nonce: `0x${'2'.repeat(62)}` }],
      ['nonce 33 bytes', { ...base, nonce: `0x${'2'.repeat(66)}` }],
      ['nonce uppercase', { ...base, nonce: `0x${hexOf('nonce', 7, 32).toUpperCase()}` }],
    ];
    const outcomes: Record<string, string> = {};
    for (const [name, a] of cases) {
      const expected = answer(() => viemDigest(a, domain));
      outcomes[name] = expected === 'refused' ? 'refused' : 'digest';
      expect([name, answer(() => directDigest(a, domain))]).toEqual([name, expected]);
    }
    expect(outcomes).toMatchObject({ zeros: 'digest', 'uint256 max': 'digest', 'value 2^256': 'refused', 'from 19 bytes': 'refused', 'nonce 31 bytes': 'refused' });
  });

  it('is digestOf its parts, whose struct is the type hash and six words', () => {
    const a = randomAuthorization(3);
    const parts = authorizationDigestParts(a, DOMAINS[2] as TypedDataDomain);
    expect(parts.struct.length).toBe(7 * 32);
    expect(parts.separator.length).toBe(32);
    expect(bytesToHex(digestOf(parts))).toBe(viemDigest(a, DOMAINS[2] as TypedDataDomain));
  });
});
