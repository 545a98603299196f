/**
 * The ceiling signature recovery puts on paid requests (issue 14's "not reachable" needs its
 * bound): EIP-712 signer recovery of EIP-3009 authorizations, the service's own code path
 * (`SignatureWorkerPool`: the EIP-712 digest, libsecp256k1's key recovery where its binding
 * loads), on one thread per core of this machine, with nothing else to do. Every paid request
 * recovers one signer, so no implementation built on this recovery can serve more paid requests
 * per second than this.
 */
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { authorizationTypedData } from '../../src/api/x402/authorization.js';
import { SignatureWorkerPool } from '../../src/api/x402/signature-workers.js';
import type { Authorization } from '../../src/api/x402/types.js';

/**
 * Recoveries per second over `seconds`, `threads` threads (default: every core), 16 calls in
 * flight per thread, and the CPU one costs this process (its main thread and the recovery
 * threads: process.cpuUsage counts every thread).
 */
export async function recoveryBound(seconds: number, threads = availableParallelism()): Promise<{ perSecond: number; threads: number; recovered: number; cpuMsPerRecovery: number }> {
  const account = privateKeyToAccount(generatePrivateKey());
  const domain = { name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036cbd53842c5426634e7929541ec2318f3dcf7e' } as const;
  const signed = await Promise.all(
    Array.from({ length: 64 }, async () => {
      const authorization: Authorization = {
        from: account.address,
        to: '0x00000000000000000000000000000000000000aa',
        value: '277777',
        validAfter: '0',
        validBefore: String(Math.floor(Date.now() / 1000) + 600),
        nonce: `0x${randomBytes(32).toString('hex')}`,
      };
      return { authorization, signature: await account.signTypedData(authorizationTypedData(authorization, domain)) };
    }),
  );
  const pool = new SignatureWorkerPool(threads);
  try {
    // Threads start and load viem on first use: one round first, untimed.
    await Promise.all(signed.map((s) => pool.recover(s.authorization, domain, s.signature)));
    let recovered = 0;
    const end = performance.now() + seconds * 1000;
    const lane = async (i: number) => {
      while (performance.now() < end) {
        const s = signed[(recovered + i) % signed.length] as (typeof signed)[number];
        const signer = await pool.recover(s.authorization, domain, s.signature);
        if (signer?.toLowerCase() !== account.address.toLowerCase()) throw new Error('recovery bound: a signature did not recover its signer');
        recovered += 1;
      }
    };
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: threads * 16 }, (_, i) => lane(i)));
    const used = process.cpuUsage(cpu);
    return { perSecond: recovered / ((performance.now() - started) / 1000), threads, recovered, cpuMsPerRecovery: (used.user + used.system) / 1000 / recovered };
  } finally {
    await pool.close();
  }
}
