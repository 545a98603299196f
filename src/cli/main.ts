/**
 * The command line of the offchain store (`npm run cli -- <command>`). Each command group lives
 * in `commands/` and registers itself here.
 */
import { Command } from 'commander';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerReconcileCommand } from './commands/reconcile.js';

const program = new Command('leasing-store')
  .description('Offchain data layer of the Asset Leasing Protocol')
  .showHelpAfterError();

registerMigrateCommands(program);
registerReconcileCommand(program);

await program.parseAsync(process.argv);
