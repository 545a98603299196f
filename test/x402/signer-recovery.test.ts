/**
 * Native signer recovery (src/api/x402/signer-recovery.ts: the authorization's digest computed
 * directly, the key recovered by libsecp256k1) answers exactly what viem's
 * recoverTypedDataAddress answers, in the service's thread and on its worker threads: the
 * same address for good signatures by many keys and for signatures over other terms, and a
 * refusal for every signature viem refuses (wrong length, v outside 0/1/27/28, r or s zero or out
 * of range, an r that is no point's x). Signatures with a high s, which recovery accepts, give the
 * same (other) address in both.
 */
import { createHash } from 'node:crypto';
import { bytesToHex, hexToBytes, recoverTypedDataAddress, type Hex, type TypedDataDomain } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { authorizationTypedData } from '../../src/api/x402/authorization.js';
import { SignatureWorkerPool } from '../../src/api/x402/signature-workers.js';
import { recoverAuthorizationSigner, signerRecoveryKind } from '../../src/api/x402/signer-recovery.js';
import type { Authorization } from '../../src/api/x402/types.js';

const domain: TypedDataDomain = { name: 'USD Coin', version: '2', chainId: 84532, verifyingContract: '0x036cbd53842c5426634e7929541ec2318f3dcf7e' };
/** The secp256k1 group order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** 32 deterministic bytes per (label, index), so a failure reproduces. */
const bytes32 = (label: string, i: number): Hex => `0x${createHash('sha256').update(`${label}:${i}`).digest('hex')}`;

function authorization(from: string, i: number): Authorization {
  return { from, to: `0x${'4'.repeat(40)}`, value: String(1_000 + i), validAfter: '0', validBefore: '99999999999', nonce: bytes32('nonce', i) };
}

const typedData = (a: Authorization) => authorizationTypedData(a, domain);

/** viem's answer: the address, or 'refused' where it throws. */
async function viemAnswer(a: Authorization, signature: Hex): Promise<string> {
  return recoverTypedDataAddress({ ...typedData(a), signature }).catch(() => 'refused');
}

async function nativeAnswer(a: Authorization, signature: Hex): Promise<string> {
  return recoverAuthorizationSigner(a, domain, signature).catch(() => 'refused');
}

/** r, s and v as a 65-byte signature. */
const signatureOf = (r: bigint, s: bigint, v: number): Hex =>
  `0x${r.toString(16).padStart(64, '0')}${s.toString(16).padStart(64, '0')}${v.toString(16).padStart(2, '0')}`;

/** Every malformed or unusual variant of a good signature the tests compare. */
function variants(good: Hex): [string, Hex][] {
  const b = hexToBytes(good);
  const r = BigInt(bytesToHex(b.subarray(0, 32)));
  const s = BigInt(bytesToHex(b.subarray(32, 64)));
  const v = b[64] as number;
  const parity = v - 27;
  return [
    ['v as 0/1', signatureOf(r, s, parity)],
    ['v flipped', signatureOf(r, s, 27 + (1 - parity))],
    ['v 29', signatureOf(r, s, 29)],
    ['v 2', signatureOf(r, s, 2)],
    ['v 255', signatureOf(r, s, 255)],
    ['high s, parity flipped', signatureOf(r, N - s, 27 + (1 - parity))],
    ['high s, same parity', signatureOf(r, N - s, v)],
    ['r = 0', signatureOf(0n, s, v)],
    ['s = 0', signatureOf(r, 0n, v)],
    ['r = n', signatureOf(N, s, v)],
    ['s = n', signatureOf(r, N, v)],
    ['r = 2^256 - 1', signatureOf(2n ** 256n - 1n, s, v)],
    ['64 bytes', good.slice(0, 130) as Hex],
    ['66 bytes', `${good}00`],
    ['empty', '0x'],
    ['65 zero bytes', `0x${'00'.repeat(65)}`],
  ];
}

describe('native signer recovery', () => {
  const pool = new SignatureWorkerPool(1);
  afterAll(() => pool.close());

  it('is the one this machine uses (the binding loads)', () => {
    expect(signerRecoveryKind()).toBe('native');
  });

  it('recovers what viem recovers for 40 keys, over the signed terms and over others', async () => {
    for (let i = 0; i < 40; i++) {
      const payer = privateKeyToAccount(bytes32('key', i));
      const signed = authorization(payer.address, i);
      const signature = await payer.signTypedData(typedData(signed));
      expect(await nativeAnswer(signed, signature)).toBe(payer.address);
      const other = { ...signed, value: '1' };
      const expected = await viemAnswer(other, signature);
      expect(expected).not.toBe(payer.address);
      expect(await nativeAnswer(other, signature)).toBe(expected);
    }
  });

  it('refuses or accepts every variant of a signature exactly as viem does, in the thread and on a worker', async () => {
    const payer = privateKeyToAccount(bytes32('key', 1000));
    const signed = authorization(payer.address, 1000);
    const good = await payer.signTypedData(typedData(signed));
    const answers: Record<string, string> = {};
    for (const [name, signature] of variants(good)) {
      const expected = await viemAnswer(signed, signature);
      answers[name] = expected;
      expect([name, await nativeAnswer(signed, signature)]).toEqual([name, expected]);
      expect([name, (await pool.recover(signed, domain, signature)) ?? 'refused']).toEqual([name, expected]);
    }
    // The variants cover both outcomes: v as 0/1 is the payer, the broken ones are refused.
    expect(answers['v as 0/1']).toBe(payer.address);
    expect(answers['r = 0']).toBe('refused');
    expect(answers['v 29']).toBe('refused');
    expect(answers['64 bytes']).toBe('refused');
  });

  it('agrees with viem on 200 random 65-byte signatures (about half are no point and refused)', async () => {
    const signed = authorization(`0x${'7'.repeat(40)}`, 2000);
    const outcomes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const signature: Hex = `${bytes32('r', i)}${bytes32('s', i).slice(2)}${(27 + (i % 2)).toString(16)}`;
      const expected = await viemAnswer(signed, signature);
      outcomes.add(expected === 'refused' ? 'refused' : 'address');
      expect(await nativeAnswer(signed, signature)).toBe(expected);
    }
    expect([...outcomes].sort()).toEqual(['address', 'refused']);
  });
});
