/**
 * The Keccak-256 of signer recovery (src/api/x402/keccak.ts, js-sha3) is viem's: equal on every
 * length around the sponge's 136-byte block (where padding changes shape) and on the inputs a
 * recovery hashes (a 224-byte struct, a 66-byte message, a 64-byte key).
 */
import { createHash } from 'node:crypto';
import { bytesToHex, keccak256 } from 'viem';
import { describe, expect, it } from 'vitest';
import { keccak256Bytes, keccak256Hex } from '../../src/api/x402/keccak.js';

/** Deterministic bytes per (length, seed), so a failure reproduces. */
function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let k = 0; k * 32 < length; k++) out.set(createHash('sha256').update(`${length}:${seed}:${k}`).digest().subarray(0, Math.min(32, length - k * 32)), k * 32);
  return out;
}

describe('keccak256Bytes and keccak256Hex', () => {
  it('give viem’s digest for every length from 0 to 410 bytes (three blocks)', () => {
    for (let length = 0; length <= 410; length++) {
      for (const seed of [1, 2]) {
        const data = bytesOf(length, seed);
        const expected = keccak256(data);
        expect(bytesToHex(keccak256Bytes(data))).toBe(expected);
        expect(`0x${keccak256Hex(data)}`).toBe(expected);
      }
    }
  });

  it('hash a view into a larger buffer as its own bytes (a recovered key without its 0x04 prefix)', () => {
    const key = bytesOf(65, 7);
    const view = key.subarray(1);
    expect(`0x${keccak256Hex(view)}`).toBe(keccak256(key.slice(1)));
    expect(bytesToHex(keccak256Bytes(Buffer.from(view)))).toBe(keccak256(key.slice(1)));
  });

  it('return 32 fresh bytes per call', () => {
    const data = bytesOf(66, 3);
    const a = keccak256Bytes(data);
    const b = keccak256Bytes(data);
    expect(a).toHaveLength(32);
    expect(a).not.toBe(b);
    a[0] = (a[0] as number) ^ 0xff;
    expect(bytesToHex(b)).toBe(keccak256(data));
  });
});
