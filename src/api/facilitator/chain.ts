/**
 * A facilitator that settles on an EVM chain itself: it verifies an x402 `exact` payment the way
 * the local facilitator does (payload shape, the ledger's payment check of amount, recipient,
 * network and validity window, the EIP-712 signature of the EIP-3009 authorization), then asks
 * the chain what only the chain knows (the authorization's nonce is unused, the payer holds the
 * amount, the token would accept the transfer now), and settles by sending
 * `transferWithAuthorization` from its own account and waiting for the receipt. The settlement
 * hash is the chain's transaction hash.
 *
 * Settling is idempotent per authorization: when the nonce is already used on chain by this very
 * authorization (a replay, or a settle whose answer was lost), the earlier transaction is the
 * answer, so no money moves twice and the ledger records one payment. `lookup` answers the
 * settlement journal the same way after a crash.
 *
 * Failure reasons use @x402/evm's names (`invalid_exact_evm_*`) where x402 has one.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  getAddress,
  parseEventLogs,
  parseSignature,
  TimeoutError,
  WaitForTransactionReceiptTimeoutError,
  type Address,
  type Hash,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { localChainReader, localChainWriter, type ChainReader, type ChainWriter } from '../../chain/clients.js';
import { usdcAbi } from '../../chain/contracts/index.js';
import type { SettlementLookupResult } from '../../ledger/resolve-settlements.js';
import { NETWORKS, networkByName, networkName } from '../x402/networks.js';
import type { Authorization, PaymentPayload, PaymentRequirements, SettleResult, SupportedKind, VerifyResult } from '../x402/types.js';
import { FacilitatorError, type Facilitator } from './facilitator.js';
import { LocalFacilitator } from './local.js';

/** x402's reasons (the names @x402/evm's exact facilitator uses). */
export const CHAIN_FAILURE = {
  nonceUsed: 'invalid_exact_evm_nonce_already_used',
  insufficientBalance: 'invalid_exact_evm_insufficient_balance',
  simulationFailed: 'invalid_exact_evm_transaction_simulation_failed',
  transactionFailed: 'invalid_exact_evm_transaction_failed',
  transferMismatch: 'invalid_exact_evm_transfer_event_mismatch',
  signature: 'invalid_exact_evm_signature',
  validBefore: 'invalid_exact_evm_payload_authorization_valid_before',
  validAfter: 'invalid_exact_evm_payload_authorization_valid_after',
  wrongChain: 'invalid_network',
} as const;

/** Options of {@link ChainFacilitator}. */
export interface ChainFacilitatorOptions {
  /** JSON-RPC URL of the node. */
  rpcUrl: string;
  /** Key of the account that sends the transfers and pays their gas. */
  privateKey: Hex;
  /** Longest wait for a transaction's receipt; past it the settle is a TIMEOUT (the journal resolves it). */
  settleTimeoutMs: number;
  /** Clock for the validity window of the offline checks (default: the system clock). */
  now?: () => Date;
  /**
   * The lowest block a settlement can be in (the token's deployment block); the search for the
   * transaction that used an authorization never reads below it (default 0).
   */
  searchFromBlock?: bigint;
  /** Most blocks one `eth_getLogs` of that search asks for (default 10,000; nodes refuse large ranges). */
  searchBlockRange?: bigint;
}

type ChainVerdict = { ok: true } | { ok: false; reason: string };

