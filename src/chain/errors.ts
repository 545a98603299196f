/**
 * The chain room's one error type: every failure to start the local node, read a deployment file
 * or deploy the contracts carries a code a caller can branch on.
 */

/** What went wrong, as a stable code. */
export type ChainErrorCode =
  /** The local node did not start or did not answer in time. */
  | 'NODE_START_FAILED'
  /** The node answered, but not as the configured local chain (chain id or accounts differ). */
  | 'NODE_MISMATCH'
  /** A deployment file is missing, not JSON, or not the documented shape. */
  | 'BAD_DEPLOYMENT_FILE'
  /** A deployment transaction failed or produced no contract. */
  | 'DEPLOY_FAILED';

/** A failure in the chain room, with a {@link ChainErrorCode}. */
export class ChainError extends Error {
  override readonly name = 'ChainError';
  readonly code: ChainErrorCode;

  constructor(code: ChainErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** True when `error` is a {@link ChainError}, optionally with the given code. */
export function isChainError(error: unknown, code?: ChainErrorCode): error is ChainError {
  return error instanceof ChainError && (code === undefined || error.code === code);
}
