/**
 * The chain room: the protocol's contracts (ABIs and bytecode generated from contracts/*.sol),
 * deploying them, the deployment file, viem clients for the local node and the local node itself.
 * It imports only util and the storage contract, never a backend, the ledger or the API.
 */
export * from './contracts/index.js';
export { localChain, localChainReader, localChainWriter, type ChainReader, type ChainWriter } from './clients.js';
export { deployProtocol, mintUsdc, type ProtocolContracts, type ProtocolDeployment } from './deploy.js';
export { DEFAULT_DEPLOYMENT_FILE, parseDeploymentFile, readDeploymentFile, writeDeploymentFile, type DeploymentFile } from './deployment-file.js';
export { ChainError, isChainError, type ChainErrorCode } from './errors.js';
export {
  LOCAL_CHAIN_ACCOUNT_COUNT,
  LOCAL_CHAIN_ID,
  LOCAL_CHAIN_MNEMONIC,
  localChainPrivateKeys,
  startLocalChain,
  type LocalChain,
  type StartLocalChainOptions,
} from './local-node.js';
