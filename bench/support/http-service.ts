/**
 * The service as the HTTP benchmark runs it: `startService()` exactly as src/main.ts calls it,
 * plus one benchmark-only switch over the IPC channel of its parent: `skip-signatures` swaps the
 * local facilitator for one that does every check but the signature recovery, `verify-signatures`
 * swaps it back. It answers each with `ok:<kind>` once the swap is in place. Nothing in the
 * service's configuration can turn signature checks off; only this file, which is not shipped.
 */
import type { Hex } from 'viem';
import { LocalFacilitator } from '../../src/api/facilitator/local.js';
import type { Authorization, PaymentRequirements } from '../../src/api/x402/types.js';
import { ServiceStartError, startService } from '../../src/service.js';

/** The local facilitator without its signature check: the payer is taken from the claim. */
class UnverifiedLocalFacilitator extends LocalFacilitator {
  override readonly kind = 'local-unverified';
  protected override async recoverSigner(authorization: Authorization, _signature: Hex, _requirements: PaymentRequirements): Promise<string | null> {
    return authorization.from;
  }
}

try {
  const service = await startService();
  const ctx = service.app.appContext;
  const verifying = ctx.facilitator;
  const unverified = new UnverifiedLocalFacilitator();
  process.on('message', (message) => {
    if (message === 'skip-signatures') ctx.facilitator = unverified;
    else if (message === 'verify-signatures') ctx.facilitator = verifying;
    else return;
    process.send?.(`ok:${ctx.facilitator.kind}`);
  });
} catch (error) {
  if (!(error instanceof ServiceStartError)) throw error;
  process.exit(1);
}