/** Verifies and settles `exact` payments by sending EIP-3009 transfers to an EVM node. */
export class ChainFacilitator implements Facilitator {
  readonly kind = 'chain';
  private readonly offline: LocalFacilitator;
  private readonly reader: ChainReader;
  private readonly writer: ChainWriter;
  private chainId: number | undefined;
  // One transaction is sent at a time, so each send reads the account's next nonce after the
  // previous one reached the node's pool.
  private sending: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ChainFacilitatorOptions) {
    this.offline = new LocalFacilitator(options.now === undefined ? {} : { now: options.now });
    this.reader = localChainReader(options.rpcUrl);
    this.writer = localChainWriter(options.rpcUrl, options.privateKey);
  }

  /** The account that sends the transfers. */
  get address(): Address {
    return this.writer.account.address;
  }

  /** `exact`, in both x402 versions, on the one network whose chain id the node reports. */
  async supported(): Promise<SupportedKind[]> {
    const chainId = await this.nodeChainId('supported');
    return NETWORKS.filter((n) => n.chainId === chainId).flatMap((n) => [
      { x402Version: 1, scheme: 'exact', network: n.v1 as SupportedKind['network'] },
      { x402Version: 2, scheme: 'exact', network: n.caip2 },
    ]);
  }

  async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResult> {
    const offline = await this.offline.verify(payload, requirements);
    if (!offline.isValid) return offline;
    const verdict = await this.chainVerdict(payload, requirements, 'verify');
    if (!verdict.ok) return { isValid: false, invalidReason: verdict.reason, ...payer(offline.payer) };
    return offline;
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult> {
    const network = this.networkOf(payload, requirements);
    const offline = await this.offline.verify(payload, requirements);
    if (!offline.isValid) return { success: false, errorReason: offline.invalidReason ?? 'invalid_payment', transaction: '', network, ...payer(offline.payer) };
    const failed = (reason: string, transaction = ''): SettleResult => ({ success: false, errorReason: reason, transaction, network, ...payer(offline.payer) });

    const verdict = await this.chainVerdict(payload, requirements, 'settle');
    if (!verdict.ok) {
      if (verdict.reason !== CHAIN_FAILURE.nonceUsed) return failed(verdict.reason);
      // Already used: by this authorization (a replay) the earlier transaction is the answer.
      const earlier = await this.earlierSettlement(payload, requirements);
      return earlier.state === 'settled' ? { success: true, transaction: earlier.transaction, network, ...payer(offline.payer) } : failed(verdict.reason);
    }

    const hash = await this.send(payload, requirements).catch((error: unknown) => {
      const reason = revertReason(error);
      if (reason !== undefined) return { refused: reason };
      throw new FacilitatorError('UNAVAILABLE', 'settle', `the node did not take the transfer: ${message(error)}`, { cause: error });
    });
    if (typeof hash !== 'string') return failed(hash.refused);

    let receipt: TransactionReceipt;
    try {
      receipt = await this.reader.waitForTransactionReceipt({ hash, timeout: this.options.settleTimeoutMs });
    } catch (error) {
      // Sent but unconfirmed: money may still move, so this is no answer; the journal's lookup
      // finds out later from the nonce.
      const code = error instanceof WaitForTransactionReceiptTimeoutError || error instanceof TimeoutError ? 'TIMEOUT' : 'UNAVAILABLE';
      throw new FacilitatorError(code, 'settle', `transaction ${hash} was sent but its receipt did not arrive: ${message(error)}`, { cause: error });
    }
    if (receipt.status !== 'success') return failed(CHAIN_FAILURE.transactionFailed, hash);
    if (!transfersExactly(receipt, requirements.asset, payload.payload.authorization)) return failed(CHAIN_FAILURE.transferMismatch, hash);
    return { success: true, transaction: hash, network, ...payer(offline.payer) };
  }

  /**
   * What became of an earlier settle: settled (with its transaction) when the authorization's
   * nonce was used on chain by this very transfer; not settled when the nonce is unused and this
   * facilitator has nothing pending; unknown otherwise.
   */
  async lookup(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettlementLookupResult> {
    const a = payload.payload.authorization;
    const used = await this.reader.readContract({ address: asAddress(requirements.asset), abi: usdcAbi, functionName: 'authorizationState', args: [asAddress(a.from), a.nonce as Hex] });
    if (used) return this.earlierSettlement(payload, requirements);
    const [latest, pending] = await Promise.all([
      this.reader.getTransactionCount({ address: this.address, blockTag: 'latest' }),
      this.reader.getTransactionCount({ address: this.address, blockTag: 'pending' }),
    ]);
    if (pending > latest) return { state: 'unknown', reason: `the nonce is unused but the facilitator ${this.address} has ${pending - latest} transaction(s) pending` };
    return { state: 'not_settled', reason: 'the authorization nonce is unused on chain' };
  }

  /** The transaction that used this authorization's nonce, if it made exactly this transfer. */
  private async earlierSettlement(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettlementLookupResult> {
    const a = payload.payload.authorization;
    const token = asAddress(requirements.asset);
    const used = await this.findAuthorizationUsed(token, a);
    if (used === undefined || used.transactionHash === null) return { state: 'unknown', reason: 'the nonce is used on chain but its AuthorizationUsed event was not found' };
    const receipt = await this.reader.getTransactionReceipt({ hash: used.transactionHash });
    if (!transfersExactly(receipt, token, a)) return { state: 'not_settled', reason: `the nonce was used by another transfer (${used.transactionHash})` };
    return { state: 'settled', transaction: used.transactionHash, payer: getAddress(a.from), network: this.networkOf(payload, requirements) };
  }

  /**
   * The `AuthorizationUsed` event of this authorization, searched only where it can be: the token
   * accepts an authorization only in a block with validAfter < timestamp < validBefore, so the
   * search runs from the first block after validAfter to the last before validBefore (found by
   * bisecting block timestamps, which never decrease), never below `searchFromBlock`, newest
   * range first, in ranges of `searchBlockRange` blocks.
   */
  private async findAuthorizationUsed(token: Address, a: Authorization) {
    const head = await this.reader.getBlockNumber({ cacheTime: 0 });
    const floor = this.options.searchFromBlock ?? 0n;
    const from = await this.firstBlockAfter(BigInt(a.validAfter), floor, head);
    const to = (await this.firstBlockAfter(BigInt(a.validBefore) - 1n, from, head)) - 1n;
    const range = this.options.searchBlockRange ?? 10_000n;
    for (let high = to; high >= from; high -= range) {
      const low = high - range + 1n > from ? high - range + 1n : from;
      const logs = await this.reader.getContractEvents({
        address: token,
        abi: usdcAbi,
        eventName: 'AuthorizationUsed',
        args: { authorizer: asAddress(a.from), nonce: a.nonce as Hex },
        fromBlock: low,
        toBlock: high,
      });
      if (logs[0] !== undefined) return logs[0];
    }
    return undefined;
  }

  /** The first block in [low, high] whose timestamp is above `seconds`, or high + 1 when none is. */
  private async firstBlockAfter(seconds: bigint, low: bigint, high: bigint): Promise<bigint> {
    let [lo, hi] = [low, high + 1n];
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      const block = await this.reader.getBlock({ blockNumber: mid, includeTransactions: false });
      if (block.timestamp > seconds) hi = mid;
      else lo = mid + 1n;
    }
    return lo;
  }

  /** Why the chain would refuse the transfer now, read (and simulated) without sending anything. */
  private async chainVerdict(payload: PaymentPayload, requirements: PaymentRequirements, operation: 'verify' | 'settle'): Promise<ChainVerdict> {
    const network = networkByName(requirements.network);
    if (network === undefined || network.chainId !== (await this.nodeChainId(operation))) return { ok: false, reason: CHAIN_FAILURE.wrongChain };
    const a = payload.payload.authorization;
    const token = asAddress(requirements.asset);
    try {
      const [used, balance] = await Promise.all([
        this.reader.readContract({ address: token, abi: usdcAbi, functionName: 'authorizationState', args: [asAddress(a.from), a.nonce as Hex] }),
        this.reader.readContract({ address: token, abi: usdcAbi, functionName: 'balanceOf', args: [asAddress(a.from)] }),
      ]);
      if (used) return { ok: false, reason: CHAIN_FAILURE.nonceUsed };
      if (balance < BigInt(a.value)) return { ok: false, reason: CHAIN_FAILURE.insufficientBalance };
      // The token's own word, at the node's clock: signature under its real domain, window, balance.
      await this.reader.simulateContract({ account: this.writer.account, address: token, abi: usdcAbi, functionName: 'transferWithAuthorization', args: transferArgs(payload) });
      return { ok: true };
    } catch (error) {
      const reason = revertReason(error);
      if (reason !== undefined) return { ok: false, reason };
      throw new FacilitatorError('UNAVAILABLE', operation, `the node did not answer: ${message(error)}`, { cause: error });
    }
  }

  private async send(payload: PaymentPayload, requirements: PaymentRequirements): Promise<Hash> {
    const turn = this.sending.then(() =>
      this.writer.writeContract({ address: asAddress(requirements.asset), abi: usdcAbi, functionName: 'transferWithAuthorization', args: transferArgs(payload) }),
    );
    this.sending = turn.catch(() => undefined);
    return turn;
  }

  private async nodeChainId(operation: FacilitatorError['operation']): Promise<number> {
    if (this.chainId === undefined) {
      try {
        this.chainId = await this.reader.getChainId();
      } catch (error) {
        throw new FacilitatorError('UNAVAILABLE', operation, `the node at ${this.options.rpcUrl} did not answer: ${message(error)}`, { cause: error });
      }
    }
    return this.chainId;
  }

  private networkOf(payload: PaymentPayload, requirements: PaymentRequirements): SettleResult['network'] {
    const network = networkByName(requirements.network);
    return (network === undefined ? requirements.network : networkName(network, payload.x402Version)) as SettleResult['network'];
  }
}

const asAddress = (value: string): Address => getAddress(value.toLowerCase());
const payer = (address: string | undefined) => (address === undefined ? {} : { payer: address });
const message = (error: unknown) => (error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error));

