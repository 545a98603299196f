// Hardhat 2 is used here only as a local EVM node (`src/chain/local-node.ts` starts
// `hardhat node` with this file). Contracts are compiled by `npm run contracts:build` with the
// pinned `solc` from npm, so Hardhat's own compile task is replaced by one that refuses: it would
// otherwise download a compiler at run time.
const { task } = require('hardhat/config');

task('compile', 'Refuses: contracts are compiled by `npm run contracts:build`').setAction(async () => {
  throw new Error('Contracts are compiled with solc from npm: run `npm run contracts:build`');
});

/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
  paths: {
    sources: './contracts',
    cache: './.chain/hardhat/cache',
    artifacts: './.chain/hardhat/artifacts',
  },
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: 'cancun',
      // The benchmark's bulk calls emit hundreds of events in one transaction.
      blockGasLimit: 1_000_000_000,
      // Every RPC call logged to stdout costs CPU; LOCAL_CHAIN_LOG=1 turns it back on.
      loggingEnabled: process.env.LOCAL_CHAIN_LOG === '1',
    },
  },
};
