/**
 * Chooses the facilitator from configuration: the HTTP client when FACILITATOR_URL is set, else
 * the local one (config.ts refuses production without a URL). No setting turns off the local
 * facilitator's signature check.
 */
import type { FacilitatorConfig } from '../../config.js';
import type { Facilitator } from './facilitator.js';
import { HttpFacilitator } from './http.js';
import { LocalFacilitator } from './local.js';

/** The facilitator interface and implementations, re-exported for callers of this module. */
export { checkFacilitatorSupport, FacilitatorError, type Facilitator, type SupportCheck } from './facilitator.js';
export { HttpFacilitator } from './http.js';
export { LocalFacilitator, localSettlementHash } from './local.js';

/** The configured facilitator. */
export function createFacilitator(config: FacilitatorConfig): Facilitator {
  if (config.url === undefined) return new LocalFacilitator();
  return new HttpFacilitator({
    url: config.url,
    apiKey: config.apiKey,
    verifyTimeoutMs: config.verifyTimeoutMs,
    settleTimeoutMs: config.settleTimeoutMs,
  });
}