/**
 * `transferWithAuthorization`'s arguments: a 65-byte signature as (v, r, s), the form every
 * EIP-3009 token has; anything else (a contract wallet's) as bytes.
 */
function transferArgs(payload: PaymentPayload) {
  const a = payload.payload.authorization;
  const base = [asAddress(a.from), asAddress(a.to), BigInt(a.value), BigInt(a.validAfter), BigInt(a.validBefore), a.nonce as Hex] as const;
  const signature = (payload.payload.signature ?? '0x') as Hex;
  if (signature.length === 132) {
    const { r, s, v, yParity } = parseSignature(signature);
    return [...base, Number(v ?? BigInt(yParity + 27)), r, s] as const;
  }
  return [...base, signature] as const;
}

/** True when the receipt holds the token's Transfer of exactly this authorization. */
function transfersExactly(receipt: TransactionReceipt, token: string, a: Authorization): boolean {
  const transfers = parseEventLogs({ abi: usdcAbi, eventName: 'Transfer', logs: receipt.logs.filter((log) => log.address.toLowerCase() === token.toLowerCase()) });
  return transfers.some((t) => t.args.from.toLowerCase() === a.from.toLowerCase() && t.args.to.toLowerCase() === a.to.toLowerCase() && t.args.value === BigInt(a.value));
}

/** The x402 reason for a contract revert, or undefined when the error is not a revert (no answer). */
function revertReason(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  // A revert without decodable data still means the token refused; anything else (a transport
  // failure) is not an answer.
  const text = revert instanceof ContractFunctionRevertedError ? (revert.reason ?? revert.shortMessage) : /revert/i.test(error.message) ? error.message : undefined;
  if (text === undefined) return undefined;
  if (/authorization is used/i.test(text)) return CHAIN_FAILURE.nonceUsed;
  if (/authorization is expired/i.test(text)) return CHAIN_FAILURE.validBefore;
  if (/authorization is not yet valid/i.test(text)) return CHAIN_FAILURE.validAfter;
  if (/invalid signature/i.test(text)) return CHAIN_FAILURE.signature;
  if (/exceeds balance/i.test(text)) return CHAIN_FAILURE.insufficientBalance;
  return CHAIN_FAILURE.simulationFailed;
}
