/**
 * Deploys the protocol's contracts (contracts/*.sol, compiled into src/chain/contracts) and wires
 * them together: USDC, AssetRegistry, LeaseFactory(registry), Marketplace(registry, factory,
 * USDC); then the registry and the factory accept the marketplace. The deploying account becomes
 * the USDC minter.
 */
import { getAddress, type Address, type Hash, type Hex } from 'viem';
import { assetRegistryAbi, assetRegistryBytecode, leaseFactoryAbi, leaseFactoryBytecode, marketplaceAbi, marketplaceBytecode, usdcAbi, usdcBytecode } from './contracts/index.js';
import type { ChainReader, ChainWriter } from './clients.js';
import { ChainError } from './errors.js';

/** The deployed contracts, under the names the deployment file uses. */
export interface ProtocolContracts {
  AssetRegistry: Address;
  LeaseFactory: Address;
  Marketplace: Address;
  USDC: Address;
}

/** Where the protocol was deployed. */
export interface ProtocolDeployment {
  chainId: number;
  contracts: ProtocolContracts;
  /** Block of the first deployment transaction: no protocol event can be older. */
  deploymentBlock: bigint;
}

/** Deploys and wires the four contracts as `writer`'s account; waits for every receipt. */
export async function deployProtocol(writer: ChainWriter, reader: ChainReader): Promise<ProtocolDeployment> {
  const deploy = async (name: keyof ProtocolContracts, hash: Hash) => {
    const receipt = await reader.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || receipt.contractAddress === null || receipt.contractAddress === undefined) {
      throw new ChainError('DEPLOY_FAILED', `deploying ${name} failed (transaction ${hash}, status ${receipt.status})`);
    }
    return { address: getAddress(receipt.contractAddress), block: receipt.blockNumber };
  };
  const usdc = await deploy('USDC', await writer.deployContract({ abi: usdcAbi, bytecode: usdcBytecode }));
  const registry = await deploy('AssetRegistry', await writer.deployContract({ abi: assetRegistryAbi, bytecode: assetRegistryBytecode }));
  const factory = await deploy(
    'LeaseFactory',
    await writer.deployContract({ abi: leaseFactoryAbi, bytecode: leaseFactoryBytecode, args: [registry.address] }),
  );
  const marketplace = await deploy(
    'Marketplace',
    await writer.deployContract({ abi: marketplaceAbi, bytecode: marketplaceBytecode, args: [registry.address, factory.address, usdc.address] }),
  );
  await confirm(reader, 'AssetRegistry.setMarketplace', await writer.writeContract({ address: registry.address, abi: assetRegistryAbi, functionName: 'setMarketplace', args: [marketplace.address] }));
  await confirm(reader, 'LeaseFactory.setMarketplace', await writer.writeContract({ address: factory.address, abi: leaseFactoryAbi, functionName: 'setMarketplace', args: [marketplace.address] }));
  return {
    chainId: await reader.getChainId(),
    contracts: { AssetRegistry: registry.address, LeaseFactory: factory.address, Marketplace: marketplace.address, USDC: usdc.address },
    deploymentBlock: usdc.block,
  };
}

/** Mints `amount` test USDC (minor units, 6 decimals) to each of `recipients`; `writer` must be the deployer. */
export async function mintUsdc(writer: ChainWriter, reader: ChainReader, usdc: Address, recipients: readonly Address[], amount: bigint): Promise<void> {
  for (const to of recipients) {
    await confirm(reader, `USDC.mint(${to})`, await writer.writeContract({ address: usdc, abi: usdcAbi, functionName: 'mint', args: [to, amount] }));
  }
}

async function confirm(reader: ChainReader, what: string, hash: Hex): Promise<void> {
  const receipt = await reader.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new ChainError('DEPLOY_FAILED', `${what} failed (transaction ${hash})`);
}
