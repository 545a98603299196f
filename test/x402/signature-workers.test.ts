/**
 * Signer recovery on worker threads (src/api/x402/signature-workers.ts) answers exactly what
 * in-thread recovery answers: the signer for a good signature, another address for a signature
 * over other terms, null for one that does not recover; concurrent calls each get their own
 * answer, and a thread that dies fails only its own calls and is replaced.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { recoverTypedDataAddress, type Hex, type TypedDataDomain } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { authorizationTypedData } from '../../src/api/x402/authorization.js';
import { SignatureWorkerPool } from '../../src/api/x402/signature-workers.js';
import type { Authorization } from '../../src/api/x402/types.js';

const payer = privateKeyToAccount(`0x${'2a'.repeat(32)}`);
const domain: TypedDataDomain = { name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036cbd53842c5426634e7929541ec2318f3dcf7e' };

function authorization(n: number): Authorization {
  return {
    from: payer.address,
    to: `0x${'4'.repeat(40)}`,
    value: String(1_000 + n),
    validAfter: '0',
    validBefore: '99999999999',
    nonce: `0x${n.toString(16).padStart(64, '0')}`,
  };
}

const sign = (a: Authorization): Promise<Hex> => payer.signTypedData(authorizationTypedData(a, domain));

describe('signature worker pool', () => {
  const pool = new SignatureWorkerPool(2);
  afterAll(() => pool.close());

  it('recovers the same signer as in-thread recovery, for many concurrent calls', async () => {
    const auths = Array.from({ length: 24 }, (_, n) => authorization(n));
    const signatures = await Promise.all(auths.map(sign));
    const recovered = await Promise.all(auths.map((a, i) => pool.recover(a, domain, signatures[i] as Hex)));
    expect(recovered).toEqual(auths.map(() => payer.address));
  });

  it('recovers another address when the signature is over other terms, and what viem recovers in-thread', async () => {
    const signed = authorization(100);
    const signature = await sign(signed);
    const claimed = { ...signed, value: '1' };
    const here = await recoverTypedDataAddress({ ...authorizationTypedData(claimed, domain), signature });
    const there = await pool.recover(claimed, domain, signature);
    expect(there).toBe(here);
    expect(there).not.toBe(payer.address);
  });

  it('answers null for a signature that does not recover', async () => {
    expect(await pool.recover(authorization(200), domain, `0x${'00'.repeat(65)}`)).toBeNull();
  });

  it('fails the calls of a thread that dies and serves the next ones on a new thread', async () => {
    const solo = new SignatureWorkerPool(1);
    try {
      const a = authorization(300);
      const signature = await sign(a);
      expect(await solo.recover(a, domain, signature)).toBe(payer.address);
      const waiting = solo.recover(a, domain, signature);
      await solo.close();
      await expect(waiting).rejects.toThrow(/exited/);
      expect(await solo.recover(a, domain, signature)).toBe(payer.address);
    } finally {
      await solo.close();
    }
  });

  it('keeps a one-shot process alive until the answer arrives, then lets it exit', async () => {
    const a = authorization(400);
    const signature = await sign(a);
    const script = `
      import { SignatureWorkerPool } from './src/api/x402/signature-workers.ts';
      const pool = new SignatureWorkerPool(1);
      pool.recover(${JSON.stringify(a)}, ${JSON.stringify(domain)}, '${signature}').then((signer) => console.log('signer', signer));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 });
    expect(stdout.trim()).toBe(`signer ${payer.address}`);
  });

  it('refuses a pool without threads', () => {
    expect(() => new SignatureWorkerPool(0)).toThrow(RangeError);
  });
});
