/**
 * The command line of the offchain store (`npm run cli -- <command>`). Each command group lives
 * in `commands/` and registers itself here.
 */
import { Command } from 'commander';
import { registerBackupCommand } from './commands/backup.js';
import { registerExportCommand } from './commands/export.js';
import { registerImportCommand } from './commands/import.js';
import { registerMigrateDataCommand } from './commands/migrate-data.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerRestoreCommand } from './commands/restore.js';
import { registerReconcileCommand } from './commands/reconcile.js';

const program = new Command('leasing-store')
  .description('Offchain data layer of the Asset Leasing Protocol')
  .showHelpAfterError();

registerMigrateCommands(program);
registerExportCommand(program);
registerImportCommand(program);
registerMigrateDataCommand(program);
registerBackupCommand(program);
registerRestoreCommand(program);
registerReconcileCommand(program);

await program.parseAsync(process.argv);
