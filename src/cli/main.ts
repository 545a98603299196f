/**
 * The command line of the offchain store: `leasing-store <command>` once built or installed
 * (bin/leasing-store.js runs the compiled copy of this file), `npm run cli -- <command>` in
 * development. Each command group lives in `commands/` and registers itself here.
 */
import { Command } from 'commander';
import { packageInfo } from '../package-info.js';
import { registerBackupCommand } from './commands/backup.js';
import { registerChainCommands } from './commands/chain.js';
import { registerExportCommand } from './commands/export.js';
import { registerImportCommand } from './commands/import.js';
import { registerMigrateDataCommand } from './commands/migrate-data.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerPartitionsCommands } from './commands/partitions.js';
import { registerRestoreCommand } from './commands/restore.js';
import { registerRetentionCommand } from './commands/retention.js';
import { registerReconcileCommand } from './commands/reconcile.js';
import { registerServeCommand } from './commands/serve.js';

const program = new Command('leasing-store')
  .description('Offchain data layer of the Asset Leasing Protocol')
  .version(packageInfo().version)
  .showHelpAfterError();

registerServeCommand(program);
registerMigrateCommands(program);
registerExportCommand(program);
registerImportCommand(program);
registerMigrateDataCommand(program);
registerBackupCommand(program);
registerRestoreCommand(program);
registerReconcileCommand(program);
registerChainCommands(program);
registerPartitionsCommands(program);
registerRetentionCommand(program);

await program.parseAsync(process.argv);
