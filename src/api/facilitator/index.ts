/**
 * Chooses the facilitator from configuration: the chain one with FACILITATOR=chain (it settles on
 * the node itself), the HTTP client when FACILITATOR_URL is set, else the local one (config.ts refuses production without a URL). No setting turns off the local
 * facilitator's signature check.
 */
import type { FacilitatorConfig } from '../../config.js';
import { ChainFacilitator } from './chain.js';
import type { Facilitator } from './facilitator.js';
import { HttpFacilitator } from './http.js';
import { LocalFacilitator } from './local.js';

/** The facilitator interface and implementations, re-exported for callers of this module. */
export { checkFacilitatorSupport, FacilitatorError, type Facilitator, type SupportCheck } from './facilitator.js';
export { ChainFacilitator, CHAIN_FAILURE, type ChainFacilitatorOptions } from './chain.js';
export { HttpFacilitator } from './http.js';
export { LocalFacilitator, localSettlementHash } from './local.js';

/** The configured facilitator. */
export function createFacilitator(config: FacilitatorConfig): Facilitator {
  if (config.chain !== undefined) {
    const { rpcUrl, privateKey, searchFromBlock } = config.chain;
    return new ChainFacilitator({ rpcUrl, privateKey, settleTimeoutMs: config.settleTimeoutMs, ...(searchFromBlock === undefined ? {} : { searchFromBlock: BigInt(searchFromBlock) }) });
  }
  if (config.url === undefined) return new LocalFacilitator();
  return new HttpFacilitator({
    url: config.url,
    apiKey: config.apiKey,
    verifyTimeoutMs: config.verifyTimeoutMs,
    settleTimeoutMs: config.settleTimeoutMs,
  });
}
