/**
 * `migrate up | status | baseline`: the schema migration commands.
 *
 * Exit codes: 0 done / up to date; 1 `status` found pending, drifted or missing migrations, or
 * `up`/`baseline` failed or was refused; 2 the command could not run (connection, configuration).
 * Malformed command-line options are commander's usage errors (exit 1, with the help text).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { isStorageError } from '../../storage/contract/errors.js';
import { Migrator, type MigrationStatus } from '../../storage/backends/sql/migrator.js';
import { reportFailure } from '../output.js';
import { addBackendOptions, openDriver, type BackendOptions } from '../store-options.js';

interface MigrateOptions extends BackendOptions {
  migrationsDir?: string;
  lockTimeoutMs: number;
  json?: boolean;
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

function label(entry: { version: number; name: string }): string {
  return `${String(entry.version).padStart(3, '0')}_${entry.name}`;
}

async function withMigrator(command: Command, work: (migrator: Migrator, options: MigrateOptions) => Promise<void>): Promise<void> {
  const options = command.optsWithGlobals<MigrateOptions>();
  try {
    const driver = await openDriver(options);
    try {
      const migrator = new Migrator(driver, {
        lockTimeoutMs: options.lockTimeoutMs,
        ...(options.migrationsDir === undefined ? {} : { dir: options.migrationsDir }),
      });
      await work(migrator, options);
    } finally {
      await driver.close();
    }
  } catch (error) {
    process.exitCode = reportFailure(error);
  }
}

function printStatus(statuses: MigrationStatus[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(statuses.map((s) => ({ ...s, appliedAt: s.appliedAt?.toISOString() })))}\n`);
    return;
  }
  if (statuses.length === 0) process.stdout.write('no migrations\n');
  for (const s of statuses) {
    process.stdout.write(`${label(s).padEnd(40)} ${s.state.padEnd(8)} ${s.appliedAt?.toISOString() ?? ''}\n`.trimEnd() + '\n');
  }
}

/** Adds the `migrate` command group to `program`. */
export function registerMigrateCommands(program: Command): void {
  const migrate = addBackendOptions(program.command('migrate').description('apply and inspect schema migrations'))
    .option('--migrations-dir <dir>', 'directory of NNN_name.sql files (default: the package migrations/)')
    .option('--lock-timeout-ms <ms>', 'how long to wait for another migrator', nonNegativeInt, 60_000);

  migrate
    .command('up')
    .description('apply every pending migration, in order')
    .action((_args: unknown, command: Command) =>
      withMigrator(command, async (migrator) => {
        const outcome = await migrator.up();
        for (const result of outcome.results) {
          const detail = result.error === undefined ? '' : `: ${result.error.message}`;
          process.stdout.write(`${result.status.padEnd(12)} ${label(result)}${detail}\n`);
        }
        if (outcome.error !== undefined) {
          process.stderr.write(`error: ${outcome.error.code}: ${outcome.error.message}\n`);
          process.exitCode = 1;
        } else if (outcome.results.length === 0) {
          process.stdout.write('database is up to date\n');
        }
      }),
    );

  migrate
    .command('status')
    .description('list migrations; exits 1 when any is pending, drifted or missing')
    .option('--json', 'print JSON')
    .action((_args: unknown, command: Command) =>
      withMigrator(command, async (migrator, options) => {
        const statuses = await migrator.status();
        printStatus(statuses, options.json === true);
        if (statuses.some((s) => s.state !== 'applied')) process.exitCode = 1;
      }),
    );

  migrate
    .command('baseline')
    .description('adopt a database created by hand from the guide: record 001 as applied without running it')
    .action((_args: unknown, command: Command) =>
      withMigrator(command, async (migrator) => {
        try {
          const adopted = await migrator.baseline();
          process.stdout.write(`recorded ${label(adopted)} as applied (baseline)\n`);
        } catch (error) {
          const code = reportFailure(error);
          // A refusal (history present, objects missing) is an answer, not a failure to run.
          process.exitCode = isStorageError(error, 'CONFLICT') ? 1 : code;
        }
      }),
    );
}
